// Copyright 2026 The Weightserver Authors.
//
// server/stall_watchdog.cc
#include "server/stall_watchdog.h"

#include <algorithm>

#include <grpcpp/server_context.h>

#include "util/clock.h"
#include "util/log.h"

namespace weightserver::server {

void StallWatch::Detach() {
  RecursiveMutexLock lock(&mu_);
  detached_.store(true);
  context_ = nullptr;
}

bool StallWatch::CancelIfStill(const std::atomic<int64_t>& clock,
                               int64_t started) {
  RecursiveMutexLock lock(&mu_);
  // Still the same write or wait, not one that ended meanwhile (a later one
  // has a later start; WriteDone and WaitDone clear it).
  if (context_ == nullptr || clock.load() != started) return false;
  context_->TryCancel();
  context_ = nullptr;  // Once.
  return true;
}

bool StallWatch::CancelIfStalledSince(int64_t deadline_ns) {
  for (const std::atomic<int64_t>* clock : {&write_started_ns_, &wait_started_ns_}) {
    const int64_t started = clock->load();
    if (started != 0 && started <= deadline_ns && CancelIfStill(*clock, started)) {
      return true;
    }
  }
  return false;
}

bool StallWatch::CancelIfHoldingBufferSince(int64_t deadline_ns) {
  const int64_t started = write_started_ns_.load();
  if (started != 0 && started <= deadline_ns && write_pooled_.load() &&
      CancelIfStill(write_started_ns_, started)) {
    return true;
  }
  const int64_t paced = paced_started_ns_.load();
  return paced != 0 && paced <= deadline_ns &&
         CancelIfStill(paced_started_ns_, paced);
}

namespace {
bool Finite(absl::Duration d) {
  return d > absl::ZeroDuration() && d != absl::InfiniteDuration();
}
}  // namespace

StallWatchdog::StallWatchdog(absl::Duration timeout, BufferPool* pool,
                             absl::Duration busy_timeout)
    : timeout_(timeout), pool_(pool), busy_timeout_(busy_timeout) {
  if (Finite(timeout_) || (pool_ != nullptr && Finite(busy_timeout_))) {
    thread_ = std::thread([this] { Loop(); });
  }
}

StallWatchdog::~StallWatchdog() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<StallWatch> StallWatchdog::Watch(
    grpc::CallbackServerContext* context) {
  auto watch = std::make_shared<StallWatch>(context);
  if (thread_.joinable()) {
    MutexLock lock(&mu_);
    watches_.push_back(watch);
  }
  return watch;
}

void StallWatchdog::Loop() {
  // Checked a few times per timeout: a stall is cut between 1x and 1.125x it.
  absl::Duration shortest = absl::InfiniteDuration();
  if (Finite(timeout_)) shortest = timeout_;
  if (pool_ != nullptr && Finite(busy_timeout_)) {
    shortest = std::min(shortest, busy_timeout_);
  }
  const absl::Duration period = absl::Nanoseconds(std::clamp<int64_t>(
      absl::ToInt64Nanoseconds(shortest) / 8, 10'000'000, 1'000'000'000));
  mu_.Lock();
  while (!stopping_) {
    // Woken early only to stop (or spuriously: a check too many, harmless).
    cv_.WaitWithTimeout(&mu_, period);
    if (stopping_) break;
    mu_.Unlock();
    Check();
    mu_.Lock();
  }
  mu_.Unlock();
}

void StallWatchdog::Check() {
  std::vector<std::shared_ptr<StallWatch>> watches;
  {
    MutexLock lock(&mu_);
    std::erase_if(watches_, [](const auto& w) { return w->detached(); });
    watches = watches_;
  }
  const int64_t now = SteadyNowNs();
  if (Finite(timeout_)) {
    const int64_t deadline = now - absl::ToInt64Nanoseconds(timeout_);
    for (const auto& w : watches) {
      if (w->CancelIfStalledSince(deadline)) {
        cancelled_.fetch_add(1);
        LOG(WARNING) << "Fetch stream cancelled: its client accepted no data, "
                     << "or it got no read-ahead buffer, for "
                     << absl::FormatDuration(timeout_) << " (--stall_timeout)";
      }
    }
  }
  if (pool_ == nullptr || !Finite(busy_timeout_)) return;
  const int64_t busy = absl::ToInt64Nanoseconds(busy_timeout_);
  if (pool_->starved_since_ns() == 0) return;
  // What can be given back without cutting anyone first: read-ahead filled
  // after the starving stream asked the others to shed (a release ends the
  // starving).
  pool_->ShedFor(nullptr, 0);
  const int64_t starved_since = pool_->starved_since_ns();
  if (starved_since == 0 || starved_since > now - busy) return;
  for (const auto& w : watches) {
    if (w->CancelIfHoldingBufferSince(now - busy)) {
      cancelled_.fetch_add(1);
      cancelled_busy_.fetch_add(1);
      LOG(WARNING) << "Fetch stream cancelled: its client accepted no data for "
                   << absl::FormatDuration(busy_timeout_)
                   << " while holding a read-ahead buffer other streams "
                   << "waited for (--busy_stall_timeout)";
    }
  }
}

}  // namespace weightserver::server
