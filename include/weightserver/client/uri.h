// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/uri.h: one string that names a model on a server.
//
// Every tool and SDK (weightctl, the Python package, engine plugins) accepts
// a model URI:
//
//   weightserver://HOST[:PORT]/MODEL[@REVISION]
//   weightserver+unix://SOCKET/MODEL[@REVISION]
//
//   HOST      a DNS name, an IPv4 address or a bracketed IPv6 address
//             ([::1]); PORT defaults to 50051.
//   SOCKET    the path of a unix socket, percent-encoded
//             (%2Frun%2Fweightserver.sock for /run/weightserver.sock).
//   MODEL     the model's name on the server, '/'-separated ("llama",
//             "org/name"); segments are percent-decoded (%40 is '@').
//   REVISION  the revision the caller insists on, exactly as GetModel
//             reports it (16 hex digits today): a load fails with
//             FAILED_PRECONDITION if the model is now another one. Absent:
//             whatever the server has. An '@' in the last segment always
//             starts the revision (write %40 for an '@' in a name).
//
// Example:
//   ASSIGN_OR_RETURN(ModelUri uri,
//       ParseModelUri("weightserver://10.0.0.5/org/llama@3f2a9c01d4e5b6a7"));
//   // uri.target == "10.0.0.5:50051", uri.model == "org/llama",
//   // uri.revision == "3f2a9c01d4e5b6a7"
//   ASSIGN_OR_RETURN(auto client, Client::Connect(uri.target));
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_CLIENT_URI_H_
#define WEIGHTSERVER_CLIENT_URI_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weightserver::client {

inline constexpr int kDefaultPort = 50051;

struct ModelUri {
  // gRPC target: "host:port", "[v6]:port", "unix:/path" ("dns:///host:port"
  // for a host named like a gRPC scheme, e.g. "unix").
  std::string target;
  std::string model;     // Decoded model name.
  std::string revision;  // Empty: any.

  friend bool operator==(const ModelUri&, const ModelUri&) = default;
};

// Whether `text` starts with one of the URI schemes (so a tool can take a
// URI or a plain model name in the same argument).
bool IsModelUri(absl::string_view text);

// Parses a model URI. Errors: InvalidArgument naming the URI and what is
// wrong (unknown scheme, no host, a bad port, no model, an empty, "." or ".."
// segment, a bad percent escape, an empty revision, a query or fragment).
absl::StatusOr<ModelUri> ParseModelUri(absl::string_view uri);

// The URI of `uri` (ParseModelUri(FormatModelUri(u)) == u for any parsed u).
std::string FormatModelUri(const ModelUri& uri);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_URI_H_
