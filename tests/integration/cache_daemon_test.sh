#!/usr/bin/env bash
# tests/integration/cache_daemon_test.sh: the cache tier on the real
# binaries, as an operator runs it. An origin daemon; a cache daemon with
# --upstream/--cache_dir/--cache_size (an 800M style size); `weightctl
# prefetch` through the cache, `weightctl fetch` from it compared byte for
# byte with the origin's files; SIGHUP (an upstream refresh) leaves it
# serving; a model copied into the origin appears at the cache; SIGTERM
# exits 0; a second cache daemon on the same directory is refused while the
# first runs; bad flags exit 2 with a message naming the flag.
#
#   cache_daemon_test.sh WEIGHTSERVER WEIGHTCTL WS_MAKE_MODEL   (run by CTest)
set -euo pipefail
. "$(dirname "$0")/../testing/server.sh"
SERVER=$1 WEIGHTCTL=$2 MAKE_MODEL=$3
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
fail() { echo "cache_daemon_test: FAILED: $*" >&2; tail -20 "$WORK"/*.log >&2 || true; exit 1; }

"$MAKE_MODEL" --out "$WORK/repo/demo" --size_mib 16 --shards 2 >/dev/null
echo '{"model_type": "demo"}' > "$WORK/repo/demo/config.json"

"$SERVER" --repo "$WORK/repo" --listen 127.0.0.1:0 >"$WORK/origin.out" 2>"$WORK/origin.log" &
PIDS+=($!)
ORIGIN=$(ws_wait_for_address "$WORK/origin.out")
[ -n "$ORIGIN" ] || fail "origin: no 'listening on' line"

"$SERVER" --upstream "$ORIGIN" --cache_dir "$WORK/cache" --cache_size 800M \
  --upstream_refresh 1s --listen 127.0.0.1:0 >"$WORK/cache.out" 2>"$WORK/cache.log" &
CACHE_PID=$!
PIDS+=($CACHE_PID)
CACHE=$(ws_wait_for_address "$WORK/cache.out")
[ -n "$CACHE" ] || fail "cache: no 'listening on' line"
grep -q "from the upstream $ORIGIN (cache in $WORK/cache, 838860800 bytes)" "$WORK/cache.log" \
  || fail "cache: its start-up line does not name the upstream and the size"

timeout 60 "$WEIGHTCTL" --server "$CACHE" prefetch demo >"$WORK/prefetch.txt" \
  || fail "prefetch through the cache"
grep -q "prefetched 'demo': 2 files" "$WORK/prefetch.txt" || fail "prefetch said: $(cat "$WORK/prefetch.txt")"
timeout 60 "$WEIGHTCTL" --server "$CACHE" fetch demo -o "$WORK/got/" >/dev/null \
  || fail "fetch from the cache"
for f in model-00001-of-00002.safetensors model-00002-of-00002.safetensors \
         model.safetensors.index.json config.json; do
  cmp -s "$WORK/repo/demo/$f" "$WORK/got/$f" || fail "$f differs from the origin's"
done

kill -HUP "$CACHE_PID"
sleep 0.5
[ "$(timeout 30 "$WEIGHTCTL" --server "$CACHE" health)" = SERVING ] \
  || fail "not SERVING after SIGHUP"
grep -q "SIGHUP: asking the upstream" "$WORK/cache.log" || fail "SIGHUP not logged"

# A model published at the origin (copied aside, renamed in) reaches the cache.
cp -r "$WORK/repo/demo" "$WORK/repo/.new" && mv "$WORK/repo/.new" "$WORK/repo/second"
for _ in $(seq 1 100); do
  timeout 10 "$WEIGHTCTL" --server "$CACHE" ls 2>/dev/null | grep -q "^second " && break
  sleep 0.1
done
timeout 60 "$WEIGHTCTL" --server "$CACHE" load second >/dev/null \
  || fail "a model published at the origin is not served by the cache"

# One daemon per cache directory.
rc=0
timeout 30 "$SERVER" --upstream "$ORIGIN" --cache_dir "$WORK/cache" --cache_size 1G \
  --listen 127.0.0.1:0 >/dev/null 2>"$WORK/second.log" || rc=$?
[ "$rc" -eq 1 ] || fail "a second cache on the same directory exited $rc, not 1"
grep -q "in use by another weightserver" "$WORK/second.log" || fail "no 'in use' message"

kill -TERM "$CACHE_PID"
rc=0
wait "$CACHE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "cache exit status $rc after SIGTERM"

# Bad flags: exit 2, one line naming the flag.
check_usage() {
  local want=$1; shift
  local code=0
  "$SERVER" "$@" --listen 127.0.0.1:0 >/dev/null 2>"$WORK/usage.log" || code=$?
  [ "$code" -eq 2 ] || fail "'$*' exited $code, not 2"
  grep -q -- "$want" "$WORK/usage.log" || fail "'$*' said: $(cat "$WORK/usage.log")"
}
check_usage "--cache_size: '12X' is not a size" --upstream "$ORIGIN" --cache_dir "$WORK/c2" --cache_size 12X
check_usage "needs --cache_dir DIR and --cache_size SIZE" --upstream "$ORIGIN"
check_usage "exclude each other" --upstream "$ORIGIN" --repo "$WORK/repo" --cache_dir "$WORK/c2" --cache_size 1G
echo "cache_daemon_test: OK"
