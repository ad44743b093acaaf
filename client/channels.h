// Copyright 2026 The Weightserver Authors.
//
// client/channels.h: the gRPC side of a Client (kept out of client.h).
//
// Thread-safety: immutable after Client::Connect; channels and stubs are
// thread-safe.
#ifndef WEIGHTSERVER_CLIENT_CHANNELS_H_
#define WEIGHTSERVER_CLIENT_CHANNELS_H_

#include <memory>
#include <vector>

#include <grpcpp/channel.h>

#include "weightserver/client/client.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver::client {

struct Client::Channels {
  // Unary calls, over fetch[0].
  std::unique_ptr<v1::WeightService::Stub> stub;
  // Fetch streams: ClientOptions::connections channels, each its own
  // connection.
  std::vector<std::shared_ptr<grpc::Channel>> fetch;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_CHANNELS_H_
