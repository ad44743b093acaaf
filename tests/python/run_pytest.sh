#!/usr/bin/env bash
# tests/python/run_pytest.sh WEIGHTSERVER VENV [PYTEST ARGS...]: the Python
# SDK's tests (python/tests) against the real daemon. Makes VENV and installs
# ./python into it (make_venv.sh: torch and transformers included, these
# tests are never skipped), runs pytest.
set -euo pipefail
server="$1"; venv="$2"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/make_venv.sh" "$venv"
cd "$here/../../python"
WS_SERVER_BIN="$server" exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
