// Copyright 2026 The Weightserver Authors.
//
// tests/client/device_ring_test.cc: DeviceRing's ordering and recycling
// through FakeCopier (no GPU): interleaved chunks from several threads land
// intact, slots are reused only after their copy completed, a failed copy is
// a clear status, and nothing leaks on any path.
#include "client/device_ring.h"

#include <algorithm>
#include <random>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_copier.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::client {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

struct Chunk {
  size_t item;
  uint64_t offset, size;
};

std::byte Expected(size_t item, uint64_t offset) {
  return static_cast<std::byte>((offset * 131 + item * 17 + offset / 251) & 0xff);
}

// Items of `sizes` bytes laid out in one host "device" buffer.
class RingTest : public ::testing::Test {
 protected:
  void Layout(std::vector<uint64_t> sizes, uint64_t chunk) {
    uint64_t total = 0;
    for (uint64_t s : sizes) total += s;
    device_.assign(total, std::byte{0});
    uint64_t at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      targets_.push_back({device_.data() + at, sizes[i]});
      for (uint64_t o = 0; o < sizes[i]; o += chunk) {
        chunks_.push_back({i, o, std::min(chunk, sizes[i] - o)});
      }
      at += sizes[i];
    }
    std::mt19937 rng(7);
    std::shuffle(chunks_.begin(), chunks_.end(), rng);
  }
  // One chunk through the ring, as the fetch engine does it.
  absl::Status Put(DeviceRing* ring, const Chunk& c) {
    absl::StatusOr<std::byte*> bytes = ring->Acquire(c.item, c.offset, c.size);
    if (!bytes.ok()) return bytes.status();
    if (fake_ != nullptr && fake_->Busy(*bytes)) ++reused_busy_;
    for (uint64_t k = 0; k < c.size; ++k) (*bytes)[k] = Expected(c.item, c.offset + k);
    return ring->Commit(c.item, c.offset, c.size, *bytes);
  }
  // Deals chunks_ over `threads` threads; returns the first error.
  absl::Status PutAll(DeviceRing* ring, int threads) {
    std::vector<absl::Status> results(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (size_t i = t; i < chunks_.size(); i += threads) {
          results[t] = Put(ring, chunks_[i]);
          if (!results[t].ok()) return;
        }
      });
    }
    for (std::thread& th : pool) th.join();
    for (const absl::Status& s : results) {
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  bool Intact() const {
    for (size_t i = 0; i < targets_.size(); ++i) {
      const std::byte* d = static_cast<const std::byte*>(targets_[i].device);
      for (uint64_t o = 0; o < targets_[i].size; ++o) {
        if (d[o] != Expected(i, o)) return false;
      }
    }
    return true;
  }

  std::vector<std::byte> device_;
  std::vector<DeviceTarget> targets_;
  std::vector<Chunk> chunks_;
  FakeCopier* fake_ = nullptr;
  std::atomic<int> reused_busy_{0};
};

TEST_F(RingTest, InterleavedChunksFromSeveralThreadsArriveIntact) {
  FakeCopier fake(3);
  fake.delay = absl::Microseconds(20);
  fake_ = &fake;
  Layout({100000, 37001, 250000, 1}, 1000);
  auto ring = DeviceRing::Create(&fake, 1024, targets_);
  ASSERT_OK(ring.status());
  ASSERT_OK(PutAll(ring->get(), 4));
  ASSERT_OK((*ring)->Finish());
  EXPECT_TRUE(Intact());
  EXPECT_EQ(fake.copies(), static_cast<int>(chunks_.size()));
  EXPECT_EQ(fake.violations(), 0);
  EXPECT_EQ(reused_busy_.load(), 0);
  ring->reset();
  EXPECT_EQ(fake.live_allocations(), 0);
}

TEST_F(RingTest, SlotsAreReusedOnlyAfterTheirCopyCompletes) {
  FakeCopier fake(2);
  fake.delay = absl::Milliseconds(2);  // Copies lag far behind the writer.
  fake_ = &fake;
  Layout({40 * 512}, 512);
  auto ring = DeviceRing::Create(&fake, 512, targets_);
  ASSERT_OK(ring.status());
  ASSERT_OK(PutAll(ring->get(), 2));
  ASSERT_OK((*ring)->Finish());
  EXPECT_EQ(reused_busy_.load(), 0);
  EXPECT_EQ(fake.violations(), 0);
  EXPECT_TRUE(Intact());  // An early reuse would have overwritten a source.
}

TEST_F(RingTest, FailedCopyIsAClearStatusAndNothingLeaks) {
  auto fake = std::make_unique<FakeCopier>(2);
  fake->delay = absl::Microseconds(50);
  fake->fail_copy_at = 5;
  Layout({64 * 100}, 100);
  {
    auto ring = DeviceRing::Create(fake.get(), 128, targets_);
    ASSERT_OK(ring.status());
    absl::Status put = PutAll(ring->get(), 3);
    absl::Status finish = (*ring)->Finish();
    EXPECT_THAT(finish, StatusIs(absl::StatusCode::kInternal,
                                 HasSubstr("copy to device: injected copy failure")));
    if (!put.ok()) {
      EXPECT_THAT(put, StatusIs(absl::StatusCode::kInternal,
                                HasSubstr("injected copy failure")));
    }
    // Later calls fail with the same cause instead of blocking.
    EXPECT_THAT((*ring)->Acquire(0, 0, 10).status(),
                StatusIs(absl::StatusCode::kInternal));
  }
  EXPECT_EQ(fake->live_allocations(), 0);
}

TEST_F(RingTest, PinnedAllocationFailureLeaksNothing) {
  FakeCopier fake(4);
  fake.fail_pinned_at = 2;
  Layout({1000}, 100);
  auto ring = DeviceRing::Create(&fake, 100, targets_);
  EXPECT_THAT(ring.status(), StatusIs(absl::StatusCode::kResourceExhausted,
                                      HasSubstr("pinned slot 2 of 4")));
  EXPECT_EQ(fake.live_allocations(), 0);
}

TEST_F(RingTest, RejectsOversizedAndOutOfRangeChunks) {
  FakeCopier fake(1);
  Layout({1000}, 100);
  auto ring = DeviceRing::Create(&fake, 100, targets_);
  ASSERT_OK(ring.status());
  EXPECT_THAT((*ring)->Acquire(0, 0, 101).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("exceeds the pinned slot size 100")));
  EXPECT_THAT((*ring)->Acquire(0, 950, 100).status(),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT((*ring)->Acquire(1, 0, 1).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RingTest, AbandonedSlotIsReusableAndNeverCopied) {
  FakeCopier fake(1);
  Layout({200}, 100);
  auto ring = DeviceRing::Create(&fake, 100, targets_);
  ASSERT_OK(ring.status());
  absl::StatusOr<std::byte*> a = (*ring)->Acquire(0, 0, 100);
  ASSERT_OK(a.status());
  (*ring)->Abandon(*a);  // E.g. its CRC did not match.
  ASSERT_OK(Put(ring->get(), {0, 0, 100}));
  ASSERT_OK(Put(ring->get(), {0, 100, 100}));
  ASSERT_OK((*ring)->Finish());
  EXPECT_EQ(fake.copies(), 2);
  EXPECT_TRUE(Intact());
}

}  // namespace
}  // namespace weightserver::client
