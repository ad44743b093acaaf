// Copyright 2026 The Weightserver Authors.
//
// server/client_limits.h: limits per client: concurrent streams and bytes per
// second, per identity and for the whole server.
//
// A client is an identity of the access policy (auth_policy.h) or, without
// one, the peer's address without its port: every connection from one host
// counts as one client. ClientLimiter admits each Fetch or ReadFile stream
// of a client while it runs fewer than max_streams_per_client (the excess
// gets RESOURCE_EXHAUSTED; the client's other streams and every other client
// are unaffected), and paces the bytes of the admitted streams with token
// buckets (token_bucket.h): one per client, one for the whole server. Pacing
// never drops: a stream whose bucket is in debt waits before its next write
// (the reactor sets a timer, see write_pacer.h) and then sends it whole.
// Every limit keeps a counter (stats()) for the metrics to export.
//
// Example:
//   ClientLimiter limiter({.max_streams_per_client = 64,
//                          .max_bytes_per_second = 1 << 30});
//   ASSIGN_OR_RETURN(auto stream, limiter.Admit(ClientLabel(id, peer), "Fetch"));
//   absl::Duration wait = stream->Reserve(chunk_bytes);  // Before each write.
//   // The stream's slot is freed when `stream` is destroyed.
//
// Thread-safety: all methods may be called concurrently; a Stream's methods
// too.
#ifndef WEIGHTSERVER_SERVER_CLIENT_LIMITS_H_
#define WEIGHTSERVER_SERVER_CLIENT_LIMITS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/token_bucket.h"
#include "util/mutex.h"

namespace weightserver::server {

struct ClientLimitOptions {
  // Concurrent Fetch and ReadFile streams per client (0: no limit).
  int max_streams_per_client = 64;
  // Payload bytes per second over all streams of the server (0: no limit).
  uint64_t max_bytes_per_second = 0;
  // Payload bytes per second over all streams of one client (0: no limit).
  uint64_t max_bytes_per_second_per_client = 0;
  // For tests; default: steady_clock.
  TokenBucket::Clock clock = nullptr;
};

// What the limits did since the server started (metric-ready counters).
struct LimitStats {
  // Streams refused because their client ran max_streams_per_client.
  uint64_t streams_refused_per_client = 0;
  // Writes that waited for tokens, their payload bytes, and the time they
  // waited in all.
  uint64_t paced_writes = 0;
  uint64_t paced_bytes = 0;
  absl::Duration pacing_wait;
  // Clients with a stream running, or whose bucket is not full again yet.
  size_t clients = 0;
};

// The client a call counts as: "identity 'NAME'" for an identity of the
// access policy, else "peer HOST" with the host of gRPC's peer string
// ("ipv4:10.0.0.5:41234" -> "peer 10.0.0.5"; a unix socket's whole string).
std::string ClientLabel(absl::string_view identity, absl::string_view peer);

class ClientLimiter {
 public:
  // One admitted stream; destroying it frees its slot.
  class Stream {
   public:
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // Takes `bytes` from the client's and the server's buckets; returns how
    // long the caller must wait before writing them (zero: write now).
    absl::Duration Reserve(uint64_t bytes);

    const std::string& client() const { return client_; }

   private:
    friend class ClientLimiter;
    Stream(ClientLimiter* limiter, std::string client,
           std::shared_ptr<TokenBucket> bucket)
        : limiter_(limiter), client_(std::move(client)),
          bucket_(std::move(bucket)) {}

    ClientLimiter* const limiter_;  // Outlives its streams.
    const std::string client_;
    const std::shared_ptr<TokenBucket> bucket_;  // nullptr: no per-client cap.
  };

  // Options with a zero field set no such limit.
  explicit ClientLimiter(ClientLimitOptions options);
  ClientLimiter(const ClientLimiter&) = delete;
  ClientLimiter& operator=(const ClientLimiter&) = delete;
  // Only once every Stream it admitted is destroyed.
  ~ClientLimiter() = default;

  // Admits a stream of `client` (a ClientLabel). `what` starts the error
  // message ("Fetch model 'm'").
  // Errors: ResourceExhausted when `client` already runs
  // max_streams_per_client streams.
  absl::StatusOr<std::unique_ptr<Stream>> Admit(const std::string& client,
                                                absl::string_view what);

  LimitStats stats() const;
  const ClientLimitOptions& options() const { return options_; }

 private:
  struct Client {
    int streams = 0;
    std::shared_ptr<TokenBucket> bucket;  // nullptr: no per-client cap.
  };

  void Release(const std::string& client);
  // Forgets the clients with no stream and no debt.
  void Sweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<TokenBucket> MakeBucket(uint64_t rate) const;

  const ClientLimitOptions options_;
  const std::shared_ptr<TokenBucket> server_bucket_;  // nullptr: no cap.
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> paced_writes_{0};
  std::atomic<uint64_t> paced_bytes_{0};
  std::atomic<int64_t> pacing_wait_ns_{0};
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, Client> clients_ ABSL_GUARDED_BY(mu_);
  size_t next_sweep_ ABSL_GUARDED_BY(mu_) = 1024;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_CLIENT_LIMITS_H_
