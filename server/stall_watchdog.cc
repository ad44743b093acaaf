// Copyright 2026 The Weightserver Authors.
//
// server/stall_watchdog.cc
#include "server/stall_watchdog.h"

#include <algorithm>
#include <chrono>

#include <grpcpp/server_context.h>

#include "util/log.h"

namespace weightserver::server {

int64_t StallWatch::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void StallWatch::Detach() {
  RecursiveMutexLock lock(&mu_);
  detached_.store(true);
  context_ = nullptr;
}

bool StallWatch::CancelIfStalledSince(int64_t deadline_ns) {
  const int64_t started = write_started_ns_.load();
  if (started == 0 || started > deadline_ns) return false;
  RecursiveMutexLock lock(&mu_);
  // Still the same write, not one that completed meanwhile (a later one
  // has a later start; WriteDone clears it).
  if (context_ == nullptr || write_started_ns_.load() != started) return false;
  context_->TryCancel();
  context_ = nullptr;  // Once.
  return true;
}

StallWatchdog::StallWatchdog(absl::Duration timeout) : timeout_(timeout) {
  if (timeout_ > absl::ZeroDuration() && timeout_ != absl::InfiniteDuration()) {
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
  // Checked a few times per timeout: a stall is cut between 1x and 1.25x it.
  const absl::Duration period = absl::Nanoseconds(std::clamp<int64_t>(
      absl::ToInt64Nanoseconds(timeout_) / 4, 10'000'000, 1'000'000'000));
  mu_.Lock();
  while (!stopping_) {
    // Woken early only to stop (or spuriously: a check too many, harmless).
    cv_.WaitWithTimeout(&mu_, period);
    if (stopping_) break;
    std::erase_if(watches_, [](const auto& w) { return w->detached(); });
    std::vector<std::shared_ptr<StallWatch>> watches = watches_;
    mu_.Unlock();
    const int64_t deadline =
        StallWatch::NowNs() - absl::ToInt64Nanoseconds(timeout_);
    for (const auto& w : watches) {
      if (w->CancelIfStalledSince(deadline)) {
        cancelled_.fetch_add(1);
        LOG(WARNING) << "Fetch stream cancelled: its client accepted no data "
                     << "for " << absl::FormatDuration(timeout_)
                     << " (--stall_timeout)";
      }
    }
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace weightserver::server
