// Copyright 2026 The Weightserver Authors.
//
// server/token_bucket.cc
#include "server/token_bucket.h"

#include <algorithm>
#include <cmath>

#include "util/clock.h"

namespace weightserver::server {

TokenBucket::TokenBucket(double rate, double burst, Clock clock)
    : rate_(rate),
      burst_(burst),
      clock_(clock ? std::move(clock) : Clock(&SteadyNowNs)) {
  MutexLock lock(&mu_);
  tokens_ = burst_;
  last_ns_ = clock_();
}

void TokenBucket::Refill() {
  const int64_t now = clock_();
  if (now <= last_ns_) return;  // A clock that stands still (or a test's).
  tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now - last_ns_) * 1e-9);
  last_ns_ = now;
}

absl::Duration TokenBucket::Take(uint64_t bytes) {
  MutexLock lock(&mu_);
  Refill();
  tokens_ -= static_cast<double>(bytes);
  if (tokens_ >= 0) return absl::ZeroDuration();
  return absl::Nanoseconds(static_cast<int64_t>(std::ceil(-tokens_ / rate_ * 1e9)));
}

bool TokenBucket::Full() {
  MutexLock lock(&mu_);
  Refill();
  return tokens_ >= burst_;
}

}  // namespace weightserver::server
