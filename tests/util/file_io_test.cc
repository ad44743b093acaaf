// Copyright 2026 The Weightserver Authors.
//
// tests/util/file_io_test.cc
#include "util/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace weightserver {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;

TEST(FileIoTest, WholeReadsAndWritesAtAnOffset) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  int fd = open(path.c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_OK(PwriteFull(fd, "hello world", 11, 5, path));
  char buf[11];
  ASSERT_OK(PreadFull(fd, buf, 11, 5, path));
  EXPECT_EQ(std::string(buf, 11), "hello world");
  EXPECT_THAT(PreadFull(fd, buf, 11, 6, path),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("shrank")));
  close(fd);
  EXPECT_THAT(PreadFull(-1, buf, 1, 0, path),
              StatusIs(absl::StatusCode::kInternal, HasSubstr(path)));
}

TEST(FileIoTest, WriteFileAtomicallyReplacesAndLeavesNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir.path() + "/config.json";
  ASSERT_OK(WriteFileAtomically(path, "old"));
  ASSERT_OK(WriteFileAtomically(path, "new bytes"));
  EXPECT_EQ(weightserver::testing::ReadBytes(path), "new bytes");
  EXPECT_EQ(std::filesystem::status(path).permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms(0644));
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_THAT(WriteFileAtomically(dir.path() + "/missing/x", "b"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace weightserver
