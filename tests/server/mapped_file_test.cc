// Copyright 2026 The Weightserver Authors.
//
// tests/server/mapped_file_test.cc
#include "server/mapped_file.h"

#include <unistd.h>

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

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
