// Copyright 2026 The Weightserver Authors.
//
// server/server.cc
#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/service_metrics.h"
#include "util/status_macros.h"

namespace weightserver::server {
namespace {

LiveRepositoryOptions LiveOptions(const ServerOptions& options) {
  LiveRepositoryOptions live;
  live.repository.root = options.repo;
  live.repository.max_extra_file_bytes = options.max_extra_file_bytes;
  live.repository.hf_cache = options.hf_cache;
  live.watch = options.watch_repo;
  live.rescan_interval = options.rescan_interval;
  return live;
}

// A duration as a channel argument in milliseconds (INT_MAX: infinite).
int Millis(absl::Duration d) {
  if (d == absl::InfiniteDuration() || d >= absl::Milliseconds(INT_MAX)) {
    return INT_MAX;
  }
  return static_cast<int>(absl::ToInt64Milliseconds(d));
}

bool Limited(absl::Duration d) {
  return d > absl::ZeroDuration() && d != absl::InfiniteDuration();
}

// Connection age and keepalive (server.h, ServerOptions).
void SetConnectionArguments(const ServerOptions& options,
                            grpc::ServerBuilder* builder) {
  if (Limited(options.max_connection_age)) {
    builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                                Millis(options.max_connection_age));
    builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                                Millis(options.max_connection_age_grace));
  }
  // Zero, negative or infinite: no keepalive pings (INT_MAX ms), and no
  // timeout, rather than gRPC reading 0 ms as "ping constantly".
  builder->AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      Limited(options.keepalive_time) ? Millis(options.keepalive_time) : INT_MAX);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                              Limited(options.keepalive_timeout)
                                  ? Millis(options.keepalive_timeout)
                                  : INT_MAX);
  builder->AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      std::max(0, Millis(options.min_client_ping_interval)));
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                              options.max_ping_strikes);
}

}  // namespace

bool IsLoopback(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) return true;
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || absl::StartsWith(host, "127.");
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, std::shared_ptr<CatalogSource> source) {
  std::unique_ptr<Server> server(new Server());
  if (source == nullptr) {
    ASSIGN_OR_RETURN(std::unique_ptr<LiveRepository> repo,
                     LiveRepository::Start(LiveOptions(options)));
    server->repository_ = std::move(repo);
    source = server->repository_;
  }
  server->source_ = std::move(source);
  ServiceOptions service_options = options.service;
  if (!options.metrics_listen.empty()) {
    server->metrics_ = std::make_shared<ServerMetrics>();
    service_options.metrics = server->metrics_.get();
  }
  if (options.access_log.enabled()) {
    ASSIGN_OR_RETURN(server->access_log_, AccessLog::Open(options.access_log));
    service_options.access_log = server->access_log_.get();
  }
  ASSIGN_OR_RETURN(server->service_,
                   WeightService::Create(server->source_, service_options));

  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   MakeServerCredentials(options.tls));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, credentials, &port);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  builder.SetMaxSendMessageSize(-1);
  SetConnectionArguments(options, &builder);
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use or invalid?)"));
  }
  server->port_ = port;
  if (absl::StartsWith(options.listen, "unix:")) {
    server->address_ = options.listen;
  } else {
    std::string host = options.listen.substr(0, options.listen.rfind(':'));
    server->address_ = absl::StrCat(host, ":", port);
  }
  if (server->metrics_ != nullptr) {
    ExportServiceMetrics(*server->service_, server->metrics_.get());
    if (server->repository_ != nullptr) {
      ExportRepositoryMetrics(server->repository_, server->metrics_.get());
    }
    ASSIGN_OR_RETURN(server->metrics_listener_,
                     MetricsListener::Start(options.metrics_listen,
                                            server->metrics_));
  }
  grpc::HealthCheckServiceInterface* health =
      server->grpc_server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    health->SetServingStatus(v1::WeightService::service_full_name(), true);
  }
  return server;
}

Server::~Server() {
  if (grpc_server_ != nullptr) {
    grpc_server_->Shutdown(std::chrono::system_clock::now());
    grpc_server_->Wait();
  }
}

void Server::Shutdown(absl::Duration grace) {
  if (grpc::HealthCheckServiceInterface* health =
          grpc_server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
}

void Server::Wait() { grpc_server_->Wait(); }

}  // namespace weightserver::server
