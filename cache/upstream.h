// Copyright 2026 The Weightserver Authors.
//
// cache/upstream.h: the servers a cache copies from, tried in turn.
//
// An Upstream holds one client (client/, public API only) per address of
// --upstream (an origin, or another cache). Every call goes to the address
// that answered last; a call that fails with a retryable status
// (wire::IsRetryable's: UNAVAILABLE, RESOURCE_EXHAUSTED, DATA_LOSS, ...;
// DEADLINE_EXCEEDED; CANCELLED by an upstream shutting down) is tried on
// the next address, round after round, until `failover_timeout` has passed: a cache's stream whose origin dies goes on
// from a replica, and the client it serves sees no error. Other errors
// (NOT_FOUND, FAILED_PRECONDITION: the model changed) are final. A target
// that names several servers itself (dns:///NAME) is balanced and retried
// by its client.
//
// Example:
//   ASSIGN_OR_RETURN(auto up, Upstream::Connect({"10.0.0.1:50051",
//                                                "10.0.0.2:50051"}, {}));
//   ASSIGN_OR_RETURN(ModelInfo toc, up->GetModel("org/name"));
//
// Thread-safety: all methods may be called concurrently.
#ifndef WEIGHTSERVER_CACHE_UPSTREAM_H_
#define WEIGHTSERVER_CACHE_UPSTREAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "weightserver/client/client.h"

namespace weightserver::cache {

struct UpstreamOptions {
  // For every address: TLS, token, chunk size, ... Its retry settings apply
  // per address, before the next one is tried.
  client::ClientOptions client;
  // How long a call keeps trying the addresses in turn.
  absl::Duration failover_timeout = absl::Seconds(30);
};

class Upstream {
 public:
  // Errors: InvalidArgument for no address; Client::Connect's.
  static absl::StatusOr<std::unique_ptr<Upstream>> Connect(
      const std::vector<std::string>& addresses, UpstreamOptions options);

  absl::StatusOr<std::vector<client::ModelSummary>> ListModels();
  absl::StatusOr<client::ModelInfo> GetModel(const std::string& name);
  // Client::ReadBytes of `model`'s file `file`.
  absl::Status ReadBytes(const client::ModelInfo& model, const std::string& file,
                         uint64_t offset, absl::Span<std::byte> destination);
  // Client::ReadFile: an extra file.
  absl::StatusOr<std::string> ReadFile(const client::ModelInfo& model,
                                       const std::string& name);

  const std::vector<std::string>& addresses() const { return addresses_; }
  // Calls moved to the next address after a failure.
  uint64_t failovers() const { return failovers_.load(); }

 private:
  Upstream(std::vector<std::string> addresses,
           std::vector<std::unique_ptr<client::Client>> clients,
           UpstreamOptions options);
  // Runs `call` on the addresses in turn (see above).
  absl::Status Try(absl::string_view what,
                   absl::FunctionRef<absl::Status(const client::Client&)> call);

  const std::vector<std::string> addresses_;
  const std::vector<std::unique_ptr<client::Client>> clients_;
  const UpstreamOptions options_;
  std::atomic<size_t> current_{0};  // The address that answered last.
  std::atomic<uint64_t> failovers_{0};
};

}  // namespace weightserver::cache

#endif  // WEIGHTSERVER_CACHE_UPSTREAM_H_
