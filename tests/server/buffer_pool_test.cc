// Copyright 2026 The Weightserver Authors.
//
// tests/server/buffer_pool_test.cc
#include "server/buffer_pool.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace weightserver::server {
namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * kKiB;

TEST(BufferPoolTest, NeverHandsOutMoreThanItsBudget) {
  BufferPool pool(3 * kMiB, 1 * kMiB);
  std::byte* a = pool.TryAcquire(1000 * kKiB);
  std::byte* b = pool.TryAcquire(1 * kMiB);
  std::byte* c = pool.TryAcquire(1 * kMiB);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 4096, 0u);
  EXPECT_EQ(pool.TryAcquire(1), nullptr);
  EXPECT_EQ(pool.in_use(), 3u);
  EXPECT_EQ(pool.bytes_in_use(), 3 * kMiB);
  pool.Release(b, 1 * kMiB);
  EXPECT_EQ(pool.TryAcquire(1 * kMiB), b);  // Reused, not reallocated.
  pool.Release(a, 1000 * kKiB);
  pool.Release(b, 1 * kMiB);
  pool.Release(c, 1 * kMiB);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

// A small chunk costs its own size class, not the largest buffer.
TEST(BufferPoolTest, SmallBuffersCostTheirClass) {
  BufferPool pool(4 * kMiB, 4 * kMiB);
  std::vector<std::byte*> got;
  for (std::byte* b; (b = pool.TryAcquire(1 * kMiB)) != nullptr;) {
    got.push_back(b);
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(pool.TryAcquire(64 * kKiB), nullptr);
  for (std::byte* b : got) pool.Release(b, 1 * kMiB);
  // Free 1 MiB buffers are given back to make room for a 4 MiB one.
  std::byte* big = pool.TryAcquire(3 * kMiB);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(pool.bytes_in_use(), 4 * kMiB);
  EXPECT_EQ(pool.TryAcquire(1), nullptr);
  pool.Release(big, 3 * kMiB);
}

TEST(BufferPoolTest, RefusesWhatNoBufferHolds) {
  BufferPool pool(8 * kMiB, 1 * kMiB);
  EXPECT_EQ(pool.TryAcquire(0), nullptr);
  EXPECT_EQ(pool.TryAcquire(1 * kMiB + 1), nullptr);
  EXPECT_EQ(pool.in_use(), 0u);
}

// The budget is raised to the largest buffer, so that one is always possible.
TEST(BufferPoolTest, BudgetHoldsAtLeastTheLargestBuffer) {
  BufferPool pool(1, 2 * kMiB);
  EXPECT_EQ(pool.capacity_bytes(), 2 * kMiB);
  std::byte* b = pool.TryAcquire(2 * kMiB);
  ASSERT_NE(b, nullptr);
  pool.Release(b, 2 * kMiB);
}

TEST(BufferPoolTest, WaitRunsAtOnceWhenABufferFits) {
  BufferPool pool(1 * kMiB, 1 * kMiB);
  std::byte* half = pool.TryAcquire(512 * kKiB);
  bool ran = false;
  pool.WaitForRelease(512 * kKiB, [&] { ran = true; });
  EXPECT_TRUE(ran);
  ran = false;
  pool.WaitForRelease(1 * kMiB, [&] { ran = true; });  // Does not fit now.
  EXPECT_FALSE(ran);
  pool.Release(half, 512 * kKiB);
  EXPECT_TRUE(ran);
}

// A buffer that cannot be allocated, with none in use: no release will ever
// come, so waiting is refused rather than left hanging.
TEST(BufferPoolTest, WaitIsRefusedWhenNothingCanEverBeFreed) {
  // 128 TiB: more than the whole user address space, even with overcommit.
  const size_t huge = size_t{1} << 47;
  BufferPool pool(huge, huge);
  EXPECT_EQ(pool.TryAcquire(huge), nullptr);
  bool ran = false;
  EXPECT_FALSE(pool.WaitForRelease(huge, [&] { ran = true; }));
  EXPECT_FALSE(ran);
  // With a buffer in use, a release will come: the wait is kept.
  std::byte* small = pool.TryAcquire(64 * kKiB);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(pool.TryAcquire(huge - 64 * kKiB), nullptr);
  EXPECT_TRUE(pool.WaitForRelease(huge, [&] { ran = true; }));
  EXPECT_FALSE(ran);
  pool.Release(small, 64 * kKiB);
  EXPECT_TRUE(ran);
}

TEST(BufferPoolTest, EveryWaiterIsWokenByARelease) {
  BufferPool pool(64 * kKiB, 64 * kKiB);
  std::byte* only = pool.TryAcquire(64 * kKiB);
  int woken = 0;
  // Three streams wait; a woken one that no longer wants the buffer must
  // not swallow the wake-up of the others.
  for (int i = 0; i < 3; ++i) pool.WaitForRelease(64 * kKiB, [&] { ++woken; });
  EXPECT_EQ(woken, 0);
  pool.Release(only, 64 * kKiB);
  EXPECT_EQ(woken, 3);
  pool.Release(pool.TryAcquire(64 * kKiB), 64 * kKiB);  // No waiters left.
  EXPECT_EQ(woken, 3);
}

// Only a stream under its fair share starves while it waits (what the stall
// watchdog cuts holders of stuck buffers for); a release ends the starving.
TEST(BufferPoolTest, OnlyAWaiterUnderItsShareStarves) {
  BufferPool pool(64 * kKiB, 64 * kKiB);
  std::byte* only = pool.TryAcquire(64 * kKiB);
  pool.WaitForRelease(64 * kKiB, [] {}, /*under_share=*/false);
  EXPECT_TRUE(pool.contended());
  EXPECT_EQ(pool.starved_since_ns(), 0);
  pool.WaitForRelease(64 * kKiB, [] {}, /*under_share=*/true);
  const int64_t since = pool.starved_since_ns();
  EXPECT_GT(since, 0);
  pool.WaitForRelease(64 * kKiB, [] {}, /*under_share=*/true);
  EXPECT_EQ(pool.starved_since_ns(), since);  // The first one's wait.
  pool.Release(only, 64 * kKiB);
  EXPECT_EQ(pool.starved_since_ns(), 0);
  EXPECT_FALSE(pool.contended());
}

}  // namespace
}  // namespace weightserver::server
