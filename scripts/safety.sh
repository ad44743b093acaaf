#!/usr/bin/env bash
# scripts/safety.sh: the safety net that CI runs after scripts/test.sh.
#
#   scripts/safety.sh [asan] [tsan] [fuzz]     # default: all three
#
#   asan  clang build with ASan + UBSan, -Wthread-safety and -Werror, in
#         build-asan/: the unit and integration tests under the sanitizers.
#   tsan  clang build with TSan in build-tsan/: the tests of the concurrency
#         this project owns (FetchScheduler, BufferPool, ChunkFiller, the
#         device ring, the stall watchdog, ...). Tests labelled `grpc` (a real
#         server or Fetch stream) are left out: Debian's gRPC and Abseil are
#         not built with TSan, so the happens-before edges of gRPC's threads
#         are invisible and every callback reads as a race (see
#         scripts/tsan.supp for what is suppressed and why).
#   fuzz  the libFuzzer targets of fuzz/ (built in build-asan/), each for
#         WS_FUZZ_SECONDS (default 30) from its seed corpus.
#
# Any sanitizer report, thread-safety warning, fuzzer crash or broken
# invariant fails the run. Installs clang-14 and its runtimes (Debian) when
# missing; WS_SKIP_APT=1 skips that.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(asan tsan fuzz)

installed() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      return 1
  done
}
if [ "${WS_SKIP_APT:-0}" != 1 ] && ! installed clang-14 libclang-rt-14-dev; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  for i in 1 2 3; do
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends clang-14 libclang-rt-14-dev && break
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q || true
    [ "$i" -eq 3 ] && { echo "safety: could not install clang-14" >&2; exit 1; }
    sleep $((i * 10))
  done
fi

# Tests that do not belong under a sanitizer: the interop suite (the
# reference's Python, pip), the benchmark smoke run (timings), the install
# test (links the installed, instrumented libraries without the runtime),
# the fuzzers (their own step), the Python SDK (a pip-built module).
EXCLUDE='^(interop|bench|examples|fuzz|python)\.'
# ASan: report leaks too; UBSan: abort with a stack on the first report.
# allocator_may_return_null: the buffer pool is tested against a failing
# allocation (it must get nullptr, not an abort).
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Leaks inside Debian's libraries we do not own (scripts/lsan.supp says which
# and why).
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="allocator_may_return_null=1:halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"

configure() {  # DIR SANITIZER [cmake args]
  local dir=$1 sanitize=$2
  shift 2
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" -DWS_WITH_CUDA=OFF \
    -DWS_SANITIZE="$sanitize" -DWS_WERROR=ON "$@" >/dev/null
  local start=$SECONDS
  cmake --build "$dir" -- -j"$(nproc)"
  echo "safety: built $dir in $((SECONDS - start)) s"
}

run_tests() {  # DIR NAME [ctest args]
  local dir=$1 name=$2 start=$SECONDS
  shift 2
  ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -E "$EXCLUDE" \
    --timeout 600 --no-tests=error "$@"
  echo "safety: $name tests passed in $((SECONDS - start)) s"
}

for step in "${STEPS[@]}"; do
  case $step in
    asan)
      configure build-asan address -DWS_BUILD_FUZZERS=ON
      run_tests build-asan "ASan+UBSan" ;;
    tsan)
      configure build-tsan thread
      # The SIGBUS guard (a handler that siglongjmps out of a fault on a
      # mapping) and the tests that truncate a mapped file on purpose: TSan
      # wraps signal handlers and masks itself, so the guard cannot work
      # under it (the ASan build runs them).
      EXCLUDE="${EXCLUDE}|^SigbusGuard(Death)?Test\.|Truncated" \
        run_tests build-tsan TSan -LE grpc ;;
    fuzz)
      [ -f build-asan/build.ninja ] || configure build-asan address -DWS_BUILD_FUZZERS=ON
      cmake -S . -B build-asan -DWS_BUILD_FUZZERS=ON \
        -DWS_FUZZ_SECONDS="${WS_FUZZ_SECONDS:-30}" >/dev/null
      cmake --build build-asan -- -j"$(nproc)"
      # -V: each fuzzer's executions, new inputs and peak memory.
      ctest --test-dir build-asan --output-on-failure -L fuzz -V --no-tests=error ;;
    *) echo "safety: unknown step '$step' (asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
done
echo "safety: OK (${STEPS[*]})"
