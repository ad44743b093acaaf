#!/usr/bin/env bash
# tests/examples/install_test.sh: the installed client SDK, as a program
# outside this tree sees it. `cmake --install` the build into a temporary
# prefix, check what it holds, build examples/load_model there twice (with
# find_package(weightserver), and with plain g++ and pkg-config
# weightserver-client), and run both against a real server on 127.0.0.1:0.
#
#   install_test.sh BUILD_DIR SOURCE_DIR WEIGHTSERVER WS_MAKE_MODEL (run by CTest)
set -euo pipefail
. "$(dirname "$0")/../testing/server.sh"
BUILD=$1 SRC=$2 SERVER=$3 MAKE_MODEL=$4
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && { kill "$PID"; wait "$PID"; } 2>/dev/null; rm -rf "$WORK"' EXIT
fail() { echo "install_test: FAILED: $*" >&2; exit 1; }
PREFIX="$WORK/prefix"

cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" ||
  { cat "$WORK/install.log" >&2; fail "cmake --install"; }
for f in include/weightserver/client/client.h lib/libweightserver_client.a \
         lib/cmake/weightserver/weightserverConfig.cmake \
         lib/pkgconfig/weightserver-client.pc bin/weightctl; do
  [ -e "$PREFIX/$f" ] || fail "the prefix lacks $f"
done
# The public headers stand alone: nothing from the tree's internals, no
# generated protos.
if grep -rhoE '#include "[^"]*"' "$PREFIX/include" |
     grep -vE '"(weightserver|absl)/' >"$WORK/stray"; then
  fail "installed headers include non-public headers: $(sort -u "$WORK/stray" | tr '\n' ' ')"
fi
grep -q "prefix=$PREFIX\$" "$PREFIX/lib/pkgconfig/weightserver-client.pc" ||
  fail "weightserver-client.pc does not name the install prefix"

# 1. CMake: find_package(weightserver) from the prefix alone.
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
cmake -S "$SRC/examples/load_model" -B "$WORK/cmake" "${GEN[@]}" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 &&
  cmake --build "$WORK/cmake" >>"$WORK/cmake.log" 2>&1 ||
  { cat "$WORK/cmake.log" >&2; fail "the find_package build"; }

# 2. pkg-config: one compiler line, as a Makefile would write it.
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
FLAGS=$(pkg-config --cflags --libs weightserver-client) || fail "pkg-config"
# shellcheck disable=SC2086  # FLAGS is a list of words.
"${CXX:-g++}" -std=c++20 -O1 -o "$WORK/load_model_pc" \
  "$SRC/examples/load_model/main.cc" $FLAGS 2>"$WORK/pc.log" ||
  { cat "$WORK/pc.log" >&2; fail "the pkg-config build: g++ main.cc $FLAGS"; }

# A real server with a real (small, sharded) model.
"$MAKE_MODEL" --out "$WORK/repo/demo" --size_mib 4 --shards 2 >/dev/null
"$SERVER" --repo "$WORK/repo" --listen 127.0.0.1:0 >"$WORK/out" 2>"$WORK/log" &
PID=$!
ADDR=$(ws_wait_for_address "$WORK/out")
[ -n "$ADDR" ] || { cat "$WORK/log" >&2; fail "the server did not start"; }
WANT=$(python3 - "$WORK/repo/demo" <<'PY'
import json, pathlib, struct, sys
n = size = 0
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.safetensors")):
    with open(f, "rb") as fh:
        (hlen,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(hlen))
    for k, v in header.items():
        if k != "__metadata__":
            n += 1
            size += v["data_offsets"][1] - v["data_offsets"][0]
print(f"loaded {n} tensors, {size} bytes of demo")
PY
)
for bin in "$WORK/cmake/load_model" "$WORK/load_model_pc"; do
  OUT=$(timeout 60 "$bin" "$ADDR" demo) || fail "$bin exited $?: $OUT"
  grep -qF "$WANT" <<<"$OUT" || fail "$bin printed '$OUT', expected '$WANT ...'"
  grep -q "^models: 1$" <<<"$OUT" || fail "$bin printed '$OUT', expected 'models: 1'"
  # A model the server lacks is a clear error and exit 1, not a crash.
  RC=0; ERR=$(timeout 60 "$bin" "$ADDR" no-such-model 2>&1) || RC=$?
  [ "$RC" -eq 1 ] && grep -q NOT_FOUND <<<"$ERR" ||
    fail "$bin on a missing model: exit $RC, '$ERR'"
done
echo "install_test: OK (find_package and pkg-config builds loaded: $WANT)"
