// Copyright 2026 The Weightserver Authors.
//
// tests/server/buffer_pool_test.cc
#include "server/buffer_pool.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace weightserver::server {
namespace {

TEST(BufferPoolTest, NeverHandsOutMoreThanItsCapacity) {
  BufferPool pool(1000, 3);
  EXPECT_EQ(pool.buffer_bytes() % 4096, 0u);
  std::byte* a = pool.TryAcquire();
  std::byte* b = pool.TryAcquire();
  std::byte* c = pool.TryAcquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 4096, 0u);
  EXPECT_EQ(pool.TryAcquire(), nullptr);
  EXPECT_EQ(pool.in_use(), 3u);
  pool.Release(b);
  EXPECT_EQ(pool.TryAcquire(), b);  // Reused, not reallocated.
  pool.Release(a);
  pool.Release(b);
  pool.Release(c);
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(BufferPoolTest, WaitRunsAtOnceWhenABufferIsFree) {
  BufferPool pool(64, 1);
  bool ran = false;
  pool.WaitForRelease([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(BufferPoolTest, EveryWaiterIsWokenByARelease) {
  BufferPool pool(64, 1);
  std::byte* only = pool.TryAcquire();
  int woken = 0;
  // Three streams wait; a woken one that no longer wants the buffer must
  // not swallow the wake-up of the others.
  for (int i = 0; i < 3; ++i) pool.WaitForRelease([&] { ++woken; });
  EXPECT_EQ(woken, 0);
  pool.Release(only);
  EXPECT_EQ(woken, 3);
  pool.Release(pool.TryAcquire());  // No waiters left: nothing runs.
  EXPECT_EQ(woken, 3);
}

}  // namespace
}  // namespace weightserver::server
