// Copyright 2026 The Weightserver Authors.
//
// tests/server/mapped_file_test.cc
#include "server/mapped_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "util/crc32c.h"

namespace weightserver::server {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;

TEST(MappedFileTest, MapsContents) {
  TempDir dir;
  WriteBytes(dir.path() + "/f", "hello world");
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/f"));
  EXPECT_EQ(f.size(), 11u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.bytes().data()), 11),
            "hello world");
  EXPECT_OK(f.CheckUnchanged());
}

// Random ranges, each checksummed twice (the second time from the block
// cache), across block boundaries and up to the file's partial last block.
TEST(MappedFileTest, CachedCrcMatchesTheBytes) {
  TempDir dir;
  const uint64_t kBlock = MappedFile::kCrcBlockBytes;
  std::string data(5 * kBlock + 1234, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 2654435761u) >> 11);
  }
  WriteBytes(dir.path() + "/c", data);
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/c"));
  std::mt19937_64 rng(7);
  std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {0, data.size()}, {0, kBlock}, {kBlock, 2 * kBlock}, {kBlock - 1, 2},
      {3, 0}, {4 * kBlock + 5, kBlock + 1229}};
  for (int i = 0; i < 300; ++i) {
    const uint64_t a = rng() % data.size();
    ranges.push_back({a, rng() % (data.size() - a + 1)});
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [offset, length] : ranges) {
      uint32_t crc = 77;  // Extends a running checksum, too.
      ASSERT_TRUE(f.CachedCrc32c(offset, length, &crc));
      EXPECT_EQ(crc, Crc32cExtend(77, data.data() + offset, length))
          << "pass " << pass << " [" << offset << ", +" << length << ")";
    }
  }
}

TEST(MappedFileTest, CachedCrcOfATruncatedFileFails) {
  TempDir dir;
  const uint64_t kBlock = MappedFile::kCrcBlockBytes;
  WriteBytes(dir.path() + "/t", std::string(4 * kBlock, 't'));
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/t"));
  uint32_t crc = 0;
  ASSERT_TRUE(f.CachedCrc32c(0, kBlock, &crc));  // Block 0 now cached.
  ASSERT_EQ(truncate((dir.path() + "/t").c_str(), kBlock), 0);
  crc = 0;
  EXPECT_TRUE(f.CachedCrc32c(0, kBlock, &crc));  // Still within the file.
  EXPECT_FALSE(f.CachedCrc32c(kBlock, 2 * kBlock, &crc));  // SIGBUS, caught.
  EXPECT_FALSE(f.CachedCrc32c(2 * kBlock + 3, 100, &crc));
}

TEST(MappedFileTest, EmptyFileHasNoMapping) {
  TempDir dir;
  WriteBytes(dir.path() + "/e", "");
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/e"));
  EXPECT_EQ(f.size(), 0u);
}

TEST(MappedFileTest, MissingFileIsNotFound) {
  EXPECT_THAT(MappedFile::Open("/nonexistent/file"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/file")));
}

TEST(MappedFileTest, DirectoryIsRefused) {
  TempDir dir;
  EXPECT_THAT(MappedFile::Open(dir.path()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(MappedFileTest, MoveTransfersOwnership) {
  TempDir dir;
  WriteBytes(dir.path() + "/f", "abc");
  ASSERT_OK_AND_ASSIGN(MappedFile a, MappedFile::Open(dir.path() + "/f"));
  MappedFile b = std::move(a);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(a.fd(), -1);  // NOLINT: moved-from state is specified.
}

TEST(MappedFileTest, DetectsRewriteInPlace) {
  TempDir dir;
  WriteBytes(dir.path() + "/f", "abcdef");
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/f"));
  // Some file systems keep mtime granularity coarse; wait it out.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteBytes(dir.path() + "/f", "abcdeX");  // Same inode, truncated+rewritten.
  EXPECT_THAT(f.CheckUnchanged(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                           HasSubstr("modified in place")));
}

// Issue 11, item 4: a rewrite in place that puts the old mtime back (as
// `touch -r` or rsync --times would) was missed when the identity had no
// ctime: streams ended OK with mixed versions.
TEST(MappedFileTest, DetectsRewriteInPlaceThatRestoresTheMtime) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  WriteBytes(path, "abcdef");
  struct stat before;
  ASSERT_EQ(stat(path.c_str(), &before), 0);
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(path));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteBytes(path, "abcdeX");  // Same inode and size.
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  struct stat after;
  ASSERT_EQ(stat(path.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_THAT(f.CheckUnchanged(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("modified in place while served (ctime")));
}

TEST(MappedFileTest, DetectsTruncation) {
  TempDir dir;
  WriteBytes(dir.path() + "/f", "abcdef");
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/f"));
  ASSERT_EQ(truncate((dir.path() + "/f").c_str(), 2), 0);
  EXPECT_THAT(f.CheckUnchanged(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                           HasSubstr("size was 6, now 2")));
}

TEST(MappedFileTest, DetectsReplacement) {
  TempDir dir;
  WriteBytes(dir.path() + "/f", "abcdef");
  ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::Open(dir.path() + "/f"));
  WriteBytes(dir.path() + "/g", "abcdef");
  ASSERT_EQ(rename((dir.path() + "/g").c_str(), (dir.path() + "/f").c_str()), 0);
  EXPECT_THAT(f.CheckUnchanged(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                           HasSubstr("replaced")));
}

}  // namespace
}  // namespace weightserver::server
