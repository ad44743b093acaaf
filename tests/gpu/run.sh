#!/usr/bin/env bash
# tests/gpu/run.sh: the GPU destination on a machine with an NVIDIA GPU.
#
#   tests/gpu/run.sh            # from anywhere; ~3-6 minutes on a fresh build
#
# Builds if needed (scripts/setup.sh, then cmake into ./build, which must
# find the CUDA toolkit), runs the GPU tests (gpu_test, nothing skipped;
# python/tests/test_gpu.py too when the Python package is importable),
# then, over loopback with a 4 GiB model (4 files):
#   - `weightctl load` into host memory and into GPU memory, whole and as
#     one rank's column shard (--shard -1/0/2): median GB/s of 3 runs each;
#   - a sweep over --connections x --streams of host loads: GB/s, and the
#     client's and the server's CPU seconds per GB;
#   - 8 tensor-parallel ranks (--shard -1/R/8) at once, into host memory
#     and into GPU memory, against one whole load (median of 3), with the
#     CPU seconds of the ranks and of the server.
# The tables go to build/gpu-results.md. Without a GPU it stops at once,
# with a message, exit status 1. Env: WS_BUILD_DIR (default build),
# WS_GPU_DEVICE (default cuda:0), WS_GPU_MODEL_MIB (default 4096),
# WS_GPU_PREBUILT=1 (use the binaries in WS_BUILD_DIR as they are, with
# WS_BUILD_DIR/lib on the library path: a folder made by tests/gpu/bundle.sh
# for a GPU machine without the build dependencies).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=$(realpath -m "${WS_BUILD_DIR:-build}")
DEVICE=${WS_GPU_DEVICE:-cuda:0}
MIB=${WS_GPU_MODEL_MIB:-4096}
RESULTS=$BUILD/gpu-results.md
die() { echo "gpu/run.sh: $*" >&2; exit 1; }
# A failed test is reported and the run goes on to the benchmark; the exit
# status is 1 at the end.
FAILED=()
fail() { echo "gpu/run.sh: FAILED: $*" >&2; FAILED+=("$*"); }

command -v nvidia-smi >/dev/null 2>&1 || die "nvidia-smi not found: this needs a machine with an NVIDIA GPU and its driver"
nvidia-smi -L >/dev/null 2>&1 || die "nvidia-smi finds no usable GPU ($(nvidia-smi -L 2>&1 | head -1))"
GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)
echo "gpu/run.sh: $GPU"

if [ "${WS_GPU_PREBUILT:-0}" = 1 ]; then
  [ -d "$BUILD/lib" ] && export LD_LIBRARY_PATH="$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  # Build (setup.sh is idempotent) and make sure the CUDA destination is in.
  if [ ! -x "$BUILD/cli/weightctl" ] || [ ! -x "$BUILD/tests/gpu/gpu_test" ]; then
    WS_BUILD_DIR=$BUILD scripts/setup.sh
  fi
  # grep without -q reads to the end: cmake must not die of a closed pipe.
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release | grep "CUDA destination: on" >/dev/null \
    || die "cmake found no CUDA toolkit (install it, or pass -DCUDAToolkit_ROOT=...)"
  cmake --build "$BUILD" --target weightctl weightserver ws_make_model gpu_test
fi

# GPU tests: every one must run, none may skip.
"$BUILD/tests/gpu/gpu_test" >"$BUILD/gpu-test.log" 2>&1 || fail "gpu_test (see $BUILD/gpu-test.log)"
grep -E '^\[ +(OK|FAILED|SKIPPED|PASSED) +\]' "$BUILD/gpu-test.log" || true
if grep -E '^\[  SKIPPED \] [A-Za-z]+\.' "$BUILD/gpu-test.log" | grep -v WithoutGpu; then
  fail "the GPU tests above skipped although a GPU is present"
fi

# The Python SDK's GPU tests, with the package bundle.sh unpacked into
# $BUILD/python, or else an installed one.
PY_PATH=$BUILD/python
[ -d "$PY_PATH" ] || PY_PATH=""
if PYTHONPATH=$PY_PATH python3 -c "import weightserver, torch, pytest, safetensors, ml_dtypes" 2>/dev/null; then
  PYTHONPATH=$PY_PATH WS_SERVER_BIN=$BUILD/server/weightserver \
    python3 -m pytest -q -p no:cacheprovider -rs python/tests/test_gpu.py >"$BUILD/gpu-python.log" 2>&1 ||
    fail "python/tests/test_gpu.py (see $BUILD/gpu-python.log)"
  cat "$BUILD/gpu-python.log"
  if grep "SKIPPED" "$BUILD/gpu-python.log" | grep -v "a CUDA device is present"; then
    fail "Python GPU tests skipped although a GPU is present"
  fi
else
  echo "gpu/run.sh: the Python GPU tests need weightserver, torch, pytest, safetensors and ml_dtypes importable: not run"
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

CTL=("$BUILD/cli/weightctl" --server "$ADDR")
TICK=$(getconf CLK_TCK)
# CPU seconds the server has used so far (utime + stime).
server_cpu() { awk -v t="$TICK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$SERVER_PID/stat"; }

# One load (weightctl flags, then load args); prints "GB/s client_cpu_s":
# the rate weightctl reports ("loaded N tensors, X GiB in T s (R GB/s)...")
# and the user + system seconds bash's `time` measured for it.
load_once() {
  local out t
  out=$( { TIMEFORMAT='%U %S'; time timeout 120 "${CTL[@]}" "$@" >"$WORK/load.out"; } 2>&1 ) ||
    die "weightctl $* failed: $(cat "$WORK/load.out") $out"
  t=$(echo "$out" | tail -1 | awk '{ print $1 + $2 }')
  echo "$(sed -n 's/.*(\([0-9.]*\) GB\/s).*/\1/p' "$WORK/load.out") $t"
}
# The page size of the client's arenas, as client/host_arena.cc chooses it:
# WEIGHTSERVER_HUGE_PAGES=1|0, else 4 KiB pages where a virtio balloon
# reports free pages to its host (feature bit 5), huge pages elsewhere.
arena_pages() {
  case "${WEIGHTSERVER_HUGE_PAGES:-}" in
    1) echo "huge pages (WEIGHTSERVER_HUGE_PAGES=1)"; return ;;
    0) echo "4 KiB pages (WEIGHTSERVER_HUGE_PAGES=0)"; return ;;
  esac
  local f
  for f in /sys/bus/virtio/drivers/virtio_balloon/*/features; do
    [ -r "$f" ] && [ "$(cut -c6 "$f")" = 1 ] && { echo "4 KiB pages (free page reporting)"; return; }
  done
  echo "huge pages (transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown))"
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
# Three runs after a warm-up (page cache, CUDA context); prints the rates.
run3() {
  local r=() x
  load_once "$@" >/dev/null
  for _ in 1 2 3; do
    x=$(load_once "$@" | cut -d' ' -f1); [ -n "$x" ] || die "load $* printed no rate"
    r+=("$x")
  done
  echo "${r[*]}"
}
row() {  # LABEL weightctl-args...
  local label=$1 runs
  shift
  runs=$(run3 "$@")
  echo "| $label | $runs | $(median3 $runs) |"
}

{
  echo "# GPU destination: weightctl load, ${MIB} MiB model (4 files), loopback"
  echo
  echo "GPU: $GPU; $(nproc) CPUs (date: $(date -u +%FT%TZ)); the client's arenas in $(arena_pages)"
  echo
  echo "| destination | runs (GB/s) | median GB/s |"
  echo "|---|---|---|"
  row "host memory (cpu)" load big --device cpu
  row "GPU memory ($DEVICE)" load big --device "$DEVICE"
  row "host memory, column shard 0 of 2" load big --device cpu --shard -1/0/2
  row "GPU memory, column shard 0 of 2" load big --device "$DEVICE" --shard -1/0/2
  echo
  echo "Sweep, host memory, one run each after a warm-up: GB/s and CPU seconds per GB"
  echo
  echo "| connections | streams | GB/s | client CPU s/GB | server CPU s/GB |"
  echo "|---|---|---|---|---|"
  GB=$(awk -v m="$MIB" 'BEGIN { print m * 1048576 / 1e9 }')
  load_once load big >/dev/null
  for c in 1 2 4 8; do
    for s in 4 8 16 32; do
      [ "$s" -ge "$c" ] || continue
      before=$(server_cpu)
      read -r rate ccpu < <(load_once --connections "$c" --streams "$s" load big)
      after=$(server_cpu)
      awk -v c="$c" -v s="$s" -v r="$rate" -v cc="$ccpu" -v sc="$(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')" -v gb="$GB" \
        'BEGIN { printf "| %d | %d | %s | %.2f | %.2f |\n", c, s, r, cc / gb, sc / gb }'
    done
  done
  echo
  echo "8 tensor-parallel ranks (--shard -1/R/8) at once against one whole load, into host"
  echo "memory and into $DEVICE: wall seconds of the processes (start, and the CUDA context"
  echo "for $DEVICE, included), the median of 3 runs of each with its CPU seconds (the"
  echo "client's, all 8 ranks', the server's)"
  echo
  echo "| destination | one whole load s | its CPU s: client / server | 8 ranks at once s | CPU s: 8 ranks / server | ratio |"
  echo "|---|---|---|---|---|---|"
  wall() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'; }
  for dev in cpu "$DEVICE"; do
    load_once load big --device "$dev" >/dev/null
    ones=() stats=()
    for _ in 1 2 3; do
      before=$(server_cpu)
      start=$(date +%s.%N)
      ccpu=$(load_once load big --device "$dev")
      ones+=("$(wall "$start") $(printf '%.2f' "${ccpu#* }") $(awk -v a="$(server_cpu)" -v b="$before" 'BEGIN { printf "%.2f", a - b }')")
      before=$(server_cpu)
      start=$(date +%s.%N)
      # bash's `time` of the group: the CPU of the children it waited for.
      # Only its report goes to the file (fd 3 keeps the group's stderr).
      failed=0
      { TIMEFORMAT='%U %S'; time {
        pids=()
        for r in 0 1 2 3 4 5 6 7; do
          timeout 120 "${CTL[@]}" load big --device "$dev" --shard "-1/$r/8" >"$WORK/rank$r.out" 2>&1 &
          pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || failed=1; done
      } 2>&3; } 3>&2 2>"$WORK/ranks.time"
      [ "$failed" = 0 ] || die "a rank failed: $(cat "$WORK"/rank*.out)"
      eight=$(wall "$start")
      cpu=$(awk 'END { printf "%.2f", $1 + $2 }' "$WORK/ranks.time")
      stats+=("$eight $cpu $(awk -v a="$(server_cpu)" -v b="$before" 'BEGIN { printf "%.2f", a - b }')")
    done
    read -r one occpu oscpu < <(printf '%s\n' "${ones[@]}" | sort -g | sed -n 2p)
    read -r eight rcpu scpu < <(printf '%s\n' "${stats[@]}" | sort -g | sed -n 2p)
    awk -v d="$dev" -v o="$one" -v e="$eight" -v oc="$occpu / $oscpu" -v rc="$rcpu / $scpu" \
      'BEGIN { printf "| %s | %.3f | %s | %.3f | %s | %.2fx |\n", d, o, oc, e, rc, e / o }'
  done
} | tee "$RESULTS"
echo "gpu/run.sh: results in $RESULTS"
[ ${#FAILED[@]} -eq 0 ] || die "${#FAILED[@]} check(s) failed: ${FAILED[*]}"
