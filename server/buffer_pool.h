// Copyright 2026 The Weightserver Authors.
//
// server/buffer_pool.h: a bounded pool of equal-sized chunk buffers.
//
// Every byte the server reads from a file lands in a pool buffer, and stays
// there until gRPC has sent it (the payload slice's destructor releases the
// buffer). The pool's capacity is therefore the bound on the server's data in
// flight, across all streams: a slow or stalled client holds at most its
// stream's read-ahead, and a stream that finds the pool empty waits (it asks
// to be called back on the next release) instead of allocating.
//
// Buffers are allocated lazily, page-aligned (O_DIRECT-ready), and kept.
//
// Example:
//   BufferPool pool(1 << 20, 48);
//   if (std::byte* b = pool.TryAcquire()) { ...; pool.Release(b); }
//   else pool.WaitForRelease([this] { Resume(); });
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef WEIGHTSERVER_SERVER_BUFFER_POOL_H_
#define WEIGHTSERVER_SERVER_BUFFER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace weightserver::server {

class BufferPool {
 public:
  // `buffer_bytes` per buffer, at most `max_buffers` of them.
  BufferPool(size_t buffer_bytes, size_t max_buffers);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  // All buffers must have been released.
  ~BufferPool();

  size_t buffer_bytes() const { return buffer_bytes_; }
  size_t max_buffers() const { return max_buffers_; }

  // A free buffer, or nullptr when all max_buffers are in use (or allocation
  // failed).
  std::byte* TryAcquire();

  // Returns `buffer` to the pool and runs every waiting callback (on this
  // thread, outside the pool's lock). All of them are woken, not one: a woken
  // stream may have ended meanwhile, and must not swallow the wake-up of the
  // others; those that lose the race for the buffer wait again.
  void Release(std::byte* buffer);

  // Runs `callback` once, after the next Release (or at once, on this thread,
  // when a buffer is free now).
  void WaitForRelease(std::function<void()> callback);

  // Buffers handed out now (for tests and metrics).
  size_t in_use() const;

 private:
  const size_t buffer_bytes_;
  const size_t max_buffers_;
  mutable std::mutex mu_;
  std::vector<std::byte*> free_ ABSL_GUARDED_BY(mu_);
  size_t allocated_ ABSL_GUARDED_BY(mu_) = 0;
  size_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::function<void()>> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_BUFFER_POOL_H_
