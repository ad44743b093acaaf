#!/usr/bin/env bash
# deploy/test-image.sh: builds the Dockerfile without a Docker engine and
# checks that the image serves a model, end to end.
#
#   deploy/test-image.sh            # needs root, buildah and debootstrap
#   deploy/test-image.sh --base-only  # step 1 only (prime the cache)
#   deploy/test-image.sh --host-daemon  # steps 3-6 with the host build's
#                                     # weightserver instead of the image (a
#                                     # quick check of this script itself)
#
# Steps (each prints a "== step" line and its time; any failure stops the
# script with "test-image: FAILED: ..." and a non-zero exit):
#   1. a Debian bookworm minbase root file system made with debootstrap,
#      cached as a tarball under $WS_CACHE_DIR (default
#      ~/.cache/weightserver), imported as the local image
#      localhost/ws-bookworm-base (kept in the script's own buildah storage,
#      vfs driver, under the cache dir);
#   2. `buildah bud --isolation chroot` of the Dockerfile with
#      BASE_IMAGE=localhost/ws-bookworm-base (compiles the project);
#   3. a test model made with the host build's ws_make_model, mounted
#      read-only at /models; the image's own ENTRYPOINT and USER run with
#      `buildah run --network host` (plus --listen on a free port, since the
#      host's 50051 may be taken);
#   4. host-side `weightctl health`, `ls` and `fetch -o DIR/`; the fetched
#      files must equal the model's byte for byte;
#   5. SIGTERM: the daemon must exit 0 within its grace period, having logged
#      the drain;
#   6. TLS and a token: certificates, a token and a policy naming its SHA-256
#      made now by scripts/dev-pki.sh, mounted read-only at
#      /etc/weightserver/tls; the entrypoint again with --tls_cert, --tls_key
#      and --auth_file pointing there; from the host, weightctl over TLS
#      (verified against the test CA): health SERVING, `ls` with the token
#      shows the model, `ls` without it is refused (UNAUTHENTICATED), a fetch
#      with the token equals the model byte for byte; SIGTERM as in 5; the
#      image size is printed.
#
# Environment: WS_BUILD_DIR (host build, default build; built here if the
# tools are missing), WS_CACHE_DIR, WS_DEBIAN_MIRROR (default
# http://deb.debian.org/debian), WS_JOBS (compile jobs in the image, default
# nproc), WS_KEEP_IMAGE=1 to keep the built image.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT="$PWD"

CACHE_DIR="${WS_CACHE_DIR:-${HOME:-/root}/.cache/weightserver}"
MIRROR="${WS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BUILD_DIR="${WS_BUILD_DIR:-build}"
JOBS="${WS_JOBS:-$(nproc)}"
BASE_TAR="$CACHE_DIR/bookworm-minbase.tar"
BASE_IMAGE="localhost/ws-bookworm-base:latest"
IMAGE="localhost/weightserver:test-$$"
HOST_DAEMON=0
[ "${1:-}" = "--host-daemon" ] && HOST_DAEMON=1
GRACE_S=10
BUILDAH=(buildah --root "$CACHE_DIR/containers/storage"
         --runroot "$CACHE_DIR/containers/run" --storage-driver vfs)

T_START=$(date +%s)
STEP_START=$T_START
step() {
  local now
  now=$(date +%s)
  echo "== [+$((now - T_START))s] $*"
  STEP_START=$now
}
done_step() { echo "   done in $(($(date +%s) - STEP_START)) s"; }
fail() {
  echo "test-image: FAILED: $*" >&2
  exit 1
}

WORK=$(mktemp -d /tmp/ws-test-image.XXXXXX)
CTR=""
SERVER_PID=""
RUN_PID=""
SERVER_LOG="$WORK/server.log"
cleanup() {
  local rc=$?
  set +e
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    timeout 15 tail --pid="$SERVER_PID" -f /dev/null || kill -KILL "$SERVER_PID"
    wait 2>/dev/null
  fi
  [ -n "$CTR" ] && "${BUILDAH[@]}" rm "$CTR" >/dev/null 2>&1
  if [ "${WS_KEEP_IMAGE:-0}" != 1 ]; then
    "${BUILDAH[@]}" rmi "$IMAGE" >/dev/null 2>&1
    # Intermediate build-stage images; the base image stays cached.
    "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1
  fi
  if [ $rc -ne 0 ] && [ -f "$SERVER_LOG" ]; then
    echo "---- daemon log (tail) ----" >&2
    tail -n 30 "$SERVER_LOG" >&2
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

# Runs "$@" up to 3 times, 15 s then 30 s apart (slow or flaky mirrors).
retry() {
  local i
  for i in 1 2 3; do
    "$@" && return 0
    [ $i -lt 3 ] || return 1
    echo "   (try $i of 3 failed; retrying in $((i * 15)) s)" >&2
    sleep $((i * 15))
  done
}

# start_daemon NAME [ARGS...]: runs the daemon (the image's ENTRYPOINT and
# USER in the container; with --host-daemon the host build's weightserver)
# on a free port, the test model at $MODELS_AT and $WORK/secrets at
# $SECRETS_AT, both read-only, with ARGS appended; waits until it listens.
# Sets PORT, RUN_PID, SERVER_PID (the daemon's own pid) and SERVER_LOG
# ($WORK/NAME.log; its stdout in $WORK/NAME.out).
start_daemon() {
  local name=$1 out="$WORK/$1.out"
  shift
  SERVER_LOG="$WORK/$name.log"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if [ "$HOST_DAEMON" = 1 ]; then
    "${ENTRYPOINT[@]}" --listen=0.0.0.0:"$PORT" "$@" >"$out" 2>"$SERVER_LOG" &
  else
    # buildah run takes the command explicitly: the image's entrypoint, then
    # a --listen on a free port (the last value of a flag wins).
    "${BUILDAH[@]}" run --isolation chroot --network host --user "$IMAGE_USER" \
      -v "$WORK/models:$MODELS_AT:ro" -v "$WORK/secrets:$SECRETS_AT:ro" "$CTR" -- \
      "${ENTRYPOINT[@]}" --listen=0.0.0.0:"$PORT" "$@" >"$out" 2>"$SERVER_LOG" &
  fi
  RUN_PID=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$out" 2>/dev/null && break
    kill -0 "$RUN_PID" 2>/dev/null || fail "the daemon exited at start: $(tail -n 3 "$SERVER_LOG")"
    sleep 0.2
  done
  grep -q "listening on" "$out" || fail "the daemon did not start listening within 20 s"
  echo "   $(cat "$out")"
  SERVER_PID=$(ss -ltnpH "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
  [ -n "$SERVER_PID" ] || fail "no process listens on port $PORT"
}

# stop_daemon: SIGTERM; the daemon must exit 0 within its grace period,
# having logged the drain and the stop.
stop_daemon() {
  local t0 rc=0 elapsed
  t0=$(date +%s.%N)
  kill -TERM "$SERVER_PID"
  timeout $((GRACE_S + 5)) tail --pid="$SERVER_PID" -f /dev/null || fail "still running $((GRACE_S + 5)) s after SIGTERM"
  wait "$RUN_PID" || rc=$?
  SERVER_PID=""
  elapsed=$(python3 -c "import time; print(f'{time.time() - $t0:.2f}')")
  sed 's/^/   log: /' "$SERVER_LOG" | tail -n 4
  [ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
  grep -q "draining" "$SERVER_LOG" || fail "no drain logged"
  grep -q "stopped" "$SERVER_LOG" || fail "no stop logged"
  echo "   exit status 0 after ${elapsed} s"
}

MODELS_AT=/models
SECRETS_AT=/etc/weightserver/tls
if [ "$HOST_DAEMON" = 1 ]; then
  step "--host-daemon: the host build's weightserver stands in for the image"
  MODELS_AT="$WORK/models"
  SECRETS_AT="$WORK/secrets"
  ENTRYPOINT=("$REPO_ROOT/$BUILD_DIR/server/weightserver" "--repo=$MODELS_AT")
  done_step
else

# ---- 0. preconditions ----
step "checking tools"
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, buildah chroot isolation)"
for tool in buildah debootstrap ss tar; do
  command -v "$tool" >/dev/null || fail "'$tool' not found (apt-get install buildah debootstrap iproute2)"
done
mkdir -p "$CACHE_DIR"
done_step

# ---- 1. base image ----
step "base image: Debian bookworm minbase (cache: $BASE_TAR)"
debootstrap_once() {
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 5 "$WORK/debootstrap.log" >&2
    return 1
  }
}
if [ ! -s "$BASE_TAR" ]; then
  echo "   debootstrap from $MIRROR (a few minutes, once)"
  retry debootstrap_once || fail "debootstrap bookworm from $MIRROR (log above)"
  # What bookworm-slim also leaves out: package caches and lists.
  rm -rf "$WORK/rootfs"/var/cache/apt/archives/*.deb \
         "$WORK/rootfs"/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" --numeric-owner -cf "$BASE_TAR.tmp" . \
    || fail "tar of the debootstrap tree"
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$WORK/rootfs"
else
  echo "   cached tarball found"
fi
BASE_ID_FILE="$CACHE_DIR/bookworm-minbase.imported"
if ! "${BUILDAH[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1 ||
   [ "$(cat "$BASE_ID_FILE" 2>/dev/null)" != "$(stat -c %Y "$BASE_TAR")" ]; then
  echo "   importing as $BASE_IMAGE"
  mkdir -p "$WORK/base"
  ln "$BASE_TAR" "$WORK/base/rootfs.tar" 2>/dev/null || cp "$BASE_TAR" "$WORK/base/rootfs.tar"
  printf 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n' >"$WORK/base/Containerfile"
  "${BUILDAH[@]}" bud --isolation chroot -q -t "$BASE_IMAGE" \
    -f "$WORK/base/Containerfile" "$WORK/base" >/dev/null \
    || fail "importing the base tarball into buildah"
  stat -c %Y "$BASE_TAR" >"$BASE_ID_FILE"
  rm -rf "$WORK/base"
else
  echo "   $BASE_IMAGE already imported"
fi
done_step

if [ "${1:-}" = "--base-only" ]; then
  echo "test-image: base ready in $(($(date +%s) - T_START)) s"
  exit 0
fi

# ---- 2. the image ----
step "buildah bud Dockerfile (BASE_IMAGE=$BASE_IMAGE, $JOBS jobs)"
run_bud() {
  "${BUILDAH[@]}" bud --isolation chroot --format docker --layers=false \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg JOBS="$JOBS" \
    -t "$IMAGE" -f Dockerfile . >"$WORK/bud.log" 2>&1 || {
    tail -n 40 "$WORK/bud.log" >&2
    return 1
  }
}
run_bud || fail "buildah bud (log tail above)"
grep -E '^\[[0-9]+/[0-9]+\] Linking' "$WORK/bud.log" | sed 's/^/   /' || true
done_step

step "image configuration"
"${BUILDAH[@]}" inspect --type image "$IMAGE" >"$WORK/inspect.json" \
  || fail "buildah inspect $IMAGE"
# Prints the entrypoint (one word a line) after checking the rest; any
# problem is one "config: ..." line and exit 1.
python3 - "$WORK/inspect.json" >"$WORK/entrypoint" <<'PY' || fail "image configuration (above)"
import json, sys
c = json.load(open(sys.argv[1]))["Docker"]["config"]
def need(ok, what):
    if not ok:
        sys.stderr.write("config: " + what + "\n")
        sys.exit(1)
ep = c.get("Entrypoint") or []
sys.stderr.write("   Entrypoint %s Cmd %s User %r\n" % (ep, c.get("Cmd"), c.get("User")))
sys.stderr.write("   ExposedPorts %s Volumes %s\n" % (list(c.get("ExposedPorts") or {}), list(c.get("Volumes") or {})))
sys.stderr.write("   Healthcheck %s\n" % (c.get("Healthcheck") or {}).get("Test"))
need(ep[:1] == ["weightserver"] and "--repo=/models" in ep and "--listen=0.0.0.0:50051" in ep,
     "ENTRYPOINT must start weightserver --repo=/models --listen=0.0.0.0:50051")
need(c.get("User", "") not in ("", "0", "root") and not c["User"].startswith(("0:", "root:")),
     "the image runs as root")
need("50051/tcp" in (c.get("ExposedPorts") or {}), "port 50051 not exposed")
need("/models" in (c.get("Volumes") or {}), "no VOLUME /models")
need("weightctl" in " ".join((c.get("Healthcheck") or {}).get("Test") or []), "no HEALTHCHECK with weightctl")
print("\n".join(ep))
PY
IMAGE_USER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Docker"]["config"]["User"])' "$WORK/inspect.json")
mapfile -t ENTRYPOINT <"$WORK/entrypoint"
done_step
fi  # HOST_DAEMON

# ---- 3. run it on a test model ----
step "making a test model and starting the image's entrypoint"
echo "   host tools from $BUILD_DIR (brought up to date)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
HOST_TARGETS=(ws_make_model weightctl)
[ "$HOST_DAEMON" = 1 ] && HOST_TARGETS+=(weightserver)
cmake --build "$BUILD_DIR" --target "${HOST_TARGETS[@]}" -- -j"$(nproc)" \
  >"$WORK/host-build.log" 2>&1 || {
  tail -n 20 "$WORK/host-build.log" >&2
  fail "host build of ${HOST_TARGETS[*]} in $BUILD_DIR"
}
WEIGHTCTL="$REPO_ROOT/$BUILD_DIR/cli/weightctl"
mkdir -p "$WORK/models" "$WORK/secrets"
"$BUILD_DIR/tools/ws_make_model" --out "$WORK/models/demo" --size_mib 48 \
  --shards 3 | sed 's/^/   /' || fail "ws_make_model"
chmod -R a+rX "$WORK"  # The image's user (uid 10001) must read the model.
if [ "$HOST_DAEMON" = 0 ]; then
  CTR=$("${BUILDAH[@]}" from --pull=never "$IMAGE")
  # buildah run mounts an empty anonymous volume over each VOLUME of the
  # config, on top of -v (docker/podman let -v win). Drop it from this
  # container only.
  "${BUILDAH[@]}" config --volume /models- "$CTR"
fi
start_daemon server --grace_period=${GRACE_S}s
SERVER_UID=$(awk '/^Uid:/ {print $2}' "/proc/$SERVER_PID/status")
echo "   weightserver pid $SERVER_PID, uid $SERVER_UID"
[ "$HOST_DAEMON" = 1 ] || [ "$SERVER_UID" != 0 ] || fail "the daemon runs as root"
done_step

# ---- 4. fetch from the host ----
step "host-side weightctl: health, ls, fetch, compare"
export WEIGHTSERVER_ADDR="127.0.0.1:$PORT"
timeout 30 "$WEIGHTCTL" health | grep -qx SERVING || fail "weightctl health did not say SERVING"
echo "   health: SERVING"
timeout 30 "$WEIGHTCTL" ls | sed 's/^/   /' || fail "weightctl ls"
timeout 120 "$WEIGHTCTL" fetch demo -o "$WORK/fetched/" | sed 's/^/   /' \
  || fail "weightctl fetch (or it ran past 120 s)"
diff -r "$WORK/models/demo" "$WORK/fetched" >/dev/null \
  || fail "fetched files differ from the model's"
echo "   fetched files identical to the model's ($(du -sh "$WORK/fetched" | cut -f1))"
done_step

# ---- 5. SIGTERM ----
step "SIGTERM: clean exit within the grace period (${GRACE_S} s)"
stop_daemon
done_step

# ---- 6. TLS and a token ----
step "TLS and a token: the entrypoint with --tls_cert, --tls_key, --auth_file"
bash scripts/dev-pki.sh "$WORK/secrets" | sed 's/^/   /' || fail "scripts/dev-pki.sh"
chmod a+r "$WORK/secrets"/*  # uid 10001 must read the key (a test key).
start_daemon server-tls --grace_period=${GRACE_S}s \
  --tls_cert="$SECRETS_AT/tls.crt" --tls_key="$SECRETS_AT/tls.key" \
  --auth_file="$SECRETS_AT/policy.json"
# Verified against the test CA; the certificate names 127.0.0.1.
TLS=(--server "127.0.0.1:$PORT" --tls-ca "$WORK/secrets/ca.crt")
TOKEN=(--token-file "$WORK/secrets/token")
unset WEIGHTSERVER_TOKEN
timeout 30 "$WEIGHTCTL" "${TLS[@]}" health | grep -qx SERVING \
  || fail "weightctl health over TLS did not say SERVING"
echo "   health over TLS: SERVING"
timeout 30 "$WEIGHTCTL" "${TLS[@]}" "${TOKEN[@]}" ls >"$WORK/ls-token" \
  || fail "weightctl ls with the token: $(cat "$WORK/ls-token")"
sed 's/^/   with the token: /' "$WORK/ls-token"
grep -q '^demo\b' "$WORK/ls-token" || fail "ls with the token does not show the model"
if timeout 30 "$WEIGHTCTL" "${TLS[@]}" ls >"$WORK/ls-none" 2>&1; then
  fail "ls without a token succeeded: $(cat "$WORK/ls-none")"
fi
sed 's/^/   without a token: /' "$WORK/ls-none"
# UNAUTHENTICATED, in the server's words for a caller with no credentials.
grep -q "no credentials" "$WORK/ls-none" || fail "ls without a token: not UNAUTHENTICATED"
if timeout 30 "$WEIGHTCTL" --server "127.0.0.1:$PORT" health --timeout 3 >"$WORK/ls-plain" 2>&1; then
  fail "a plaintext client was answered by the TLS daemon"
fi
echo "   plaintext client refused: $(head -c 120 "$WORK/ls-plain")"
timeout 120 "$WEIGHTCTL" "${TLS[@]}" "${TOKEN[@]}" fetch demo -o "$WORK/fetched-tls/" \
  | sed 's/^/   /' || fail "weightctl fetch over TLS with the token (or past 120 s)"
diff -r "$WORK/models/demo" "$WORK/fetched-tls" >/dev/null \
  || fail "files fetched over TLS differ from the model's"
echo "   fetched over TLS, with the token: identical to the model's"
stop_daemon
done_step

if [ "$HOST_DAEMON" = 1 ]; then
  echo "test-image: OK (--host-daemon: the image itself not built) in $(($(date +%s) - T_START)) s"
  exit 0
fi

step "image size"
"${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$IMAGE" | sed 's/^/   /'
"${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$BASE_IMAGE" | sed 's/^/   base: /'
echo "test-image: OK in $(($(date +%s) - T_START)) s"
