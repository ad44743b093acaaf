// Copyright 2026 The Weightserver Authors.
//
// cli/cmd_health.cc: `weightctl health`, a call to the standard
// grpc.health.v1.Health/Check of a server (what Docker's HEALTHCHECK and
// scripts use; Kubernetes probes call the same service natively).
//
//   $ weightctl health
//   SERVING
//   $ weightctl health --service weightserver.v1.WeightService --timeout 1s
//   NOT_SERVING
//   weightctl: health of 127.0.0.1:50051 (service 'weightserver.v1...'): NOT_SERVING
//
// Exit 0 only when the answer is SERVING; 1 with one line otherwise
// (NOT_SERVING, unknown service, unreachable server, deadline exceeded).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "client/credentials.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "wire/status.h"

namespace weightserver::cli {
namespace {

using ::grpc::health::v1::HealthCheckResponse;

constexpr absl::Duration kDefaultTimeout = absl::Seconds(3);

// "3", "2.5" (seconds) or an absl duration ("500ms", "1m").
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text) {
  double seconds = 0;
  absl::Duration d;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return UsageError(absl::StrCat("health: --timeout '", text,
                                   "': expected seconds or e.g. 500ms"));
  }
  if (d <= absl::ZeroDuration() || d > absl::Hours(1)) {
    return UsageError(
        absl::StrCat("health: --timeout ", text, ": must be in (0, 1h]"));
  }
  return d;
}

}  // namespace

absl::Status RunHealth(const Context& ctx, const ParsedArgs& args) {
  absl::Duration timeout = kDefaultTimeout;
  if (std::optional<std::string> t = args.Get("timeout")) {
    absl::StatusOr<absl::Duration> parsed = ParseTimeout(*t);
    if (!parsed.ok()) return parsed.status();
    timeout = *parsed;
  }
  const std::string service = args.Get("service").value_or("");
  const std::string what =
      absl::StrCat("health of ", ctx.server,
                   service.empty() ? "" : absl::StrCat(" (service '", service,
                                                       "')"));
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      client::ChannelCredentials(ctx.options);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments channel_args;
  if (!ctx.options.tls_server_name.empty()) {
    channel_args.SetSslTargetNameOverride(ctx.options.tls_server_name);
  }
  auto channel =
      grpc::CreateCustomChannel(ctx.server, *credentials, channel_args);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    absl::Status s = wire::FromGrpcStatus(status);
    if (s.code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(
          absl::StrCat(what, ": SERVICE_UNKNOWN (", s.message(), ")"));
    }
    return absl::Status(
        s.code(), absl::StrCat(what, " (deadline ",
                               absl::FormatDuration(timeout), "): ",
                               s.message()));
  }
  const std::string name =
      HealthCheckResponse::ServingStatus_Name(response.status());
  *ctx.out << name << "\n";
  if (response.status() != HealthCheckResponse::SERVING) {
    return absl::UnavailableError(absl::StrCat(what, ": ", name));
  }
  return absl::OkStatus();
}

}  // namespace weightserver::cli
