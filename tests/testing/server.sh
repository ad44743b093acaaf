# tests/testing/server.sh: shell helpers for tests that run the real daemon.
# Source it:  . "$(dirname "$0")/../testing/server.sh"

# ws_wait_for_address OUT: waits up to 10 s for the daemon's
# "weightserver: listening on ADDR" line in the file OUT (its stdout), then
# prints ADDR; prints nothing when the line never came.
ws_wait_for_address() {
  local _
  for _ in $(seq 1 100); do
    grep -q "listening on" "$1" && break
    sleep 0.1
  done
  sed -n 's/^weightserver: listening on //p' "$1"
}
