// Copyright 2026 The Weightserver Authors.
//
// server/lazy_bytes.h: a served file whose bytes arrive while it is served.
//
// An origin's files are complete on disk. A cache's (cache/) are sparse
// copies that fill as blocks come from its upstream: before the read-ahead
// stage reads (or checksums) a chunk's source spans, the Fetch stream asks
// the file's LazyBytes for them, and reads only once they are present. A
// ServedFile without one (ServedFile::lazy is nullptr) is read at once.
//
// Example (fetch_reactor.cc):
//   if (lazy != nullptr && !lazy->Present(spans)) {
//     lazy->WhenPresent(spans, [job](absl::Status s) { ... submit or fail ... });
//   }
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef WEIGHTSERVER_SERVER_LAZY_BYTES_H_
#define WEIGHTSERVER_SERVER_LAZY_BYTES_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "server/source_span.h"

namespace weightserver::server {

class LazyBytes {
 public:
  virtual ~LazyBytes() = default;

  // True when every byte of `spans` (file offsets) is on disk, verified,
  // and may be read now.
  virtual bool Present(absl::Span<const SourceSpan> spans) = 0;

  // Gets what `spans` lack (from the cache's upstream) and calls `ready`
  // once, on another thread (never inline), with OK once every byte is
  // present, or with why they cannot be had: UNAVAILABLE (no upstream
  // answered), FAILED_PRECONDITION (the model changed upstream),
  // RESOURCE_EXHAUSTED (the cache's disk is full), DATA_LOSS.
  virtual void WhenPresent(std::vector<SourceSpan> spans,
                           std::function<void(absl::Status)> ready) = 0;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_LAZY_BYTES_H_
