// Copyright 2026 The Weightserver Authors.
//
// server/buffer_pool.h: a bounded pool of chunk buffers, budgeted in bytes.
//
// Every byte the server reads from a file into memory of its own lands in a
// pool buffer, and stays there until gRPC has sent it (the payload slice's
// destructor releases the buffer). The pool's byte budget is therefore the
// bound on the server's data in flight, across all streams: a slow or
// stalled client holds at most its stream's read-ahead, and a stream that
// finds the budget spent waits (it asks to be called back on the next
// release) instead of allocating.
//
// Buffers come in power-of-two size classes from 64 KiB up to the largest
// buffer: a 1 MiB chunk costs 1 MiB of the budget, not the largest chunk
// size. They are allocated lazily, page-aligned (O_DIRECT-ready), and kept
// for reuse; a free buffer of another class is given back to the allocator
// when a new one would not fit the budget otherwise.
//
// Example:
//   BufferPool pool(/*capacity_bytes=*/48 << 20, /*max_buffer_bytes=*/4 << 20);
//   if (std::byte* b = pool.TryAcquire(n)) { ...; pool.Release(b, n); }
//   else pool.WaitForRelease(n, [this] { Resume(); });
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef WEIGHTSERVER_SERVER_BUFFER_POOL_H_
#define WEIGHTSERVER_SERVER_BUFFER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace weightserver::server {

class BufferPool {
 public:
  // Buffers of up to `max_buffer_bytes`, using at most `capacity_bytes` in
  // all (raised to the largest class's size when smaller, so that every
  // request can be met once the others are released).
  BufferPool(size_t capacity_bytes, size_t max_buffer_bytes);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  // All buffers must have been released.
  ~BufferPool();

  // What a buffer of `bytes` costs of the budget: its size class.
  static size_t BufferBytesFor(size_t bytes);

  size_t capacity_bytes() const { return capacity_bytes_; }
  size_t max_buffer_bytes() const { return max_buffer_bytes_; }

  // A free buffer of at least `bytes` (1 <= bytes <= max_buffer_bytes()), or
  // nullptr when the budget is spent (or allocation failed).
  std::byte* TryAcquire(size_t bytes);

  // Returns `buffer`, acquired with the same `bytes`, to the pool, and runs
  // every waiting callback (on this thread, outside the pool's lock). All of
  // them are woken, not one: a woken stream may have ended meanwhile, and
  // must not swallow the wake-up of the others; those that lose the race for
  // the buffer wait again.
  void Release(std::byte* buffer, size_t bytes);

  // Runs `callback` once: at once, on this thread, when TryAcquire(bytes)
  // would succeed now; otherwise after the next Release. After a failed
  // allocation it waits for a release, and when no buffer is in use (so no
  // release will come) it drops the callback and returns false: the caller
  // must give up (out of memory). True otherwise.
  bool WaitForRelease(size_t bytes, std::function<void()> callback);

  // Buffers handed out now, and the bytes of their classes (for tests and
  // metrics).
  size_t in_use() const;
  size_t bytes_in_use() const;

 private:
  // Index of the smallest class that holds `bytes`.
  size_t ClassOf(size_t bytes) const;
  size_t ClassBytes(size_t c) const { return kMinClassBytes << c; }

  static constexpr size_t kMinClassBytes = 64 << 10;

  const size_t max_buffer_bytes_;
  const size_t capacity_bytes_;
  mutable Mutex mu_;
  std::vector<std::vector<std::byte*>> free_ ABSL_GUARDED_BY(mu_);  // By class.
  size_t allocated_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // Free and in use.
  size_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bytes_in_use_ ABSL_GUARDED_BY(mu_) = 0;
  bool allocation_failed_ ABSL_GUARDED_BY(mu_) = false;  // Until a release.
  std::deque<std::function<void()>> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_BUFFER_POOL_H_
