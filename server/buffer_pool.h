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
// Fair sharing. Streams register as Users. While some stream waits for a
// buffer (the pool is contended), each user's fair share is the capacity
// divided by the users (at least one buffer): a stream at or over its share
// takes no more (FetchScheduler checks), and a stream that starts waiting
// while under its share asks the others to shed what they hold over theirs
// (ShedFor): read-ahead chunks that are filled but not yet written, which a
// stream whose client reads slowly would otherwise sit on. The buffer of a
// write in flight cannot be taken back; StallWatchdog cuts streams that hold
// one without progress while a stream under its share waits
// (starved_since_ns()). A stream over its share that waits starves no one:
// it does not count.
//
// Example:
//   BufferPool pool(/*capacity_bytes=*/48 << 20, /*max_buffer_bytes=*/4 << 20);
//   if (std::byte* b = pool.TryAcquire(n)) { ...; pool.Release(b, n); }
//   else pool.WaitForRelease(n, [this] { Resume(); });
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef WEIGHTSERVER_SERVER_BUFFER_POOL_H_
#define WEIGHTSERVER_SERVER_BUFFER_POOL_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace weightserver::server {

class BufferPool {
 public:
  // A stream that holds buffers.
  class User {
   public:
    virtual ~User() = default;
    // Gives up buffers it holds beyond `keep_bytes` that it can refill later
    // (filled, not yet written), returning them (buffer, bytes as acquired)
    // for the pool to release. Called under the pool's user lock: it must
    // not call into the pool.
    virtual std::vector<std::pair<std::byte*, size_t>> Shed(size_t keep_bytes) = 0;
  };

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
  // must give up (out of memory). True otherwise. `under_share`: the caller
  // holds less than its fair share (its wait starts starved_since_ns()).
  bool WaitForRelease(size_t bytes, std::function<void()> callback,
                      bool under_share = false);

  // Registers or unregisters a user (Remove waits for a Shed in progress).
  void AddUser(User* user);
  void RemoveUser(User* user);

  // capacity / users, at least one buffer of `bytes`.
  size_t FairShareBytes(size_t bytes) const;
  // Whether a stream waits for a buffer now.
  bool contended() const;
  // Since when (steady clock, ns) a stream under its fair share has waited
  // without a release; 0 when none waits.
  int64_t starved_since_ns() const;

  // Asks every user but `requester` (nullptr: every user) to shed what it
  // holds beyond its fair share (for buffers of `bytes`), and releases what
  // they give up (which runs the waiters). Call outside any lock of the
  // caller's.
  void ShedFor(const User* requester, size_t bytes);

  // Buffers handed out now, and the bytes of their classes (for tests and
  // metrics).
  size_t in_use() const;
  size_t bytes_in_use() const;
  // Times WaitForRelease queued a callback (a stream found the budget
  // spent) since construction.
  uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }

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
  std::atomic<uint64_t> waits_{0};
  int64_t starved_since_ns_ ABSL_GUARDED_BY(mu_) = 0;  // 0: none starves.
  size_t users_count_ ABSL_GUARDED_BY(mu_) = 0;
  // Held while users shed, so that a user is not removed (destroyed) then.
  // Taken before mu_, never while it is held.
  Mutex users_mu_;
  std::vector<User*> users_ ABSL_GUARDED_BY(users_mu_);
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_BUFFER_POOL_H_
