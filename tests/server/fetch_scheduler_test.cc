// Copyright 2026 The Weightserver Authors.
//
// tests/server/fetch_scheduler_test.cc: a Fetch stream's scheduling without
// gRPC: chunks cut and written in order, read-ahead bounded, resident chunks
// sent from the mapping, buffer waits woken by other streams, failures,
// out-of-memory and cancels finishing with every buffer returned; then random
// interleavings of all of these. FakeReactor checks each step as it comes.
#include "server/fetch_scheduler.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/fake_reactor.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::server {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::IsOk;
using ::weightserver::testing::StatusIs;

constexpr size_t kBuf = 64 << 10;  // The pool's smallest class.

// Completes fills oldest first and writes as they come, to the end.
void RunToEnd(FakeReactor& r, BufferPool& pool) {
  for (int steps = 0; steps < 100000; ++steps) {
    if (r.write_in_flight()) {
      r.CompleteWrite();
    } else if (r.pending_fills() > 0) {
      r.CompleteFill(r.oldest_fill());
    } else {
      break;
    }
    r.CheckInvariants();
    EXPECT_EQ(pool.in_use(), r.buffers_held());
  }
}

std::vector<SourceSpan> Fragments(uint64_t first, uint64_t stride,
                                  uint64_t length, size_t count) {
  std::vector<SourceSpan> spans;
  for (size_t i = 0; i < count; ++i) {
    spans.push_back({first + i * stride, length});
  }
  return spans;
}

TEST(FetchSchedulerTest, StreamsEveryEntryInOrder) {
  TestFile file(8192);
  BufferPool pool(3 * kBuf, kBuf);
  FetchPlan plan =
      file.Plan({file.Entry({{0, 1000}}, 0, 1000),
                 file.Entry(Fragments(2000, 7, 5, 100), 13, 480),
                 file.Entry({}, 0, 0),                        // Empty tensor.
                 file.Entry({{100, 50}, {150, 50}}, 10, 90),  // Adjacent spans.
                 file.Entry({{5000, 64}}, 64, 64)},  // Nothing to send.
                64);
  FakeReactor r(&pool, std::move(plan), {.readahead = 3});
  r.Start();
  RunToEnd(r, pool);
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_THAT(*r.finish(), IsOk());
  EXPECT_EQ(r.written(), r.tiles().size());
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

TEST(FetchSchedulerTest, EmptyPlanFinishesAtOnce) {
  TestFile file(4096);
  BufferPool pool(kBuf, kBuf);
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 10}}, 10, 10)}, 64), {});
  r.Start();
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_THAT(*r.finish(), IsOk());
  EXPECT_EQ(r.pending_fills(), 0u);
}

TEST(FetchSchedulerTest, FillsCompletingOutOfOrderGiveInOrderWrites) {
  TestFile file(4096);
  BufferPool pool(4 * kBuf, kBuf);
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 1000}}, 0, 1000)}, 100),
                {.readahead = 4});
  r.Start();
  EXPECT_THAT(r.pending_fill_chunks(), ElementsAre(0, 1, 2, 3));
  for (size_t chunk : {3, 2, 1}) {
    r.CompleteFill(chunk);
    r.CheckInvariants();
    EXPECT_FALSE(r.write_in_flight());  // Chunk 0 first.
  }
  r.CompleteFill(0);
  EXPECT_TRUE(r.write_in_flight());
  EXPECT_EQ(r.written(), 1u);
  // Each write done starts the next (already filled) one.
  for (size_t w = 2; w <= 4; ++w) {
    r.CompleteWrite();
    EXPECT_EQ(r.written(), w);
  }
  RunToEnd(r, pool);
  EXPECT_THAT(*r.finish(), IsOk());
  EXPECT_EQ(r.written(), 10u);
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

TEST(FetchSchedulerTest, KeepsAtMostReadaheadChunksInPreparation) {
  TestFile file(4096);
  BufferPool pool(8 * kBuf, kBuf);
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 1000}}, 0, 1000)}, 100),
                {.readahead = 3});
  r.Start();
  EXPECT_THAT(r.pending_fill_chunks(), ElementsAre(0, 1, 2));
  r.CompleteFill(0);  // Written at once; its place is refilled next pump.
  EXPECT_TRUE(r.write_in_flight());
  EXPECT_THAT(r.pending_fill_chunks(), ElementsAre(1, 2));
  r.CompleteFill(1);
  EXPECT_THAT(r.pending_fill_chunks(), ElementsAre(2, 3));
  // A client that stops reading: fills come back, nothing new starts.
  r.CompleteFill(2);
  r.CompleteFill(3);
  EXPECT_EQ(r.pending_fills(), 0u);
  EXPECT_EQ(r.scheduler().stats().preparing, 3u);
  EXPECT_EQ(pool.in_use(), 4u);  // Three ready, one being written.
  r.CheckInvariants();
  r.CompleteWrite();
  EXPECT_EQ(r.written(), 2u);
  EXPECT_EQ(r.scheduler().stats().preparing, 2u);
  r.CompleteWrite();
  EXPECT_THAT(r.pending_fill_chunks(), ElementsAre(4));
  RunToEnd(r, pool);
  EXPECT_THAT(*r.finish(), IsOk());
}

TEST(FetchSchedulerTest, ResidentChunksOfFewSpansAreSentFromTheMapping) {
  TestFile file(8192);
  for (bool send_from_mapping : {true, false}) {
    SCOPED_TRACE(send_from_mapping);
    BufferPool pool(kBuf, kBuf);
    FakeReactor r(
        &pool,
        file.Plan({file.Entry({{0, 4096}}, 0, 4096),            // 4 resident.
                   file.Entry({{4096, 2048}}, 0, 2048),         // 2 not.
                   file.Entry(Fragments(0, 10, 4, 17), 0, 68),  // Too many.
                   file.Entry(Fragments(0, 10, 4, 16), 0, 64),
                   file.Entry(Fragments(0, 4, 4, 20), 0, 80)},  // Adjacent.
                  1024),
        {.readahead = 2,
         .send_from_mapping = send_from_mapping,
         .resident = [](uint64_t offset, uint64_t length) {
           return offset + length <= 4096;
         }});
    r.Start();
    RunToEnd(r, pool);
    EXPECT_THAT(*r.finish(), IsOk());
    EXPECT_EQ(r.written(), 9u);
    EXPECT_EQ(r.mapped_written(), send_from_mapping ? 6u : 0u);
    EXPECT_EQ(pool.bytes_in_use(), 0u);
  }
}

TEST(FetchSchedulerTest, FailedFillFinishesWithItsStatus) {
  TestFile file(4096);
  BufferPool pool(4 * kBuf, kBuf);
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 500}}, 0, 500)}, 100),
                {.readahead = 4});
  r.Start();
  r.CompleteFill(2, absl::DataLossError("f.safetensors: truncated"));
  r.CompleteFill(3);
  r.CompleteFill(0);
  r.CompleteWrite();  // Chunk 0; chunk 4's fill starts.
  r.CompleteFill(1);
  EXPECT_FALSE(r.finish().has_value());
  r.CompleteWrite();  // Chunk 1; chunk 2 failed.
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_THAT(*r.finish(), StatusIs(absl::StatusCode::kDataLoss,
                                    AllOf(HasSubstr("model 'test-model'"),
                                          HasSubstr("truncated"))));
  EXPECT_EQ(r.written(), 2u);
  r.CheckInvariants();
  // Chunk 4 is still filling and keeps its buffer until it returns.
  EXPECT_THAT(r.pending_fill_chunks(), ElementsAre(4));
  EXPECT_EQ(pool.in_use(), 1u);
  r.CompleteFill(4);
  EXPECT_EQ(r.written(), 2u);
  EXPECT_FALSE(r.write_in_flight());
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

// The pool's verdict "no buffer can ever be allocated" (WaitForRelease
// returns false; see BufferPoolTest for when).
bool NeverABuffer(size_t, std::function<void()>) { return false; }

TEST(FetchSchedulerTest, OutOfMemoryFinishesWithResourceExhausted) {
  TestFile file(4096);
  BufferPool pool(kBuf, kBuf);
  std::byte* held = pool.TryAcquire(kBuf);  // The pool's only buffer.
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 300}}, 0, 300)}, 100),
                {.readahead = 2, .wait = NeverABuffer});
  r.Start();
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_THAT(*r.finish(), StatusIs(absl::StatusCode::kResourceExhausted,
                                    HasSubstr("model 'test-model'")));
  EXPECT_EQ(r.waits(), 1u);
  EXPECT_EQ(r.written(), 0u);
  EXPECT_EQ(r.pending_fills(), 0u);
  pool.Release(held, kBuf);
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

TEST(FetchSchedulerTest, OutOfMemoryFinishesAfterTheWriteInFlight) {
  TestFile file(4096);
  BufferPool pool(kBuf, kBuf);
  std::byte* held = pool.TryAcquire(kBuf);
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 300}}, 0, 300)}, 100),
                {.readahead = 2,
                 .resident =
                     [](uint64_t offset, uint64_t) {
                       return offset < 200;  // Chunks 0 and 1.
                     },
                 .wait = NeverABuffer});
  r.Start();
  EXPECT_EQ(r.pending_fills(), 2u);
  r.CompleteFill(1);
  r.CompleteFill(0);
  r.CompleteWrite();  // Chunk 1 is written; chunk 2 finds no buffer, ever.
  EXPECT_TRUE(r.write_in_flight());
  EXPECT_FALSE(r.finish().has_value());
  EXPECT_EQ(r.waits(), 1u);
  r.CompleteWrite();
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_THAT(*r.finish(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(r.written(), 2u);
  pool.Release(held, kBuf);
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

// Completes the writes and fills of `first` and `second`, in turn, until
// both finish (or 1000 rounds), checking the pool and the invariants.
void RunBothToTheEnd(const BufferPool& pool, FakeReactor& first,
                     FakeReactor& second) {
  for (int i = 0; i < 1000 && !(first.finish() && second.finish()); ++i) {
    for (FakeReactor* r : {&first, &second}) {
      if (r->write_in_flight()) {
        r->CompleteWrite();
      } else if (r->pending_fills() > 0) {
        r->CompleteFill(r->oldest_fill());
      }
      EXPECT_EQ(pool.in_use(), first.buffers_held() + second.buffers_held());
    }
    first.CheckInvariants();
    second.CheckInvariants();
  }
}

TEST(FetchSchedulerTest, WaitIsWokenByAReleaseFromAnotherStream) {
  TestFile file(4096);
  BufferPool pool(2 * kBuf, kBuf);
  FakeReactor a(&pool, file.Plan({file.Entry({{0, 400}}, 0, 400)}, 100),
                {.readahead = 2});
  FakeReactor b(&pool, file.Plan({file.Entry({{1000, 200}}, 0, 200)}, 100),
                {.readahead = 2});
  a.Start();
  b.Start();
  EXPECT_EQ(a.pending_fills(), 2u);
  EXPECT_EQ(b.pending_fills(), 0u);
  EXPECT_TRUE(b.scheduler().stats().waiting);
  EXPECT_EQ(b.buffers_held(), 0u);
  a.CompleteFill(0);
  EXPECT_TRUE(b.scheduler().stats().waiting);  // A's buffer is on the wire.
  a.CompleteWrite();  // Released: B wakes first and takes it.
  EXPECT_THAT(b.pending_fill_chunks(), ElementsAre(0));
  EXPECT_EQ(b.waits(), 2u);                    // Again, for its chunk 1.
  // A holds its fair share (one of two buffers) while B waits: it takes no
  // more, and does not wait at the pool either (its own write frees one).
  EXPECT_FALSE(a.scheduler().stats().waiting);
  EXPECT_EQ(a.buffers_held(), 1u);
  EXPECT_EQ(pool.in_use(), 2u);
  a.CheckInvariants();
  b.CheckInvariants();
  RunBothToTheEnd(pool, a, b);
  ASSERT_TRUE(a.finish() && b.finish()) << "stuck";
  EXPECT_THAT(*a.finish(), IsOk());
  EXPECT_THAT(*b.finish(), IsOk());
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

// Issue 11, item 3: a stream whose client stops reading holds its whole
// read-ahead. A stream that then waits while under its fair share makes it
// give back the chunks it filled but has not written; they are read again
// later, and both streams deliver every byte in order.
TEST(FetchSchedulerTest, AWaitingStreamUnderItsShareMakesOthersShed) {
  TestFile file(8192);
  BufferPool pool(4 * kBuf, kBuf);
  FakeReactor a(&pool, file.Plan({file.Entry({{0, 800}}, 0, 800)}, 100),
                {.readahead = 4});
  FakeReactor b(&pool, file.Plan({file.Entry({{4000, 300}}, 0, 300)}, 100),
                {.readahead = 4});
  a.Start();
  for (int i = 0; i < 4; ++i) a.CompleteFill(a.oldest_fill());
  ASSERT_TRUE(a.write_in_flight());  // Chunk 0, never completed (for now).
  EXPECT_EQ(a.buffers_held(), 4u);
  b.Start();
  // B waited, under its share (2 of 4): A kept its write and one chunk.
  EXPECT_EQ(a.shed(), 2u);
  EXPECT_EQ(a.buffers_held(), 2u);
  EXPECT_EQ(b.pending_fills(), 2u);
  EXPECT_EQ(pool.in_use(), 4u);
  a.CheckInvariants();
  b.CheckInvariants();
  RunBothToTheEnd(pool, b, a);
  ASSERT_TRUE(a.finish() && b.finish()) << "stuck";
  EXPECT_THAT(*a.finish(), IsOk());
  EXPECT_THAT(*b.finish(), IsOk());
  EXPECT_EQ(a.written(), 8u);  // Every chunk once, in order (CheckWrite).
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

TEST(FetchSchedulerTest, CancelReturnsEveryBuffer) {
  TestFile file(4096);
  BufferPool pool(4 * kBuf, kBuf);
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 1000}}, 0, 1000)}, 100),
                {.readahead = 4});
  r.Start();
  r.CompleteFill(0);
  r.CompleteFill(2);
  ASSERT_TRUE(r.write_in_flight());
  r.Cancel();
  EXPECT_FALSE(r.finish().has_value());  // Not before the write is done.
  r.CompleteWrite();
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_THAT(*r.finish(), StatusIs(absl::StatusCode::kCancelled));
  r.CheckInvariants();
  // Chunk 2's buffer went back at the finish; 1 and 3 are still filling.
  EXPECT_EQ(pool.in_use(), 2u);
  r.CompleteFill(3);
  r.CompleteFill(1);
  EXPECT_EQ(r.written(), 1u);
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

TEST(FetchSchedulerTest, FailedWriteCancels) {
  TestFile file(4096);
  BufferPool pool(4 * kBuf, kBuf);
  FakeReactor r(&pool, file.Plan({file.Entry({{0, 1000}}, 0, 1000)}, 100),
                {.readahead = 2});
  r.Start();
  r.CompleteFill(0);
  r.CompleteFill(1);
  r.CompleteWrite(/*ok=*/false);  // The client went away.
  ASSERT_TRUE(r.finish().has_value());
  EXPECT_THAT(*r.finish(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(r.written(), 1u);
  RunToEnd(r, pool);
  EXPECT_EQ(pool.bytes_in_use(), 0u);
}

// A random entry over a file of `size` bytes: one span, scattered fragments,
// a contiguous run cut into adjacent pieces, or nothing; streaming all of its
// output or a random part.
PlannedEntry RandomEntry(std::mt19937& rng, const TestFile& file) {
  auto uniform = [&rng](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  const uint64_t size = file.data().size();
  std::vector<SourceSpan> spans;
  switch (uniform(0, 3)) {
    case 0: {
      const uint64_t offset = uniform(0, size - 1);
      spans.push_back(
          {offset, uniform(1, std::min<uint64_t>(2000, size - offset))});
      break;
    }
    case 1:
      for (uint64_t i = uniform(1, 60); i > 0; --i) {
        const uint64_t length = uniform(1, 40);
        spans.push_back({uniform(0, size - length), length});
      }
      break;
    case 2:
      for (uint64_t at = uniform(0, size / 2), i = uniform(1, 40); i > 0; --i) {
        const uint64_t length = uniform(1, 50);
        spans.push_back({at, length});
        at += length;
      }
      break;
    default:
      break;
  }
  uint64_t output = 0;
  for (const SourceSpan& s : spans) output += s.length;
  uint64_t begin = 0, end = output;
  if (uniform(0, 2) == 0) {
    begin = uniform(0, output);
    end = uniform(begin, output);
  }
  return file.Entry(std::move(spans), begin, end);
}

// Streams sharing a pool, with fill completions (some failing), write
// completions (some failing), cancels and a foreign holder of buffers
// interleaved at random. After every action: each stream's invariants, and
// every pool buffer accounted for. At the end: every stream finished as its
// history says it must, and every buffer is back.
TEST(FetchSchedulerTest, RandomInterleavingsKeepTheInvariants) {
  TestFile file(16384);
  for (uint32_t seed = 1; seed <= 500; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    auto uniform = [&rng](uint64_t lo, uint64_t hi) {
      return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
    };
    BufferPool pool(uniform(1, 4) * kBuf, kBuf);
    std::vector<std::byte*> foreign;  // Buffers of "another server part".
    struct Stream {
      std::unique_ptr<FakeReactor> r;
      std::vector<bool> pages;  // Resident 512-byte pages.
      size_t first_failed = SIZE_MAX;
      bool cancelled = false;  // Cancel() or a failed write.
    };
    std::vector<Stream> streams(uniform(1, 3));
    for (Stream& st : streams) {
      std::vector<PlannedEntry> entries;
      for (uint64_t n = uniform(1, 4); n > 0; --n) {
        entries.push_back(RandomEntry(rng, file));
      }
      const uint64_t density = uniform(0, 4);
      for (size_t p = 0; p < file.data().size() / 512; ++p) {
        st.pages.push_back(uniform(1, 4) <= density);
      }
      const std::vector<bool>* pages = &st.pages;
      st.r = std::make_unique<FakeReactor>(
          &pool,
          file.Plan(std::move(entries), static_cast<uint32_t>(uniform(
                                            1, uint64_t{16} << uniform(0, 6)))),
          FakeReactor::Config{
              .readahead = static_cast<int>(uniform(1, 5)),
              .send_from_mapping = uniform(0, 3) > 0,
              .resident = [pages](uint64_t offset, uint64_t length) {
                for (uint64_t p = offset / 512;
                     p <= (offset + length - 1) / 512; ++p) {
                  if (!(*pages)[p]) return false;
                }
                return true;
              }});
    }
    auto check = [&] {
      size_t held = foreign.size();
      for (const Stream& st : streams) {
        st.r->CheckInvariants();
        held += st.r->buffers_held();
      }
      EXPECT_EQ(pool.in_use(), held) << "a buffer nobody holds";
    };
    for (Stream& st : streams) st.r->Start();
    check();
    for (int steps = 0;; ++steps) {
      ASSERT_LT(steps, 200000) << "does not end";
      // Everything that can happen now.
      std::vector<std::function<void()>> actions;
      for (Stream& st : streams) {
        FakeReactor* r = st.r.get();
        for (size_t chunk : r->pending_fill_chunks()) {
          actions.push_back([r, &st, chunk, &uniform] {
            if (uniform(0, 300) == 0) {
              st.first_failed = std::min(st.first_failed, chunk);
              r->CompleteFill(chunk, absl::DataLossError("injected"));
            } else {
              r->CompleteFill(chunk);
            }
          });
        }
        if (r->write_in_flight()) {
          for (int weight = 0; weight < 3; ++weight) {
            actions.push_back([r, &st, &uniform] {
              const bool ok = uniform(0, 500) > 0;
              if (!ok) st.cancelled = true;
              r->CompleteWrite(ok);
            });
          }
        }
        if (!r->finish().has_value() && uniform(0, 2000) == 0) {
          actions.push_back([r, &st] {
            st.cancelled = true;
            r->Cancel();
          });
        }
      }
      if (actions.empty() && foreign.empty()) break;
      if (!foreign.empty()) {
        actions.push_back([&] {
          std::byte* b = foreign.back();
          foreign.pop_back();
          pool.Release(b, kBuf);  // May wake any stream.
        });
      }
      if (foreign.size() < 2 && uniform(0, 8) == 0) {
        actions.push_back([&] {
          if (std::byte* b = pool.TryAcquire(kBuf)) foreign.push_back(b);
        });
      }
      actions[uniform(0, actions.size() - 1)]();
      check();
      if (::testing::Test::HasFailure()) return;
    }
    for (const Stream& st : streams) {
      const FakeReactor& r = *st.r;
      ASSERT_TRUE(r.finish().has_value()) << "a stream never finished";
      const absl::Status& status = *r.finish();
      if (status.ok()) {
        EXPECT_EQ(r.written(), r.tiles().size());
        EXPECT_EQ(st.first_failed, SIZE_MAX);
        EXPECT_FALSE(st.cancelled);
      } else if (status.code() == absl::StatusCode::kDataLoss) {
        // Everything before the first failed chunk, nothing from it on.
        EXPECT_EQ(r.written(), st.first_failed);
      } else {
        EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled));
        EXPECT_TRUE(st.cancelled);
        EXPECT_LE(r.written(), std::min(st.first_failed, r.tiles().size()));
      }
    }
    EXPECT_EQ(pool.bytes_in_use(), 0u);
  }
}

}  // namespace
}  // namespace weightserver::server
