// Copyright 2026 The Weightserver Authors.
//
// client/client.cc: channel set-up and the unary calls.
#include "client/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace weightserver::client {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

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
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::max(1, options.connections); ++i) {
    channels.push_back(grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args));
  }
  auto client = std::unique_ptr<Client>(
      new Client(target, std::move(options), std::move(channels)));
  return client;
}

Client::Client(std::string target, ClientOptions options,
               std::vector<std::shared_ptr<grpc::Channel>> channels)
    : target_(std::move(target)),
      options_(std::move(options)),
      stub_(v1::WeightService::NewStub(channels.front())),
      fetch_channels_(std::move(channels)) {}

absl::StatusOr<std::vector<v1::ModelSummary>> Client::ListModels() const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.unary_timeout));
  v1::ListModelsResponse response;
  grpc::Status status =
      stub_->ListModels(&context, v1::ListModelsRequest(), &response);
  if (!status.ok()) {
    absl::Status s = FromGrpcStatus(status);
    return absl::Status(s.code(), absl::StrCat("ListModels from ", target_,
                                               ": ", s.message()));
  }
  return std::vector<v1::ModelSummary>(response.models().begin(),
                                       response.models().end());
}

absl::StatusOr<v1::Model> Client::GetModel(absl::string_view name) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.unary_timeout));
  v1::GetModelRequest request;
  request.set_name(std::string(name));
  v1::Model model;
  grpc::Status status = stub_->GetModel(&context, request, &model);
  if (!status.ok()) {
    absl::Status s = FromGrpcStatus(status);
    return absl::Status(s.code(), absl::StrCat("GetModel from ", target_, ": ",
                                               s.message()));
  }
  return model;
}

absl::StatusOr<std::vector<const v1::TensorInfo*>> SelectTensors(
    const v1::Model& model, absl::Span<const std::string> names) {
  std::vector<const v1::TensorInfo*> out;
  if (names.empty()) {
    for (const v1::TensorInfo& t : model.tensors()) out.push_back(&t);
    return out;
  }
  absl::flat_hash_map<absl::string_view, const v1::TensorInfo*> by_name;
  for (const v1::TensorInfo& t : model.tensors()) by_name[t.name()] = &t;
  for (const std::string& name : names) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return absl::NotFoundError(absl::StrCat("model '", model.name(),
                                              "': no tensor '",
                                              absl::CHexEscape(name), "'"));
    }
    out.push_back(it->second);
  }
  return out;
}

}  // namespace weightserver::client
