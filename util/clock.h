// Copyright 2026 The Weightserver Authors.
//
// util/clock.h: the one monotonic clock the server's timers compare.
//
// The buffer pool's starvation time, the stall watchdog's write and wait
// clocks and the token buckets all read SteadyNowNs(), so a time one of them
// records can be compared with another's.
//
// Example:
//   const int64_t start = SteadyNowNs();
//   ...
//   const int64_t took_ns = SteadyNowNs() - start;
//
// Thread-safety: safe to call from any thread.
#ifndef WEIGHTSERVER_UTIL_CLOCK_H_
#define WEIGHTSERVER_UTIL_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace weightserver {

// std::chrono::steady_clock, in nanoseconds since its epoch.
inline int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_CLOCK_H_
