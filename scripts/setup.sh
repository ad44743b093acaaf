#!/usr/bin/env bash
# scripts/setup.sh: install what is missing (Debian bookworm), then configure
# and build Weightserver in Release into ./build (or $WS_BUILD_DIR).
#
#   scripts/setup.sh            # idempotent; fast when everything is there
#
# Uses apt-get directly as root, through sudo otherwise. Set WS_SKIP_APT=1 to
# skip the package step (e.g. on a machine set up by hand).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build pkg-config git ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev liburing-dev libisal-dev nlohmann-json3-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev googletest
  python3 python3-venv python3-pip
  nginx-light iperf3 gnuplot-nox curl openssl libssl-dev
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  # kubectl renders the Kubernetes manifests (tests/deploy): Debian's, unless
  # one is on PATH already (e.g. the Google Cloud SDK's, which would clash).
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local i
  for i in 1 2 3; do  # A slow or flaky mirror gets a few tries.
    if $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
       $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
         --no-install-recommends "${missing[@]}"; then
      return 0
    fi
    echo "setup: apt-get failed (try $i of 3), retrying in $((i * 10)) s" >&2
    sleep $((i * 10))
  done
  echo "setup: could not install ${missing[*]}" >&2
  return 1
}

[ "${WS_SKIP_APT:-0}" = 1 ] || install_packages

BUILD_DIR="${WS_BUILD_DIR:-build}"
# WS_WERROR=1 (CI): warnings are errors.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DWS_WERROR="$([ "${WS_WERROR:-0}" = 1 ] && echo ON || echo OFF)" >/dev/null
cmake --build "$BUILD_DIR" -- -j"$(nproc)"
echo "setup: built in $BUILD_DIR"
