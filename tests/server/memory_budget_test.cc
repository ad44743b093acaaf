// Copyright 2026 The Weightserver Authors.
//
// tests/server/memory_budget_test.cc
#include "server/memory_budget.h"

#include <malloc.h>

#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/sanitizers.h"

namespace weightserver::server {
namespace {

TEST(MemoryBudgetTest, ChargesUpToTheCapacityAndReleasesOnDestruction) {
  MemoryBudget budget(100);
  std::optional<MemoryBudget::Charge> a = budget.TryCharge(60);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(budget.used(), 60u);
  EXPECT_FALSE(budget.TryCharge(41).has_value());
  std::optional<MemoryBudget::Charge> b = budget.TryCharge(40);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(budget.used(), 100u);
  EXPECT_FALSE(budget.TryCharge(1).has_value());
  a.reset();
  EXPECT_EQ(budget.used(), 40u);
  // Moving a charge moves its bytes, once.
  MemoryBudget::Charge moved = *std::move(b);
  b.reset();
  EXPECT_EQ(budget.used(), 40u);
  EXPECT_EQ(moved.bytes(), 40u);
  moved = *budget.TryCharge(10);  // The old 40 go back.
  EXPECT_EQ(budget.used(), 10u);
}

TEST(MemoryBudgetTest, ARequestOverTheWholeCapacityNeverFits) {
  MemoryBudget budget(100);
  EXPECT_FALSE(budget.TryCharge(101).has_value());
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryTrimmerTest, TrimsWhenMallocHoldsFreeMemory) {
  if (!weightserver::testing::kGlibcMalloc) {
    GTEST_SKIP() << "a sanitizer's allocator: mallinfo2 sees none of it "
                    "(the release build runs this test)";
  }
  MemoryTrimmer trimmer(absl::Milliseconds(20), 1 << 20);
  // 32 MiB freed into malloc's lists, below a block that pins the heap's
  // top (blocks of 64 KiB come from the heap, not from mmap).
  std::vector<std::vector<char>> blocks;
  for (int i = 0; i < 512; ++i) blocks.emplace_back(64 << 10, 'x');
  std::vector<char> pin(64 << 10, 'p');
  blocks.clear();
  for (int i = 0; i < 200 && trimmer.trims() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(trimmer.trims(), 1u);
}

TEST(MemoryTrimmerTest, ZeroIntervalNeverTrims) {
  MemoryTrimmer trimmer(absl::ZeroDuration(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(trimmer.trims(), 0u);
}

}  // namespace
}  // namespace weightserver::server
