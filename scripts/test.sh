#!/usr/bin/env bash
# scripts/test.sh: set up (install, build) and run the whole test suite.
#
#   scripts/test.sh [extra ctest args]
#
# The interop tests make a Python virtual environment in the build tree and
# pip-install the reference `safetensors` and `numpy` into it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR="${WS_BUILD_DIR:-build}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
