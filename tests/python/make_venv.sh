#!/usr/bin/env bash
# tests/python/make_venv.sh VENV [EXTRA PIP PACKAGES...]: the virtual
# environment of the Python SDK's tests and of the Python benchmarks. Makes
# VENV (once) with the test dependencies (torch and transformers included),
# pip-installs ./python into it (rebuilt when the sources changed), then any
# EXTRA packages that are not installed yet (bench/peers.py: the loaders it
# compares with). Used by run_pytest.sh and bench/peers.py.
set -euo pipefail
venv="$1"
shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
pip_install() {
  local i
  for i in 1 2 3; do
    "$venv/bin/pip" install -q --disable-pip-version-check "$@" && return 0
    echo "make_venv: pip install $* failed (try $i of 3)" >&2
    sleep $((i * 10))
  done
  echo "make_venv: could not pip install $* into $venv" >&2
  return 1
}
if ! "$venv/bin/python" -c "import torch, transformers, safetensors, ml_dtypes, pytest, nanobind, scikit_build_core" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  pip_install numpy ml_dtypes "safetensors>=0.4" pytest torch "transformers>=4.45" \
    "nanobind>=2.0" "scikit-build-core>=0.10"
fi
# Added later (tests/test_metrics.py parses the /metrics scrape with
# prometheus_client; tests/test_hf_cache.py lays out a cache with
# huggingface_hub): installed into an existing venv rather than rebuilding
# it (torch is 3 GB).
if ! "$venv/bin/python" -c "import prometheus_client, huggingface_hub" 2>/dev/null; then
  pip_install prometheus_client huggingface_hub
fi
# The package, built against this checkout without build isolation (the venv
# has the build requirements); scikit-build-core keeps its build tree in
# python/build/, so a rerun only rebuilds what changed.
# Not retried: a build error is reported once, at once.
"$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps "$root/python"
if [ $# -gt 0 ]; then
  pip_install "$@"
fi
