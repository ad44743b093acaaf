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

#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "weightserver/client/client.h"

namespace weightserver::client {

// Errors: Client::Connect's for the TLS options.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientOptions& options);

// Errors: InvalidArgument when `options` would send a token in clear text
// to `target` (not loopback, not a unix socket, no TLS, no
// allow_insecure_token), or the token holds characters a header cannot.
absl::Status CheckTokenTransport(const ClientOptions& options,
                                 const std::string& target);

// Adds the token's `authorization` header to `context` (none if empty).
void AddCredentials(const std::string& token, grpc::ClientContext* context);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_CREDENTIALS_H_
