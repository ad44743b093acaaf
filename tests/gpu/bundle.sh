#!/usr/bin/env bash
# tests/gpu/bundle.sh: packs a finished build's GPU check into one folder,
# for a GPU machine that has the NVIDIA driver but not this project's build
# dependencies (gRPC, Abseil, protobuf, ISA-L, liburing).
#
#   tests/gpu/bundle.sh OUT_DIR      # after scripts/setup.sh
#
# OUT_DIR gets the binaries tests/gpu/run.sh needs, in the build tree's
# layout (server/weightserver, cli/weightctl, tools/ws_make_model,
# tests/gpu/gpu_test), and lib/ with every shared library they load except
# the C and C++ runtimes and the CUDA driver (the GPU machine has those: a
# newer libstdc++ than this build's must win there, its Python needs it).
# With WS_BUNDLE_WHEEL=FILE (a weightserver wheel for the GPU machine's
# Python, e.g. built by `pythonX.Y -m pip wheel ./python`), python/ gets the
# package unpacked, and run.sh runs python/tests/test_gpu.py with it. On the
# GPU machine:
#
#   WS_BUILD_DIR=OUT_DIR WS_GPU_PREBUILT=1 tests/gpu/run.sh
#
# Env: WS_BUILD_DIR (default build). The build must have found the CUDA
# toolkit ("CUDA destination: on" from cmake).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${WS_BUILD_DIR:-build}
OUT=${1:?usage: tests/gpu/bundle.sh OUT_DIR}
BINS=(server/weightserver cli/weightctl tools/ws_make_model tests/gpu/gpu_test)
# Left to the target machine: glibc's libraries and the GPU driver's.
SYSTEM='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libcuda|libstdc\+\+|libgcc_s|libz)\.so'

cmake --build "$BUILD" --target weightserver weightctl ws_make_model gpu_test >/dev/null
ldd "$BUILD/tests/gpu/gpu_test" | grep -q libcudart ||
  { echo "bundle.sh: $BUILD was configured without the CUDA toolkit" >&2; exit 1; }
# Copies the shared libraries FILE loads into $OUT/lib, but $SYSTEM's.
copy_libs() {
  ldd "$1" | awk '$3 ~ /^\// { print $1, $3 }' | while read -r name path; do
    [[ $name =~ $SYSTEM ]] && continue
    [ -e "$OUT/lib/$name" ] || cp -L "$path" "$OUT/lib/$name"
  done
}
rm -rf "$OUT"
mkdir -p "$OUT/lib"
for b in "${BINS[@]}"; do
  mkdir -p "$OUT/$(dirname "$b")"
  cp "$BUILD/$b" "$OUT/$b"
  strip --strip-debug "$OUT/$b"
  copy_libs "$BUILD/$b"
done
if [ -n "${WS_BUNDLE_WHEEL:-}" ]; then
  mkdir -p "$OUT/python"
  python3 -m zipfile -e "$WS_BUNDLE_WHEEL" "$OUT/python"
  copy_libs "$(ls "$OUT"/python/weightserver/_core*.so)"
fi
echo "bundle.sh: $(du -sh "$OUT" | cut -f1) in $OUT ($(ls "$OUT/lib" | wc -l) libraries)"
