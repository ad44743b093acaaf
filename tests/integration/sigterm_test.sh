#!/usr/bin/env bash
# tests/integration/sigterm_test.sh: the daemon's signal path, on the real
# binaries: serve a small model on 127.0.0.1:0, `weightctl health` says
# SERVING and a fetch works; SIGTERM makes it log the drain and exit 0 well
# within --grace_period; afterwards `weightctl health` exits 1.
#
#   sigterm_test.sh WEIGHTSERVER WEIGHTCTL WS_MAKE_MODEL   (run by CTest)
set -euo pipefail
SERVER=$1 WEIGHTCTL=$2 MAKE_MODEL=$3
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
fail() { echo "sigterm_test: FAILED: $*" >&2; cat "$WORK/log" >&2 || true; exit 1; }

"$MAKE_MODEL" --out "$WORK/repo/demo" --size_mib 8 --shards 2 >/dev/null
"$SERVER" --repo "$WORK/repo" --listen 127.0.0.1:0 --grace_period 20s \
  >"$WORK/out" 2>"$WORK/log" &
PID=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/out" && break
  sleep 0.1
done
ADDR=$(sed -n 's/^weightserver: listening on //p' "$WORK/out")
[ -n "$ADDR" ] || fail "no 'listening on' line"
[ "$(timeout 30 "$WEIGHTCTL" --server "$ADDR" health)" = SERVING ] || fail "health is not SERVING"
timeout 60 "$WEIGHTCTL" --server "$ADDR" fetch demo -o "$WORK/got/" >/dev/null \
  || fail "fetch (or it ran past 60 s)"
cmp -s "$WORK/repo/demo/model-00001-of-00002.safetensors" \
       "$WORK/got/model-00001-of-00002.safetensors" || fail "fetched bytes differ"

START=$(date +%s%N)
kill -TERM "$PID"
RC=0
wait "$PID" || RC=$?
PID=""
MS=$((($(date +%s%N) - START) / 1000000))
[ "$RC" -eq 0 ] || fail "exit status $RC after SIGTERM"
[ "$MS" -lt 5000 ] || fail "took $MS ms to stop with no stream running"
grep -q "draining" "$WORK/log" || fail "no drain logged"
grep -q "drained in" "$WORK/log" || fail "no 'drained in' logged"
grep -q "stopped" "$WORK/log" || fail "no 'stopped' logged"
if "$WEIGHTCTL" --server "$ADDR" health --timeout 1 2>/dev/null; then
  fail "health still answers after the exit"
fi
echo "sigterm_test: OK (exit 0, ${MS} ms after SIGTERM)"
