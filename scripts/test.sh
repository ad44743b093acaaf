#!/usr/bin/env bash
# scripts/test.sh: set up (install, build) and run the whole test suite.
#
#   scripts/test.sh [extra ctest args]
#
# The interop tests make a Python virtual environment in the build tree and
# pip-install the reference `safetensors` and `numpy` into it. After CTest,
# the soak test (tests/soak/) runs for $WS_SOAK_SECONDS (default 30; 0 skips
# it; it is left out when ctest args are given).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR="${WS_BUILD_DIR:-build}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
SOAK_S="${WS_SOAK_SECONDS:-30}"
if [ $# -eq 0 ] && [ "$SOAK_S" != 0 ]; then
  "$BUILD_DIR/tests/soak/ws_soak" --duration_s "$SOAK_S" 2>"$BUILD_DIR/soak.log" ||
    { echo "soak failed (its stderr, with the daemon's log: $BUILD_DIR/soak.log)" >&2; exit 1; }
fi
