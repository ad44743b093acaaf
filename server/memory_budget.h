// Copyright 2026 The Weightserver Authors.
//
// server/memory_budget.h: the bytes that requests in progress may hold.
//
// A Fetch costs memory before it sends a byte: gRPC keeps the request
// message for the life of the call, and its plan (an entry per requested
// tensor, a span per run of selected bytes) lives until the stream ends. A
// client that sends large requests and never reads would otherwise hold that
// memory for as long as it likes, outside the read-ahead budget. Each
// accepted stream takes a Charge of what it holds; a request that does not
// fit in what is left is refused (RESOURCE_EXHAUSTED, retry later).
//
// Freed plans go back to malloc's free lists, which the server's tuning
// keeps mapped (util/malloc_tuning.h); MemoryTrimmer gives them back to the
// kernel after a spike.
//
// Example:
//   MemoryBudget budget(64 << 20);
//   std::optional<MemoryBudget::Charge> c = budget.TryCharge(n);
//   if (!c) return absl::ResourceExhaustedError("...");
//   // *c returns its bytes when destroyed.
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef WEIGHTSERVER_SERVER_MEMORY_BUDGET_H_
#define WEIGHTSERVER_SERVER_MEMORY_BUDGET_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace weightserver::server {

class MemoryBudget {
 public:
  // What one request holds; returns its bytes to the budget when destroyed.
  class Charge {
   public:
    Charge(Charge&& other) noexcept;
    Charge& operator=(Charge&& other) noexcept;
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge();

    uint64_t bytes() const { return bytes_; }

   private:
    friend class MemoryBudget;
    Charge(MemoryBudget* budget, uint64_t bytes)
        : budget_(budget), bytes_(bytes) {}
    MemoryBudget* budget_ = nullptr;  // nullptr once moved from.
    uint64_t bytes_ = 0;
  };

  explicit MemoryBudget(uint64_t capacity_bytes);
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // A charge of `bytes`, or nullopt when fewer than `bytes` are left.
  // The budget must outlive the charge.
  std::optional<Charge> TryCharge(uint64_t bytes);

  uint64_t capacity() const { return capacity_; }
  uint64_t used() const;

 private:
  void Release(uint64_t bytes);

  const uint64_t capacity_;
  mutable Mutex mu_;
  uint64_t used_ ABSL_GUARDED_BY(mu_) = 0;
};

// Gives free heap memory back to the kernel. The server's malloc keeps up to
// 256 MiB of freed memory mapped (util/malloc_tuning.h: gRPC's buffers are
// reused instead of faulted in again), so a spike (large requests, many
// streams at once, a refused 8 MiB message) would otherwise stay resident
// for good. Every `interval`, when malloc holds more than `min_free_bytes`
// free, it calls malloc_trim(0), on a thread of its own. Refaulting what a
// running load reuses costs it at most min_free_bytes per interval.
class MemoryTrimmer {
 public:
  // A zero or infinite interval trims nothing (no thread).
  MemoryTrimmer(absl::Duration interval, uint64_t min_free_bytes);
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;
  // Stops and joins the thread.
  ~MemoryTrimmer();

  // malloc_trim calls so far.
  uint64_t trims() const { return trims_.load(); }

 private:
  void Loop();

  const absl::Duration interval_;
  const uint64_t min_free_bytes_;
  std::atomic<uint64_t> trims_{0};
  Mutex mu_;
  CondVar cv_;  // Signalled when stopping_ is set.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: started once the rest is ready.
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_MEMORY_BUDGET_H_
