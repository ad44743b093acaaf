// Copyright 2026 The Weightserver Authors.
//
// client/client.cc: channel set-up and the unary calls.
#include "weightserver/client/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "client/channels.h"
#include "client/credentials.h"
#include "util/status_macros.h"
#include "wire/model_info.h"
#include "wire/status.h"

namespace weightserver::client {
namespace {

absl::Status CallFailed(absl::string_view what, const std::string& target,
                        const grpc::Status& status) {
  absl::Status s = wire::FromGrpcStatus(status);
  return absl::Status(s.code(),
                      absl::StrCat(what, " from ", target, ": ", s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const std::string& target, ClientOptions options) {
  if (target.empty()) {
    return absl::InvalidArgumentError("Connect: empty target address");
  }
  if (options.streams < 1) options.streams = 1;
  if (options.max_attempts < 1) options.max_attempts = 1;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_bytes);
  args.SetMaxSendMessageSize(64 << 20);
  // A target that resolves to several replicas ("dns:///name:port" of a
  // headless Service, "ipv4:a:p1,b:p2") gets a connection to each; every
  // call (so every Fetch stream) picks the next one. One address: no change.
  args.SetLoadBalancingPolicyName("round_robin");
  // Channels with equal arguments share one connection through the global
  // subchannel pool; a local pool per channel gives each its own. Unary calls
  // use the first, so a short session (connect, GetModel, fetch a tensor)
  // opens a single connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                   ChannelCredentials(options));
  RETURN_IF_ERROR(CheckTokenTransport(options, target));
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  auto channels = std::make_unique<Channels>();
  for (int i = 0; i < std::max(1, options.connections); ++i) {
    channels->fetch.push_back(
        grpc::CreateCustomChannel(target, credentials, args));
  }
  channels->stub = v1::WeightService::NewStub(channels->fetch.front());
  return std::unique_ptr<Client>(
      new Client(target, std::move(options), std::move(channels)));
}

Client::Client(std::string target, ClientOptions options,
               std::unique_ptr<Channels> channels)
    : target_(std::move(target)),
      options_(std::move(options)),
      channels_(std::move(channels)) {}

Client::~Client() = default;

absl::StatusOr<std::vector<ModelSummary>> Client::ListModels() const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.unary_timeout));
  AddCredentials(options_.token, &context);
  v1::ListModelsResponse response;
  grpc::Status status =
      channels_->stub->ListModels(&context, v1::ListModelsRequest(), &response);
  if (!status.ok()) return CallFailed("ListModels", target_, status);
  std::vector<ModelSummary> models;
  models.reserve(response.models_size());
  for (const v1::ModelSummary& m : response.models()) {
    models.push_back(wire::ModelSummaryFromProto(m));
  }
  return models;
}

absl::StatusOr<ModelInfo> Client::GetModel(absl::string_view name) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.unary_timeout));
  AddCredentials(options_.token, &context);
  v1::GetModelRequest request;
  request.set_name(std::string(name));
  v1::Model model;
  grpc::Status status = channels_->stub->GetModel(&context, request, &model);
  if (!status.ok()) return CallFailed("GetModel", target_, status);
  return wire::ModelInfoFromProto(model);
}

absl::StatusOr<ModelInfo> Client::GetModel(absl::string_view name,
                                           absl::string_view revision) const {
  absl::StatusOr<ModelInfo> model = GetModel(name);
  const bool other = model.ok() ? model->revision != revision
                                : model.status().code() == absl::StatusCode::kNotFound;
  if (!revision.empty() && other) {
    // A snapshot served under its own name (ORG/NAME@COMMIT).
    absl::StatusOr<ModelInfo> snapshot =
        GetModel(absl::StrCat(name, "@", revision));
    if (snapshot.ok()) return snapshot;
  }
  if (model.ok() && !revision.empty() && model->revision != revision) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", name, "' on ", target_, " is at revision ", model->revision,
        ", not the ", revision, " asked for"));
  }
  return model;
}

}  // namespace weightserver::client
