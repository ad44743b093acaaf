// Copyright 2026 The Weightserver Authors.
//
// tests/server/token_bucket_test.cc: TokenBucket and ClientLimiter on an
// injected clock (no sleeping).
#include "server/token_bucket.h"

#include <atomic>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/client_limits.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::server {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

// A clock that moves only when told.
class FakeClock {
 public:
  TokenBucket::Clock clock() {
    return [this] { return now_ns_.load(); };
  }
  void Advance(absl::Duration d) { now_ns_ += absl::ToInt64Nanoseconds(d); }

 private:
  std::atomic<int64_t> now_ns_{1'000'000'000};
};

TEST(TokenBucketTest, AFullBucketLetsItsBurstThroughAtOnce) {
  FakeClock clock;
  TokenBucket bucket(/*rate=*/1000, /*burst=*/500, clock.clock());
  EXPECT_EQ(bucket.Take(300), absl::ZeroDuration());
  EXPECT_EQ(bucket.Take(200), absl::ZeroDuration());
  // Empty now: 100 bytes are 100 ms of the rate.
  EXPECT_EQ(bucket.Take(100), absl::Milliseconds(100));
}

TEST(TokenBucketTest, DebtQueuesTakersInOrder) {
  FakeClock clock;
  TokenBucket bucket(1000, 100, clock.clock());
  EXPECT_EQ(bucket.Take(100), absl::ZeroDuration());
  // Each taker waits for the debt of those before it, and its own.
  EXPECT_EQ(bucket.Take(500), absl::Milliseconds(500));
  EXPECT_EQ(bucket.Take(500), absl::Milliseconds(1000));
  clock.Advance(absl::Milliseconds(400));
  EXPECT_EQ(bucket.Take(100), absl::Milliseconds(700));
  EXPECT_FALSE(bucket.Full());
}

TEST(TokenBucketTest, RefillsAtItsRateUpToTheBurst) {
  FakeClock clock;
  TokenBucket bucket(1000, 100, clock.clock());
  EXPECT_EQ(bucket.Take(100), absl::ZeroDuration());
  EXPECT_FALSE(bucket.Full());
  clock.Advance(absl::Milliseconds(50));
  EXPECT_EQ(bucket.Take(50), absl::ZeroDuration());
  clock.Advance(absl::Seconds(60));  // Idle: no more than the burst saved.
  EXPECT_TRUE(bucket.Full());
  EXPECT_EQ(bucket.Take(100), absl::ZeroDuration());
  EXPECT_EQ(bucket.Take(1), absl::Milliseconds(1));
}

// A sender that writes whenever its wait is over sends, over any window, no
// more than burst + rate * window (+ one write on credit).
TEST(TokenBucketTest, APacedSenderHoldsTheRate) {
  FakeClock clock;
  const double rate = 4'000'000, burst = 400'000;
  TokenBucket bucket(rate, burst, clock.clock());
  const uint64_t chunk = 64 << 10;
  uint64_t sent = 0;
  absl::Duration elapsed;
  while (elapsed < absl::Seconds(3)) {
    const absl::Duration wait = bucket.Take(chunk);
    clock.Advance(wait);
    elapsed += wait;
    if (elapsed < absl::Seconds(3)) sent += chunk;
  }
  EXPECT_LE(static_cast<double>(sent), burst + rate * 3 + chunk);
  EXPECT_GE(static_cast<double>(sent), rate * 3 - chunk);
}

TEST(ClientLabelTest, IsTheIdentityOrThePeerHostWithoutItsPort) {
  EXPECT_EQ(ClientLabel("a", "ipv4:10.0.0.5:41234"), "identity 'a'");
  EXPECT_EQ(ClientLabel("", "ipv4:10.0.0.5:41234"), "peer 10.0.0.5");
  EXPECT_EQ(ClientLabel("", "ipv6:[::1]:50051"), "peer [::1]");
  EXPECT_EQ(ClientLabel("", "unix:/tmp/ws.sock"), "peer unix:/tmp/ws.sock");
}

TEST(ClientLimiterTest, RefusesTheExcessStreamOfOneClientOnly) {
  ClientLimiter limiter({.max_streams_per_client = 2});
  ASSERT_OK_AND_ASSIGN(auto a1, limiter.Admit("identity 'a'", "Fetch"));
  ASSERT_OK_AND_ASSIGN(auto a2, limiter.Admit("identity 'a'", "Fetch"));
  EXPECT_THAT(limiter.Admit("identity 'a'", "Fetch model 'm'").status(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("identity 'a' already runs 2 streams, the most "
                                 "one client may run (max_streams_per_client)")));
  ASSERT_OK_AND_ASSIGN(auto b1, limiter.Admit("identity 'b'", "Fetch"));
  EXPECT_EQ(limiter.stats().streams_refused_per_client, 1u);
  EXPECT_EQ(limiter.stats().clients, 2u);
  a1.reset();  // Frees a slot.
  EXPECT_OK(limiter.Admit("identity 'a'", "Fetch").status());
  a2.reset();
  b1.reset();
  EXPECT_EQ(limiter.stats().clients, 0u);  // No debt: forgotten.
}

TEST(ClientLimiterTest, PacesPerClientAndForTheServer) {
  FakeClock clock;
  ClientLimiter limiter({.max_streams_per_client = 0,
                         .max_bytes_per_second = 10'000'000,
                         .max_bytes_per_second_per_client = 1'000'000,
                         .clock = clock.clock()});
  ASSERT_OK_AND_ASSIGN(auto a, limiter.Admit("identity 'a'", "Fetch"));
  ASSERT_OK_AND_ASSIGN(auto b, limiter.Admit("identity 'b'", "Fetch"));
  // Per-client burst: 100 ms of 1 MB/s.
  EXPECT_EQ(a->Reserve(100'000), absl::ZeroDuration());
  EXPECT_EQ(a->Reserve(100'000), absl::Milliseconds(100));
  // b has its own bucket.
  EXPECT_EQ(b->Reserve(100'000), absl::ZeroDuration());
  // The server's bucket (burst 1 MB) runs dry for both.
  EXPECT_EQ(b->Reserve(800'000), absl::Milliseconds(800));
  EXPECT_EQ(b->Reserve(100'000), absl::Milliseconds(900));
  const LimitStats s = limiter.stats();
  EXPECT_EQ(s.paced_writes, 3u);
  EXPECT_EQ(s.paced_bytes, 1'000'000u);
  EXPECT_EQ(s.pacing_wait, absl::Milliseconds(1800));
  // A client in debt is remembered after its streams end.
  a.reset();
  EXPECT_EQ(limiter.stats().clients, 2u);
}

TEST(ClientLimiterTest, TheServerCapBindsTwoClientsUnderTheirOwnCaps) {
  FakeClock clock;
  ClientLimiter limiter({.max_streams_per_client = 0,
                         .max_bytes_per_second = 1'000'000,
                         .max_bytes_per_second_per_client = 10'000'000,
                         .clock = clock.clock()});
  ASSERT_OK_AND_ASSIGN(auto a, limiter.Admit("identity 'a'", "Fetch"));
  ASSERT_OK_AND_ASSIGN(auto b, limiter.Admit("identity 'b'", "Fetch"));
  // The server's burst (100 ms of 1 MB/s) goes to a; b's own bucket is
  // full (1 MB), yet b waits for the server's.
  EXPECT_EQ(a->Reserve(100'000), absl::ZeroDuration());
  EXPECT_EQ(b->Reserve(100'000), absl::Milliseconds(100));
  EXPECT_EQ(a->Reserve(200'000), absl::Milliseconds(300));
  clock.Advance(absl::Milliseconds(300));
  EXPECT_EQ(b->Reserve(100'000), absl::Milliseconds(100));
}

}  // namespace
}  // namespace weightserver::server
