// Copyright 2026 The Weightserver Authors.
//
// tests/testing/eventually.h: waits for a condition another thread (a
// daemon's rescan, a client loop) makes true.
//
// Example:
//   EXPECT_TRUE(Eventually([&] { return repo->Find("m") != nullptr; }));
#ifndef WEIGHTSERVER_TESTS_TESTING_EVENTUALLY_H_
#define WEIGHTSERVER_TESTS_TESTING_EVENTUALLY_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace weightserver::testing {

// Polls `done` every 10 ms until it holds (true) or `timeout` has passed
// (false).
inline bool Eventually(const std::function<bool()>& done,
                       absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_EVENTUALLY_H_
