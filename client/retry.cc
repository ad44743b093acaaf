// Copyright 2026 The Weightserver Authors.
//
// client/retry.cc
#include "client/retry.h"

#include <random>

#include "absl/time/clock.h"

namespace weightserver::client {

absl::Duration Jittered(absl::Duration d) {
  thread_local std::minstd_rand random(std::random_device{}());
  return d * std::uniform_real_distribution<double>(0.5, 1.5)(random);
}

void BackoffSleep(absl::Duration wait, FetchCancel* cancel) {
  if (cancel == nullptr) {
    absl::SleepFor(wait);
  } else {
    cancel->SleepFor(wait);
  }
}

}  // namespace weightserver::client
