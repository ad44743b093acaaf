#!/usr/bin/env bash
# tests/interop/run_interop.sh WEIGHTSERVER WEIGHTCTL VENV [ARGS...]
# Makes VENV (once) with the reference safetensors + numpy, then runs the
# interop tests with it; ARGS go to interop_test.py (its options, then
# unittest's: test names).
set -euo pipefail
server="$1"; ctl="$2"; venv="$3"
shift 3
here="$(cd "$(dirname "$0")" && pwd)"
if ! "$venv/bin/python" -c "import safetensors, numpy" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  for i in 1 2 3; do
    "$venv/bin/pip" install -q --disable-pip-version-check "safetensors>=0.4" numpy && break
    [ "$i" = 3 ] && { echo "interop: pip install failed"; exit 1; }
    sleep $((i * 10))
  done
fi
"$venv/bin/python" -c "import safetensors, numpy; print('reference safetensors', safetensors.__version__, 'numpy', numpy.__version__)"
exec "$venv/bin/python" "$here/interop_test.py" --server "$server" --weightctl "$ctl" "$@" -v
