// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/fetch_sink.h: where the fetch engine puts verified
// bytes; the one interface behind every destination.
//
// For every chunk of output `item` (an index into the LoadPlan) the engine
// validates the header, calls Acquire for `size` host bytes, decodes the
// payload into them and checks its CRC32C there. Then exactly one of Commit
// (the bytes are verified) or Abandon (they are not: bad CRC, broken message,
// stopped fetch) follows for those bytes. Nothing unverified is committed.
// A destination in host memory returns the final address from Acquire and
// does nothing on Commit (one copy, no staging); a GPU destination returns a
// pinned slot and starts the copy to the device on Commit.
//
// Example:
//   class Counting : public FetchSink { ... };
//   Counting sink;
//   RETURN_IF_ERROR(client->Fetch(toc, plan, sink));
//
// Thread-safety: the engine calls a sink from several worker threads at once;
// implementations must be thread-safe.
#ifndef WEIGHTSERVER_CLIENT_FETCH_SINK_H_
#define WEIGHTSERVER_CLIENT_FETCH_SINK_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weightserver::client {

class FetchSink {
 public:
  virtual ~FetchSink() = default;

  // Host bytes to receive output bytes [offset, offset + size) of plan
  // output `item`. May block until room is free. Errors stop the fetch (they
  // are not retried).
  virtual absl::StatusOr<std::byte*> Acquire(size_t item, uint64_t offset,
                                             uint64_t size) = 0;
  // `bytes` (from Acquire) hold the verified output bytes. The sink owns
  // them again. Errors stop the fetch.
  virtual absl::Status Commit(size_t item, uint64_t offset, uint64_t size,
                              std::byte* bytes) = 0;
  // `bytes` (from Acquire) are not to be used; the sink owns them again.
  virtual void Abandon(std::byte* bytes) = 0;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_FETCH_SINK_H_
