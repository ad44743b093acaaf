// Copyright 2026 The Weightserver Authors.
//
// server/write_pacer.cc
#include "server/write_pacer.h"

#include <utility>

#include <grpc/support/time.h>

namespace weightserver::server {

void WritePacer::After(absl::Duration wait, std::function<void(bool)> then) {
  RecursiveMutexLock lock(&mu_);
  alarm_ = std::make_unique<grpc::Alarm>();
  // On the monotonic clock: a wall-clock step must not stretch a wait.
  const gpr_timespec deadline = gpr_time_add(
      gpr_now(GPR_CLOCK_MONOTONIC),
      gpr_time_from_nanos(absl::ToInt64Nanoseconds(wait), GPR_TIMESPAN));
  alarm_->Set(deadline, std::move(then));
  if (cancelled_) alarm_->Cancel();  // Runs `then(false)`.
}

void WritePacer::Cancel() {
  RecursiveMutexLock lock(&mu_);
  cancelled_ = true;
  if (alarm_ != nullptr) alarm_->Cancel();  // A no-op once it has fired.
}

}  // namespace weightserver::server
