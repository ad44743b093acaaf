// Copyright 2026 The Weightserver Authors.
//
// tests/cache/cached_file_test.cc: a sparse copy filled from an in-memory
// "upstream": coalescing, read-ahead, durability, corruption, failures.
#include "cache/cached_file.h"

#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::cache {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::TempDir;

constexpr uint64_t kBlock = 64 << 10;
constexpr uint64_t kHeaderEnd = 1000;

// The upstream: `bytes`, and how often each offset was asked for.
struct Source {
  std::string bytes;
  std::atomic<int> calls{0};
  std::atomic<uint64_t> fetched{0};
  std::atomic<bool> fail{false};
  absl::Duration delay = absl::ZeroDuration();

  FetchRange Fetch() {
    return [this](uint64_t offset, absl::Span<std::byte> out) {
      ++calls;
      absl::SleepFor(delay);
      if (fail) return absl::UnavailableError("upstream down");
      std::memcpy(out.data(), bytes.data() + offset, out.size());
      fetched += out.size();
      return absl::OkStatus();
    };
  }
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

CachedFileSpec Spec(const std::string& path, Source& src, int readahead = 0) {
  CachedFileSpec spec;
  spec.path = path;
  spec.label = "model 'm' file 'f'";
  spec.size = src.bytes.size();
  spec.header_end = kHeaderEnd;
  spec.block_bytes = kBlock;
  spec.readahead = readahead;
  spec.fetch = src.Fetch();
  return spec;
}

std::string Copy(const CachedFile& f, uint64_t offset, uint64_t n) {
  auto b = f.mapped()->bytes().subspan(offset, n);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// A first life of the copy at `path`: bytes [0, n) made present, then the
// copy closed (its block map on disk), as before a restart.
absl::Status FillThenClose(const std::string& path, Source& src, uint64_t n) {
  TaskPool pool(1);
  CacheCounters counters;
  auto f = CachedFile::Open(Spec(path, src), &pool, &counters);
  if (!f.ok()) return f.status();
  return (*f)->MakePresent(0, n);
}

absl::Status Wait(CachedFile& f, uint64_t offset, uint64_t n) {
  absl::Notification done;
  absl::Status result;
  f.WhenPresent({{offset, n}}, [&](absl::Status s) {
    result = s;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

TEST(CachedFileTest, RegionsAreTheHeaderThenBlocksOfTheDataSection) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + 3 * kBlock + 5);
  TaskPool pool(2);
  CacheCounters counters;
  ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(Spec(dir.path() + "/f", src),
                                                &pool, &counters));
  EXPECT_EQ(f->region_count(), 5u);
  EXPECT_EQ(f->RegionOf(0), 0u);
  EXPECT_EQ(f->RegionOf(kHeaderEnd - 1), 0u);
  EXPECT_EQ(f->RegionOf(kHeaderEnd), 1u);
  EXPECT_EQ(f->RegionOf(kHeaderEnd + kBlock), 2u);
  EXPECT_EQ(f->RegionOf(src.bytes.size() - 1), 4u);
  EXPECT_FALSE(f->Present(std::vector<server::SourceSpan>{{kHeaderEnd, 10}}));
  EXPECT_EQ(f->disk_bytes(), 0u);
}

TEST(CachedFileTest, ConcurrentWaitersOfOneBlockShareOneFetch) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + 4 * kBlock);
  src.delay = absl::Milliseconds(100);
  TaskPool pool(4);
  CacheCounters counters;
  ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(Spec(dir.path() + "/f", src),
                                                &pool, &counters));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      // Different chunks of the same block.
      if (Wait(*f, kHeaderEnd + 1024 * i, 1024).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(src.calls.load(), 1);
  EXPECT_EQ(src.fetched.load(), kBlock);
  EXPECT_EQ(Copy(*f, kHeaderEnd, kBlock), src.bytes.substr(kHeaderEnd, kBlock));
  EXPECT_TRUE(f->Present(std::vector<server::SourceSpan>{{kHeaderEnd, kBlock}}));
  EXPECT_EQ(counters.fetched_regions.load(), 1u);
}

TEST(CachedFileTest, ReadsAheadOfTheLastBlockAskedFor) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + 6 * kBlock);
  TaskPool pool(2);
  CacheCounters counters;
  ASSERT_OK_AND_ASSIGN(
      auto f, CachedFile::Open(Spec(dir.path() + "/f", src, /*readahead=*/2),
                               &pool, &counters));
  ASSERT_OK(Wait(*f, kHeaderEnd, 10));  // Region 1, then 2 and 3 ahead.
  for (int i = 0; i < 200 && pool.pending() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(f->Present(
      std::vector<server::SourceSpan>{{kHeaderEnd + kBlock, 2 * kBlock}}));
  EXPECT_FALSE(f->Present(
      std::vector<server::SourceSpan>{{kHeaderEnd + 3 * kBlock, 1}}));
  EXPECT_EQ(src.fetched.load(), 3 * kBlock);
  // MakePresent reads nothing ahead.
  ASSERT_OK(f->MakePresent(0, kHeaderEnd));
  EXPECT_EQ(src.fetched.load(), 3 * kBlock + kHeaderEnd);
}

TEST(CachedFileTest, SurvivesARestartAndChecksWhatItFindsOnDisk) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + 3 * kBlock + 100);
  const std::string path = dir.path() + "/f";
  {
    TaskPool pool(2);
    CacheCounters counters;
    ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(Spec(path, src), &pool, &counters));
    ASSERT_OK(f->MakePresent(0, kHeaderEnd + 2 * kBlock));  // Regions 0-2.
    EXPECT_EQ(f->disk_bytes(), kHeaderEnd + 2 * kBlock);
  }
  // Corrupt one byte of region 2 on disk.
  {
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(kHeaderEnd + kBlock + 17));
    io.put('\x5a' ^ src.bytes[kHeaderEnd + kBlock + 17]);
  }
  const uint64_t before = src.fetched.load();
  TaskPool pool(2);
  CacheCounters counters;
  ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(Spec(path, src), &pool, &counters));
  EXPECT_EQ(f->disk_bytes(), kHeaderEnd + 2 * kBlock);  // As recorded.
  ASSERT_OK(f->MakePresent(0, src.bytes.size()));
  EXPECT_EQ(counters.verified_regions.load(), 2u);  // Header and region 1.
  EXPECT_EQ(counters.corrupt_regions.load(), 1u);   // Region 2.
  // Region 2 again, and region 3 (never fetched).
  EXPECT_EQ(src.fetched.load() - before, kBlock + kBlock + 100);
  EXPECT_EQ(Copy(*f, 0, src.bytes.size()), src.bytes);
  EXPECT_TRUE(f->complete());
}

TEST(CachedFileTest, AMapOfAnotherShapeStartsTheCopyEmpty) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + 2 * kBlock);
  const std::string path = dir.path() + "/f";
  ASSERT_OK(FillThenClose(path, src, src.bytes.size()));
  TaskPool pool(1);
  CacheCounters counters;
  CachedFileSpec spec = Spec(path, src);
  spec.block_bytes = 2 * kBlock;  // Another block size: the map does not fit.
  ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(spec, &pool, &counters));
  EXPECT_EQ(f->disk_bytes(), 0u);
  EXPECT_FALSE(f->Present(std::vector<server::SourceSpan>{{0, 8}}));
}

TEST(CachedFileTest, AFailedFetchFailsItsWaitersAndIsTriedAgainLater) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + 2 * kBlock);
  src.fail = true;
  TaskPool pool(2);
  CacheCounters counters;
  ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(Spec(dir.path() + "/f", src),
                                                &pool, &counters));
  absl::Status s = Wait(*f, kHeaderEnd, 2 * kBlock);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_GE(counters.failed_fetches.load(), 1u);
  EXPECT_EQ(f->disk_bytes(), 0u);
  src.fail = false;
  ASSERT_OK(Wait(*f, kHeaderEnd, 2 * kBlock));
  EXPECT_EQ(Copy(*f, kHeaderEnd, 2 * kBlock), src.bytes.substr(kHeaderEnd));
}

TEST(CachedFileTest, WhenPresentNeverCallsBackInline) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + kBlock);
  TaskPool pool(1);
  CacheCounters counters;
  ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(Spec(dir.path() + "/f", src),
                                                &pool, &counters));
  ASSERT_OK(f->MakePresent(0, src.bytes.size()));
  const std::thread::id me = std::this_thread::get_id();
  absl::Notification done;
  std::thread::id ran_on;
  f->WhenPresent({{0, 10}}, [&](absl::Status) {
    ran_on = std::this_thread::get_id();
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_NE(ran_on, me);
}

// A write that fails for lack of room (here: the file size limit, EFBIG)
// fails the waiters with RESOURCE_EXHAUSTED and leaves the map as it was.
TEST(CachedFileTest, NoRoomToWriteIsResourceExhaustedAndTheCopyStaysConsistent) {
  TempDir dir;
  Source src;
  src.bytes = Pattern(kHeaderEnd + 4 * kBlock);
  const std::string path = dir.path() + "/f";
  ASSERT_OK(FillThenClose(path, src, kHeaderEnd));
  auto fill_past_the_limit = [&] {
        signal(SIGXFSZ, SIG_IGN);
        const rlim_t max = kHeaderEnd + 2 * kBlock;
        struct rlimit limit;
        limit.rlim_cur = max;
        limit.rlim_max = max;
        setrlimit(RLIMIT_FSIZE, &limit);
        TaskPool pool(1);
        CacheCounters counters;
        auto f = CachedFile::Open(Spec(path, src), &pool, &counters);
        if (!f.ok()) _exit(10);
        absl::Status low = (*f)->MakePresent(kHeaderEnd, kBlock);  // Fits.
        absl::Status high = (*f)->MakePresent(kHeaderEnd + 3 * kBlock, kBlock);
        if (!low.ok()) _exit(11);
        if (high.code() != absl::StatusCode::kResourceExhausted) _exit(12);
        if (high.message().find("disk is full") == std::string::npos) _exit(13);
        _exit(0);
  };
  EXPECT_EXIT(fill_past_the_limit(), ::testing::ExitedWithCode(0), "");
  // The copy reopens with what was recorded: header and region 1 only.
  TaskPool pool(1);
  CacheCounters counters;
  ASSERT_OK_AND_ASSIGN(auto f, CachedFile::Open(Spec(path, src), &pool, &counters));
  EXPECT_EQ(f->disk_bytes(), kHeaderEnd + kBlock);
  ASSERT_OK(f->MakePresent(0, src.bytes.size()));
  EXPECT_EQ(Copy(*f, 0, src.bytes.size()), src.bytes);
  EXPECT_EQ(counters.corrupt_regions.load(), 0u);
}

}  // namespace
}  // namespace weightserver::cache
