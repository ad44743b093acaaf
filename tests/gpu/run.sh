#!/usr/bin/env bash
# tests/gpu/run.sh: the GPU destination on a machine with an NVIDIA GPU.
#
#   tests/gpu/run.sh            # from anywhere; ~3-6 minutes on a fresh build
#
# Builds if needed (scripts/setup.sh, then cmake into ./build, which must
# find the CUDA toolkit), runs the GPU tests (gpu_test, nothing skipped),
# then benchmarks `weightctl load` of a 4 GiB model over loopback into host
# memory and into GPU memory: median GB/s of 3 runs each, and their ratio.
# The table goes to build/gpu-results.md. Without a GPU it stops at once,
# with a message, exit status 1. Env: WS_BUILD_DIR (default build),
# WS_GPU_DEVICE (default cuda:0), WS_GPU_MODEL_MIB (default 4096).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${WS_BUILD_DIR:-build}
DEVICE=${WS_GPU_DEVICE:-cuda:0}
MIB=${WS_GPU_MODEL_MIB:-4096}
RESULTS=$BUILD/gpu-results.md
die() { echo "gpu/run.sh: $*" >&2; exit 1; }

command -v nvidia-smi >/dev/null 2>&1 || die "nvidia-smi not found: this needs a machine with an NVIDIA GPU and its driver"
nvidia-smi -L >/dev/null 2>&1 || die "nvidia-smi finds no usable GPU ($(nvidia-smi -L 2>&1 | head -1))"
GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)
echo "gpu/run.sh: $GPU"

# Build (setup.sh is idempotent) and make sure the CUDA destination is in.
if [ ! -x "$BUILD/cli/weightctl" ] || [ ! -x "$BUILD/tests/gpu/gpu_test" ]; then
  WS_BUILD_DIR=$BUILD scripts/setup.sh
fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release | grep -q "CUDA destination: on" \
  || die "cmake found no CUDA toolkit (install it, or pass -DCUDAToolkit_ROOT=...)"
cmake --build "$BUILD" --target weightctl weightserver ws_make_model gpu_test

# GPU tests: every one must run, none may skip.
"$BUILD/tests/gpu/gpu_test" --gtest_brief=1 | tee "$BUILD/gpu-test.log"
if grep -q "SKIPPED" "$BUILD/gpu-test.log" && ! grep -q "WithoutGpu" "$BUILD/gpu-test.log"; then
  die "some GPU tests skipped although a GPU is present (see $BUILD/gpu-test.log)"
fi

# Benchmark: a 4 GiB model served on loopback.
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
"$BUILD/tools/ws_make_model" --out "$WORK/repo/big" --size_mib "$MIB" --shards 4 >/dev/null
"$BUILD/server/weightserver" --repo "$WORK/repo" --listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  grep -q "listening on" "$WORK/server.log" && break
  sleep 0.1
done
ADDR=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$WORK/server.log" | head -1)
[ -n "$ADDR" ] || die "the server did not start: $(cat "$WORK/server.log")"

# One load; prints its GB/s ("loaded N tensors, X GiB in T s (R GB/s)...").
load_rate() {
  timeout 120 "$BUILD/cli/weightctl" --server "$ADDR" load big --device "$1" \
    | sed -n 's/.*(\([0-9.]*\) GB\/s).*/\1/p'
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
run3() {
  local r=() x
  load_rate "$1" >/dev/null  # Warm-up: page cache, CUDA context.
  for _ in 1 2 3; do
    x=$(load_rate "$1"); [ -n "$x" ] || die "load --device $1 failed"
    r+=("$x")
  done
  echo "${r[*]}"
}
HOST_RUNS=$(run3 cpu)
GPU_RUNS=$(run3 "$DEVICE")
HOST=$(median3 $HOST_RUNS)
GPU_RATE=$(median3 $GPU_RUNS)
RATIO=$(awk -v g="$GPU_RATE" -v h="$HOST" 'BEGIN { printf "%.2f", g / h }')
{
  echo "# GPU destination: weightctl load, ${MIB} MiB model, loopback"
  echo
  echo "GPU: $GPU  (date: $(date -u +%FT%TZ))"
  echo
  echo "| destination | runs (GB/s) | median GB/s |"
  echo "|---|---|---|"
  echo "| host memory (cpu) | $HOST_RUNS | $HOST |"
  echo "| GPU memory ($DEVICE) | $GPU_RUNS | $GPU_RATE |"
  echo
  echo "GPU / host ratio: $RATIO"
} | tee "$RESULTS"
echo "gpu/run.sh: results in $RESULTS"
