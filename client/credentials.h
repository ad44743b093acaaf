// Copyright 2026 The Weightserver Authors.
//
// client/credentials.h: the channel credentials ClientOptions ask for
// (plaintext, TLS, or TLS with a client certificate). Private to the
// client library and weightctl.
//
// Example:
//   ASSIGN_OR_RETURN(auto creds, ChannelCredentials(options));
//   auto channel = grpc::CreateCustomChannel(target, creds, args);
//
// Thread-safety: pure function (reads the files named).
#ifndef WEIGHTSERVER_CLIENT_CREDENTIALS_H_
#define WEIGHTSERVER_CLIENT_CREDENTIALS_H_

#include <memory>

#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "weightserver/client/client.h"

namespace weightserver::client {

// Errors: Client::Connect's for the TLS options.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientOptions& options);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_CREDENTIALS_H_
