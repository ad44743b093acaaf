// Copyright 2026 The Weightserver Authors.
//
// tests/client/fetch_cancel_test.cc: FetchCancel's callbacks and sleeps
// (the Fetch engine's use of it: tests/integration/pending_load_test.cc).
#include "weightserver/client/fetch_cancel.h"

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace weightserver::client {
namespace {

TEST(FetchCancelTest, CallbacksRunOnceAtCancelUnlessForgotten) {
  FetchCancel cancel;
  int a = 0, b = 0;
  const uint64_t ida = cancel.OnCancel([&a] { ++a; });
  const uint64_t idb = cancel.OnCancel([&b] { ++b; });
  EXPECT_NE(ida, 0u);
  EXPECT_NE(ida, idb);
  cancel.Forget(idb);
  EXPECT_FALSE(cancel.cancelled());
  cancel.Cancel();
  cancel.Cancel();  // Once.
  EXPECT_TRUE(cancel.cancelled());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  cancel.Forget(ida);  // Harmless after the fact.
}

TEST(FetchCancelTest, OnCancelAfterTheCancelRunsAtOnce) {
  FetchCancel cancel;
  cancel.Cancel();
  int a = 0;
  EXPECT_EQ(cancel.OnCancel([&a] { ++a; }), 0u);
  EXPECT_EQ(a, 1);
}

TEST(FetchCancelTest, SleepForEndsEarlyOnlyWhenCancelled) {
  FetchCancel cancel;
  absl::Time start = absl::Now();
  EXPECT_TRUE(cancel.SleepFor(absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));

  std::thread canceller([&cancel] {
    absl::SleepFor(absl::Milliseconds(100));
    cancel.Cancel();
  });
  start = absl::Now();
  EXPECT_FALSE(cancel.SleepFor(absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  canceller.join();
  EXPECT_FALSE(cancel.SleepFor(absl::Seconds(30)));  // At once, now.
}

}  // namespace
}  // namespace weightserver::client
