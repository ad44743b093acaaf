# Weightserver image: a Release build of weightserver and weightctl on Debian
# bookworm, run as a non-root user, serving the models mounted at /models.
#
#   docker build -t weightserver .
#   docker run --rm -v "$PWD/models:/models:ro" -p 50051:50051 weightserver
#   docker run --rm --network host --entrypoint weightctl weightserver ls
#
# Extra arguments are appended to the daemon's flags (the last value of a flag
# wins), e.g. `docker run ... weightserver --grace_period=10s`.
# Every stage starts from BASE_IMAGE so that a build can substitute a local
# bookworm image (deploy/test-image.sh builds one with debootstrap). Build
# with `--format docker` under buildah/podman to keep the HEALTHCHECK.
ARG BASE_IMAGE=debian:bookworm-slim

# ---- build: the -dev packages and a Release build of the two binaries ----
FROM ${BASE_IMAGE} AS build
ARG JOBS=2
# A slow or flaky mirror gets retries, per file and for the whole step.
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    for i in 1 2 3; do \
      if apt-get -o Acquire::Retries=5 update -q && \
         apt-get -o Acquire::Retries=5 install -y -q --no-install-recommends \
           g++ cmake ninja-build pkg-config \
           libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev \
           protobuf-compiler libabsl-dev liburing-dev libisal-dev \
           nlohmann-json3-dev prometheus-cpp-dev; \
      then break; fi; \
      [ "$i" -lt 3 ] || exit 1; \
      echo "apt-get failed (try $i of 3), retrying" >&2; sleep $((i * 10)); \
    done; \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_TESTING=OFF >/dev/null && \
    cmake --build /build --target weightserver weightctl -- -j"${JOBS}" && \
    install -D -s -m 0755 /build/server/weightserver /out/weightserver && \
    install -D -s -m 0755 /build/cli/weightctl /out/weightctl

# ---- runtime: runtime libraries and the two binaries only ----
FROM ${BASE_IMAGE}
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    for i in 1 2 3; do \
      if apt-get -o Acquire::Retries=5 update -q && \
         apt-get -o Acquire::Retries=5 install -y -q --no-install-recommends \
           libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 \
           liburing2 libisal2 \
           libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0; \
      then break; fi; \
      [ "$i" -lt 3 ] || exit 1; \
      echo "apt-get failed (try $i of 3), retrying" >&2; sleep $((i * 10)); \
    done; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    useradd --system --uid 10001 --user-group --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin weightserver; \
    mkdir -p /models
COPY --from=build /out/weightserver /out/weightctl /usr/local/bin/
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
VOLUME /models
EXPOSE 50051
# Prometheus metrics, when the daemon is given --metrics_listen=0.0.0.0:9464.
EXPOSE 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["weightctl", "--server", "127.0.0.1:50051", "health", "--timeout", "4"]
ENTRYPOINT ["weightserver", "--repo=/models", "--listen=0.0.0.0:50051"]
CMD []
