#!/usr/bin/env bash
# tests/integration/sigterm_test.sh: the daemon's signal path, on the real
# binaries. Serve a small model on 127.0.0.1:0; `weightctl health` says
# SERVING and a fetch works; SIGHUP (a rescan), SIGUSR1 and SIGUSR2 are
# logged and leave it serving; SIGTERM makes it log the drain and exit 0 within 1 s of the
# drain's end. Then five more start/stop cycles, with a load running when
# SIGTERM comes: every one drains, exits 0, and exits within 1 s of the
# drain (gRPC's teardown once stalled ~10 s here). Afterwards `weightctl
# health` exits 1.
#
#   sigterm_test.sh WEIGHTSERVER WEIGHTCTL WS_MAKE_MODEL   (run by CTest)
set -euo pipefail
. "$(dirname "$0")/../testing/server.sh"
SERVER=$1 WEIGHTCTL=$2 MAKE_MODEL=$3
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
fail() { echo "sigterm_test: FAILED: $*" >&2; cat "$WORK/log" >&2 || true; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

"$MAKE_MODEL" --out "$WORK/repo/demo" --size_mib 8 --shards 2 >/dev/null
"$MAKE_MODEL" --out "$WORK/repo/big" --size_mib 256 --shards 2 >/dev/null

start_server() {
  "$SERVER" --repo "$WORK/repo" --listen 127.0.0.1:0 --grace_period 20s \
    >"$WORK/out" 2>"$WORK/log" &
  PID=$!
  ADDR=$(ws_wait_for_address "$WORK/out")
  [ -n "$ADDR" ] || fail "no 'listening on' line"
}

# Sends SIGTERM, waits for "drained in" in the log, then for the exit; fails
# unless the exit status is 0 and the exit came within 1 s of the drain.
stop_server() {
  kill -TERM "$PID"
  local deadline=$(($(now_ms) + 25000))
  until grep -q "drained in\|grace period over" "$WORK/log"; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "no end of drain logged within 25 s"
    sleep 0.01
  done
  local drained rc=0
  drained=$(now_ms)
  wait "$PID" || rc=$?
  PID=""
  EXIT_MS=$(($(now_ms) - drained))
  [ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
  [ "$EXIT_MS" -lt 1000 ] || fail "exited $EXIT_MS ms after the drain ended"
  grep -q "draining" "$WORK/log" || fail "no drain logged"
  grep -q "drained in" "$WORK/log" || fail "no 'drained in' logged (grace period ran out?)"
  grep -q "stopped" "$WORK/log" || fail "no 'stopped' logged"
}

start_server
[ "$(timeout 30 "$WEIGHTCTL" --server "$ADDR" health)" = SERVING ] || fail "health is not SERVING"
timeout 60 "$WEIGHTCTL" --server "$ADDR" fetch demo -o "$WORK/got/" >/dev/null \
  || fail "fetch (or it ran past 60 s)"
cmp -s "$WORK/repo/demo/model-00001-of-00002.safetensors" \
       "$WORK/got/model-00001-of-00002.safetensors" || fail "fetched bytes differ"

for sig in HUP USR1 USR2; do kill -"$sig" "$PID"; done
for _ in $(seq 100); do  # Up to 10 s for the three log lines.
  [ "$(grep -c "): ignored" "$WORK/log")" -ge 2 ] &&
    grep -q "SIGHUP: rescanning" "$WORK/log" && break
  sleep 0.1
done
kill -0 "$PID" 2>/dev/null || fail "a SIGHUP/SIGUSR1/SIGUSR2 killed the daemon"
[ "$(grep -c "): ignored" "$WORK/log")" -eq 2 ] || fail "SIGUSR1 and SIGUSR2 were not each logged as ignored"
grep -q "SIGHUP: rescanning" "$WORK/log" || fail "SIGHUP was not logged as a rescan"
[ "$(timeout 30 "$WEIGHTCTL" --server "$ADDR" health)" = SERVING ] \
  || fail "health is not SERVING after SIGHUP"
stop_server
TIMES="$EXIT_MS"
if "$WEIGHTCTL" --server "$ADDR" health --timeout 1 2>/dev/null; then
  fail "health still answers after the exit"
fi

for _ in 1 2 3 4 5; do
  start_server
  timeout 60 "$WEIGHTCTL" --server "$ADDR" load big >/dev/null 2>&1 &
  LOAD=$!
  sleep 0.3
  stop_server
  wait "$LOAD" || true  # Finished in the grace period, or refused: both fine.
  TIMES="$TIMES $EXIT_MS"
done
echo "sigterm_test: OK (exit 0 every time; ms from the drain's end to the exit: $TIMES)"
