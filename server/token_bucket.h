// Copyright 2026 The Weightserver Authors.
//
// server/token_bucket.h: a token bucket that paces bytes, never drops them.
//
// The bucket fills at `rate` bytes per second up to `burst` bytes. Take(n)
// always succeeds: it takes n tokens, going into debt if there are fewer,
// and returns how long the caller must wait before sending its n bytes (the
// time the debt takes to be repaid). Callers that share a bucket therefore
// queue behind each other's debt in the order they took, and over any
// interval the bytes let through are at most burst + rate * interval (plus
// the one write each caller may start on its own credit). The clock is
// injected, so tests run without sleeping.
//
// Example:
//   TokenBucket bucket(/*rate=*/100 << 20, /*burst=*/10 << 20);
//   absl::Duration wait = bucket.Take(chunk.size());
//   if (wait > absl::ZeroDuration()) { ...start the write after `wait`... }
//
// Thread-safety: all methods may be called concurrently.
#ifndef WEIGHTSERVER_SERVER_TOKEN_BUCKET_H_
#define WEIGHTSERVER_SERVER_TOKEN_BUCKET_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace weightserver::server {

class TokenBucket {
 public:
  // Monotonic nanoseconds (default: SteadyNowNs, util/clock.h).
  using Clock = std::function<int64_t()>;

  // A full bucket. `rate` (bytes per second) and `burst` (bytes) must be
  // positive.
  TokenBucket(double rate, double burst, Clock clock = nullptr);
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Takes `bytes` tokens; returns zero when they were there, else how long
  // the caller must wait before it sends them.
  absl::Duration Take(uint64_t bytes);

  // Whether the bucket is full again (no debt, nothing worth keeping).
  bool Full();

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  void Refill() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double rate_;
  const double burst_;
  const Clock clock_;
  Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);   // Negative: debt.
  int64_t last_ns_ ABSL_GUARDED_BY(mu_);  // Of the last refill.
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_TOKEN_BUCKET_H_
