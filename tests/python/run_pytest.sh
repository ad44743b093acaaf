#!/usr/bin/env bash
# tests/python/run_pytest.sh WEIGHTSERVER VENV [PYTEST ARGS...]: the Python
# SDK's tests (python/tests) against the real daemon. Makes VENV (once) with
# the test dependencies (torch and transformers included: these tests are
# never skipped),
# pip-installs ./python into it (rebuilt when the sources changed), runs
# pytest.
set -euo pipefail
server="$1"; venv="$2"
shift 2
root="$(cd "$(dirname "$0")/../.." && pwd)"
pip_install() {
  local i
  for i in 1 2 3; do
    "$venv/bin/pip" install -q --disable-pip-version-check "$@" && return 0
    echo "python tests: pip install $* failed (try $i of 3)" >&2
    sleep $((i * 10))
  done
  return 1
}
if ! "$venv/bin/python" -c "import torch, transformers, safetensors, ml_dtypes, pytest, nanobind, scikit_build_core" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  pip_install numpy ml_dtypes "safetensors>=0.4" pytest torch "transformers>=4.45" \
    "nanobind>=2.0" "scikit-build-core>=0.10"
fi
# The package, built against this checkout without build isolation (the venv
# has the build requirements); scikit-build-core keeps its build tree in
# python/build/, so a rerun only rebuilds what changed.
# Not retried: a build error is reported once, at once.
"$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps "$root/python"
cd "$root/python"
WS_SERVER_BIN="$server" exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
