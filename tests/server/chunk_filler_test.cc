// Copyright 2026 The Weightserver Authors.
//
// tests/server/chunk_filler_test.cc: the read-ahead stage fills the right
// bytes in both I/O modes, checksums them, and turns a file truncated or
// modified under it into a status, never a crash.
#include "server/chunk_filler.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sigbus_guard.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "util/crc32c.h"

namespace weightserver::server {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + (i >> 9));
  return s;
}

class ChunkFillerTest : public ::testing::TestWithParam<IoMode> {
 protected:
  void SetUp() override {
    data_ = Pattern(1 << 20);
    path_ = dir_.path() + "/f";
    WriteBytes(path_, data_);
    auto f = MappedFile::Open(path_);
    ASSERT_OK(f.status());
    file_ = std::make_unique<MappedFile>(*std::move(f));
    auto filler = ChunkFiller::Create({.mode = GetParam(), .threads = 2,
                                       .min_block_read = 4096});
    if (!filler.ok() && GetParam() == IoMode::kUring) {
      GTEST_SKIP() << "io_uring not available here: " << filler.status();
    }
    ASSERT_OK(filler.status());
    filler_ = *std::move(filler);
    EXPECT_EQ(filler_->mode(), GetParam());
  }

  // Fills `spans` into a fresh buffer (or checksums them in place when
  // `mapped`) and waits for the result.
  absl::StatusOr<uint32_t> Fill(std::vector<SourceSpan> spans, std::string* out,
                                bool mapped = false) {
    uint64_t n = 0;
    for (const auto& s : spans) n += s.length;
    out->assign(n, '\0');
    std::promise<absl::StatusOr<uint32_t>> done;
    FillJob job;
    job.file = file_.get();
    job.spans = std::move(spans);
    job.buffer = mapped ? nullptr : reinterpret_cast<std::byte*>(out->data());
    job.done = [&](absl::StatusOr<uint32_t> crc) { done.set_value(crc); };
    filler_->Submit(std::move(job));
    return done.get_future().get();
  }

  TempDir dir_;
  std::string data_, path_;
  std::unique_ptr<MappedFile> file_;
  std::unique_ptr<ChunkFiller> filler_;
};

TEST_P(ChunkFillerTest, FillsLargeAndSmallSpansInOrder) {
  std::string out;
  // Large spans go through the block reader, small ones through the mapping.
  std::vector<SourceSpan> spans = {{100000, 300000}, {5, 10}, {700000, 8192},
                                   {3, 1}};
  ASSERT_OK_AND_ASSIGN(uint32_t crc, Fill(spans, &out));
  std::string want = data_.substr(100000, 300000) + data_.substr(5, 10) +
                     data_.substr(700000, 8192) + data_.substr(3, 1);
  EXPECT_TRUE(out == want);
  EXPECT_EQ(crc, Crc32c(want));
}

TEST_P(ChunkFillerTest, MappedJobOnlyChecksums) {
  std::string unused;
  ASSERT_OK_AND_ASSIGN(uint32_t crc, Fill({{10, 5000}, {9000, 20}}, &unused,
                                          /*mapped=*/true));
  EXPECT_EQ(crc, Crc32c(data_.substr(10, 5000) + data_.substr(9000, 20)));
}

TEST_P(ChunkFillerTest, TruncatedFileIsDataLoss) {
  ASSERT_EQ(truncate(path_.c_str(), 4096), 0);
  std::string out;
  // A block read past the new end comes back short.
  EXPECT_THAT(Fill({{500000, 100000}}, &out),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  // A gather from a mapped page past the new end raises SIGBUS: caught.
  EXPECT_THAT(Fill({{600000, 100}}, &out),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("SIGBUS")));
  EXPECT_THAT(Fill({{600000, 100}}, &out, /*mapped=*/true),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("SIGBUS")));
  // Bytes still inside the file read fine, but the size changed.
  EXPECT_THAT(Fill({{0, 100}}, &out),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("changed size")));
}

// A page that failed outside a guard (here: the file shrank, then grew back
// with its old size and mtime, as after an I/O error the identity never
// changes) was replaced by zeros: the file must never be served again.
TEST_P(ChunkFillerTest, PoisonedFileIsDataLossEvenWithItsIdentityIntact) {
  struct stat before;
  ASSERT_EQ(stat(path_.c_str(), &before), 0);
  ASSERT_EQ(truncate(path_.c_str(), 4096), 0);
  const volatile char* p = reinterpret_cast<const char*>(file_->bytes().data());
  EXPECT_EQ(p[500000], 0);  // Unguarded: patched with a zero page.
  ASSERT_EQ(truncate(path_.c_str(), before.st_size), 0);
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, path_.c_str(), times, 0), 0);
  // Size and mtime are as they were; only ctime (which user space cannot
  // set back) tells, and the poison must win over it: DATA_LOSS, which
  // stays, not FAILED_PRECONDITION, which invites a retry.
  EXPECT_THAT(file_->CheckUnchanged(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                HasSubstr("(ctime changed)")));
  std::string out;
  for (bool mapped : {false, true}) {
    EXPECT_THAT(Fill({{0, 100}}, &out, mapped),  // ...but nothing is served.
                StatusIs(absl::StatusCode::kDataLoss,
                         HasSubstr("could not be read while served")));
  }
}

TEST_P(ChunkFillerTest, ModifiedInPlaceIsFailedPrecondition) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::FILE* f = std::fopen(path_.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fputc('x', f);
    std::fclose(f);
  }
  std::string out;
  EXPECT_THAT(Fill({{0, 100}}, &out),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("modified in place")));
}

INSTANTIATE_TEST_SUITE_P(Modes, ChunkFillerTest,
                         ::testing::Values(IoMode::kPread, IoMode::kUring),
                         [](const auto& info) {
                           return std::string(IoModeName(info.param));
                         });

TEST(IoModeTest, ParsesNames) {
  EXPECT_EQ(*ParseIoMode("auto"), IoMode::kAuto);
  EXPECT_EQ(*ParseIoMode("uring"), IoMode::kUring);
  EXPECT_EQ(*ParseIoMode("pread"), IoMode::kPread);
  EXPECT_THAT(ParseIoMode("mmap"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("auto, uring, pread")));
}

TEST(SigbusGuardTest, UnguardedCodeStillWorksAfterAGuardedFault) {
  TempDir dir;
  WriteBytes(dir.path() + "/g", std::string(1 << 16, 'a'));
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/g"));
  ASSERT_EQ(truncate((dir.path() + "/g").c_str(), 0), 0);
  std::byte buf[16];
  GatherPiece far{f.bytes().data() + 8192, sizeof(buf), buf};
  GatherPiece near{f.bytes().data() + 100, sizeof(buf), buf};
  EXPECT_FALSE(GuardedGather(&far, 1, nullptr));
  EXPECT_FALSE(GuardedGather(&near, 1, nullptr));
  const char ok[4] = "abc";
  GatherPiece fine{reinterpret_cast<const std::byte*>(ok), 4, buf};
  EXPECT_TRUE(GuardedGather(&fine, 1, nullptr));
  EXPECT_STREQ(reinterpret_cast<const char*>(buf), "abc");
}

TEST(SigbusGuardTest, GatherCopiesInOrder) {
  const std::string src = "0123456789abcdef";
  std::byte out[8];
  const auto* b = reinterpret_cast<const std::byte*>(src.data());
  const GatherPiece pieces[] = {{b + 10, 3, out}, {b + 2, 5, out + 3}};
  ASSERT_TRUE(GuardedGather(pieces, 2, nullptr));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out), 8), "abc23456");
  EXPECT_TRUE(GuardedGather(pieces, 0, nullptr));  // Nothing to do.
}

// A fault names the piece it hit, and leaves the thread's signal mask as it
// was (the recovery point does not save it: see sigbus_guard.h).
TEST(SigbusGuardTest, GatherReportsTheFaultingPieceAndKeepsTheMask) {
  TempDir dir;
  WriteBytes(dir.path() + "/g", std::string(1 << 16, 'a'));
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/g"));
  ASSERT_EQ(truncate((dir.path() + "/g").c_str(), 4096), 0);
  sigset_t block, before, after;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &before), 0);
  std::byte out[64];
  const std::byte* base = f.bytes().data();
  const GatherPiece pieces[] = {
      {base, 16, out}, {base + 100, 16, out + 16}, {base + 8192, 16, out + 32}};
  size_t failed = 99;
  EXPECT_FALSE(GuardedGather(pieces, 3, &failed));
  EXPECT_EQ(failed, 2u);
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &before, &after), 0);
  EXPECT_EQ(sigismember(&after, SIGUSR2), 1);
  EXPECT_EQ(sigismember(&after, SIGBUS), 0);
  // And the guard still works afterwards.
  EXPECT_TRUE(GuardedGather(pieces, 2, nullptr));
}

// A payload slice read outside any guard (by gRPC or the kernel) after its
// file shrank: the page becomes zeros and the daemon lives on.
TEST(SigbusGuardTest, UnguardedReadOfAServedFilePastItsEndReadsZeros) {
  TempDir dir;
  WriteBytes(dir.path() + "/z", std::string(4 << 12, 'z'));
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/z"));
  ASSERT_EQ(truncate((dir.path() + "/z").c_str(), 4096), 0);
  const uint64_t before = PagesPatched();
  const volatile char* p = reinterpret_cast<const char*>(f.bytes().data());
  EXPECT_EQ(p[0], 'z');  // Still in the file.
  EXPECT_EQ(p[3 * 4096 + 5], 0);
  EXPECT_EQ(p[3 * 4096 + 6], 0);  // Same page: patched once.
  EXPECT_EQ(PagesPatched(), before + 1);
  // The file is marked: its bytes can no longer be trusted, whatever its
  // identity says later (an I/O error leaves size and mtime as they were).
  EXPECT_TRUE(f.Poisoned());
  EXPECT_FALSE(f.CheckUnchanged().ok());
  WriteBytes(dir.path() + "/other", std::string(4096, 'o'));
  ASSERT_OK_AND_ASSIGN(MappedFile other, MappedFile::Open(dir.path() + "/other"));
  EXPECT_FALSE(other.Poisoned());
}

// Any other SIGBUS keeps its default action.
TEST(SigbusGuardDeathTest, UnregisteredMappingStillDies) {
  TempDir dir;
  WriteBytes(dir.path() + "/d", std::string(4 << 12, 'd'));
  // Opening a MappedFile installs the handler.
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/d"));
  EXPECT_EXIT(
      {
        int fd = open((dir.path() + "/d").c_str(), O_RDONLY);
        void* m = mmap(nullptr, 4 << 12, PROT_READ, MAP_SHARED, fd, 0);
        (void)truncate((dir.path() + "/d").c_str(), 0);
        const volatile char* c = static_cast<const char*>(m);
        std::exit(c[3 * 4096] == 'd' ? 3 : 4);
      },
      ::testing::KilledBySignal(SIGBUS), "");
}

TEST(MappedFileTest, ResidencyFollowsThePageCache) {
  TempDir dir;
  WriteBytes(dir.path() + "/r", std::string(1 << 20, 'r'));
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/r"));
  // Just written: in the page cache.
  EXPECT_TRUE(f.Resident(0, 1 << 20));
  EXPECT_TRUE(f.Resident(12345, 1));
  EXPECT_TRUE(f.Resident(0, 0));
  EXPECT_FALSE(f.Resident(1 << 20, 1));  // Past the end.
}

}  // namespace
}  // namespace weightserver::server
