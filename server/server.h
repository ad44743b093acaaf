// Copyright 2026 The Weightserver Authors.
//
// server/server.h: a running Weightserver: repository scan + gRPC server.
//
// Server::Start scans the repository, registers the WeightService, the
// standard health service (SERVING once models are loaded) and server
// reflection, and listens. `listen` is HOST:PORT (port 0 picks a free port;
// address() then has the real one) or unix:PATH. With `metrics_listen` it
// also serves Prometheus metrics (metrics.h) over HTTP at /metrics there;
// with `access_log` enabled it logs every Fetch and ReadFile stream
// (access_log.h).
//
// Example:
//   ASSIGN_OR_RETURN(auto server, Server::Start({.repo = dir,
//                                                .listen = "127.0.0.1:0"}));
//   std::cout << "listening on " << server->address() << "\n";
//   server->Wait();
//
// Thread-safety: Shutdown may be called from any thread, once.
#ifndef WEIGHTSERVER_SERVER_SERVER_H_
#define WEIGHTSERVER_SERVER_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/server.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/access_log.h"
#include "server/catalog_source.h"
#include "server/live_repository.h"
#include "server/metrics.h"
#include "server/model_repository.h"
#include "server/tls_credentials.h"
#include "server/weight_service.h"

namespace weightserver::server {

struct ServerOptions {
  std::string repo;
  // RepositoryOptions::max_extra_file_bytes of the scan.
  uint64_t max_extra_file_bytes = RepositoryOptions().max_extra_file_bytes;
  // RepositoryOptions::hf_cache of the scan.
  bool hf_cache = true;
  // LiveRepositoryOptions: rescans on changes (inotify) and every
  // rescan_interval (zero: never).
  bool watch_repo = true;
  absl::Duration rescan_interval = absl::Seconds(60);
  std::string listen = "127.0.0.1:50051";
  ServiceOptions service;
  // Largest request message accepted (a Fetch naming many tensors; the
  // client sends at most 8,192 per call).
  int max_request_bytes = 8 << 20;
  // Plaintext unless a certificate is given (tls_credentials.h).
  TlsOptions tls;
  // Connections (gRPC channel arguments). After max_connection_age (+-10%
  // jitter, gRPC's) the server sends GOAWAY: clients open a new connection
  // for their next calls, so they spread over replicas added since; running
  // calls get max_connection_age_grace to finish, then are cancelled. Zero
  // or infinite: no such limit.
  absl::Duration max_connection_age = absl::Minutes(30);
  absl::Duration max_connection_age_grace = absl::InfiniteDuration();
  // The server pings a connection after keepalive_time without activity,
  // and closes it when no answer comes within keepalive_timeout (a client
  // that vanished frees its streams).
  absl::Duration keepalive_time = absl::Minutes(2);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // A client may ping at most once per min_client_ping_interval while no
  // data flows; after max_ping_strikes faster pings the server closes the
  // connection (GOAWAY "too_many_pings").
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
  // HOST:PORT of the metrics listener (port 0 picks a free one); empty:
  // no metrics.
  std::string metrics_listen;
  // One line per Fetch and ReadFile stream; off by default.
  AccessLogOptions access_log;
};

// Whether `listen` (HOST:PORT or unix:PATH) is reachable from this machine
// only: a unix socket, localhost, 127.0.0.0/8 or [::1].
bool IsLoopback(const std::string& listen);

class Server {
 public:
  // Errors: the repository scan's (NotFound, InvalidArgument),
  // MakeServerCredentials's, AccessLog::Open's, and Unavailable when the
  // address (or the metrics address) cannot be bound.
  // With `source` (a cache's, cache/cache_repository.h), the models come
  // from it and options.repo and the rescan options are not used.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options,
      std::shared_ptr<CatalogSource> source = nullptr);

  ~Server();

  // HOST:PORT with the bound port, or unix:PATH.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // The catalog now (it changes with each rescan), and its owner.
  std::shared_ptr<const ModelRepository> repository() const {
    return source_->Snapshot();
  }
  // An origin's repository (not for a server started with a source).
  LiveRepository& live_repository() const { return *repository_; }
  const WeightService& service() const { return *service_; }
  // HOST:PORT of the metrics listener with its bound port; empty without
  // metrics_listen.
  std::string metrics_address() const {
    return metrics_listener_ ? metrics_listener_->address() : std::string();
  }
  // The metrics (nullptr without metrics_listen); more samplers may be
  // added (a cache's, cache/cache_metrics.h).
  const ServerMetrics* metrics() const { return metrics_.get(); }
  ServerMetrics* metrics() { return metrics_.get(); }

  // Stops accepting calls; running calls get until `grace` to finish, then
  // are cancelled.
  void Shutdown(absl::Duration grace);
  // Blocks until the server has shut down.
  void Wait();

 private:
  Server() = default;

  std::shared_ptr<LiveRepository> repository_;  // nullptr with a source.
  std::shared_ptr<CatalogSource> source_;
  // Before service_: the service's streams record into them.
  std::shared_ptr<ServerMetrics> metrics_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<WeightService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::string address_;
  int port_ = 0;
  // Last: stopped first, as its samplers read service_.
  std::unique_ptr<MetricsListener> metrics_listener_;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_SERVER_H_
