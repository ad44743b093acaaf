// Copyright 2026 The Weightserver Authors.
//
// tests/client/fake_copier.h: a DeviceCopier without a GPU, for tests.
//
// Copies run asynchronously, in order, on one worker thread (like a CUDA
// stream) after an injected delay; the bytes are read from the source only
// when the copy runs, so a ring that reuses a slot too early corrupts the
// "device" and the test sees it. Copy number `fail_copy_at` (0-based) fails;
// AllocPinned call `fail_pinned_at` fails. Every allocation is counted.
//
// Example:
//   FakeCopier fake(/*slots=*/4);
//   fake.delay = absl::Milliseconds(1);
//   ... DeviceRing::Create(&fake, ...) ...
//   EXPECT_EQ(fake.live_allocations(), 0);
//
// Thread-safety: as DeviceCopier; set the knobs before use.
#ifndef WEIGHTSERVER_TESTS_CLIENT_FAKE_COPIER_H_
#define WEIGHTSERVER_TESTS_CLIENT_FAKE_COPIER_H_

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "weightserver/client/device_copier.h"

namespace weightserver::client {

class FakeCopier final : public DeviceCopier {
 public:
  explicit FakeCopier(int slots) : pending_(slots, 0), status_(slots) {
    worker_ = std::thread([this] { Run(); });
  }
  ~FakeCopier() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  // Knobs.
  absl::Duration delay = absl::ZeroDuration();
  int fail_copy_at = -1;
  int fail_pinned_at = -1;

  int slots() const override { return static_cast<int>(pending_.size()); }

  absl::StatusOr<void*> AllocPinned(size_t n) override {
    std::lock_guard<std::mutex> l(mu_);
    if (pinned_calls_++ == fail_pinned_at) {
      return absl::ResourceExhaustedError("injected pinned allocation failure");
    }
    ++live_;
    return new std::byte[n];
  }
  void FreePinned(void* p) override { Free(p); }
  absl::StatusOr<void*> AllocDevice(size_t n) override {
    std::lock_guard<std::mutex> l(mu_);
    ++live_;
    return new std::byte[n]();
  }
  void FreeDevice(void* p) override { Free(p); }

  absl::Status CopyAsync(void* dst, const void* src, size_t n,
                         int slot) override {
    std::lock_guard<std::mutex> l(mu_);
    if (pending_[slot] > 0) ++violations_;  // The ring waits before reuse.
    ++pending_[slot];
    busy_sources_.insert(src);
    jobs_.push_back(Job{dst, src, n, slot, copies_++});
    copied_bytes_ += n;
    cv_.notify_all();
    return absl::OkStatus();
  }
  absl::Status WaitSlot(int slot) override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return pending_[slot] == 0; });
    return status_[slot];
  }

  // Observations.
  int live_allocations() {
    std::lock_guard<std::mutex> l(mu_);
    return live_;
  }
  int violations() {
    std::lock_guard<std::mutex> l(mu_);
    return violations_;
  }
  int copies() {
    std::lock_guard<std::mutex> l(mu_);
    return copies_;
  }
  // Bytes of every copy started.
  uint64_t copied_bytes() {
    std::lock_guard<std::mutex> l(mu_);
    return copied_bytes_;
  }
  // Whether `src` is the source of a copy not yet done.
  bool Busy(const void* src) {
    std::lock_guard<std::mutex> l(mu_);
    return busy_sources_.count(src) > 0;
  }

 private:
  struct Job {
    void* dst;
    const void* src;
    size_t n;
    int slot;
    int seq;
  };
  void Free(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> l(mu_);
    --live_;
    delete[] static_cast<std::byte*>(p);
  }
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      Job j = jobs_.front();
      jobs_.pop_front();
      l.unlock();
      absl::SleepFor(delay);
      const bool fail = j.seq == fail_copy_at;
      if (!fail) std::memcpy(j.dst, j.src, j.n);
      l.lock();
      status_[j.slot] = fail ? absl::InternalError("injected copy failure")
                             : absl::OkStatus();
      busy_sources_.erase(busy_sources_.find(j.src));
      --pending_[j.slot];
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<int> pending_;
  std::vector<absl::Status> status_;
  std::multiset<const void*> busy_sources_;
  int copies_ = 0, live_ = 0, violations_ = 0, pinned_calls_ = 0;
  uint64_t copied_bytes_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_TESTS_CLIENT_FAKE_COPIER_H_
