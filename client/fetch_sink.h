// Copyright 2026 The Weightserver Authors.
//
// client/fetch_sink.h: where the fetch engine puts chunks that are not bound
// for host memory the caller owns (e.g. a GPU, see device_ring.h).
//
// For every chunk the engine (fetch.cc) validates the header, calls Acquire
// for `size` host bytes, decodes the payload into them and checks its CRC32C
// there. Then exactly one of Commit (the bytes are verified) or Abandon (they
// are not: bad CRC, broken message, stopped fetch) follows for those bytes.
// Nothing unverified is ever committed.
//
// Example:
//   DeviceRing ring(...);                       // a FetchSink
//   RETURN_IF_ERROR(client->FetchTo(toc, items, &ring));
//   RETURN_IF_ERROR(ring.Finish());
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

  // Host bytes to receive output bytes [offset, offset + size) of item
  // `item` (its index in the FetchTo span). May block until room is free.
  // Errors stop the fetch (they are not retried).
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
