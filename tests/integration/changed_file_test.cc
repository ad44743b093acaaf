// Copyright 2026 The Weightserver Authors.
//
// tests/integration/changed_file_test.cc: a file truncated or rewritten in
// place while a stream reads it. The stream fails with DATA_LOSS or
// FAILED_PRECONDITION and a message naming the file; the daemon does not die
// (no SIGBUS escapes) and goes on serving the other models.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "weightserver/client/client.h"
#include "weightserver/client/tensor_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/client_helpers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::TensorBytes;

class ChangedFileTest : public ::testing::TestWithParam<server::IoMode> {
 protected:
  void SetUp() override {
    // Far more than flow-control windows and read-ahead hold: the stream is
    // still reading the file when it changes.
    weightserver::testing::WriteModel(repo_.path() + "/victim",
                                      {{"w", format::DType::kU8, {64 << 20}}});
    weightserver::testing::WriteModel(repo_.path() + "/other",
                                      {{"o", format::DType::kF32, {1 << 18}}});
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.service.io = GetParam();
    // One catalog throughout: rescans are live_repository_test.cc's.
    o.watch_repo = false;
    o.rescan_interval = absl::ZeroDuration();
    auto s = server::Server::Start(o);
    if (!s.ok() && GetParam() == server::IoMode::kUring) {
      GTEST_SKIP() << "io_uring not available: " << s.status();
    }
    ASSERT_OK(s.status());
    server_ = *std::move(s);
  }

  // Starts a slow load of "victim"; runs `change` once 4 MiB have arrived;
  // returns the load's outcome.
  absl::Status LoadWhileChanging(std::function<void()> change) {
    client::ClientOptions o;
    o.streams = 1;
    o.max_attempts = 2;
    std::atomic<bool> changed{false};
    o.progress = [&](const client::Progress& p) {
      if (p.done_bytes >= (4u << 20) && !changed.exchange(true)) change();
      absl::SleepFor(absl::Microseconds(300));
    };
    auto c = client::Client::Connect(server_->address(), o);
    if (!c.ok()) return c.status();
    auto toc = (*c)->GetModel("victim");
    if (!toc.ok()) return toc.status();
    return weightserver::testing::LoadAll(**c, *toc).status();
  }

  // Overwrites a few bytes 50 MiB into `path`: same inode, same size.
  static void RewriteInPlace(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 50 << 20, SEEK_SET);
    std::fputs("rewritten", f);
    std::fclose(f);
  }

  void ExpectOtherModelServed() {
    auto c = client::Client::Connect(server_->address());
    ASSERT_OK(c.status());
    ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, (*c)->GetModel("other"));
    ASSERT_OK_AND_ASSIGN(client::TensorTable m, weightserver::testing::LoadAll(**c, toc));
    const client::TensorView* t = m.Find("o");
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(weightserver::testing::HostBytes(*t) == TensorBytes("o", 1 << 20));
  }

  // Truncates "victim" to `size` once 4 MiB of it have arrived: the load
  // fails with DATA_LOSS or FAILED_PRECONDITION naming the model, and the
  // server goes on serving the other model.
  void TruncateWhileLoading(off_t size) {
    std::string path = repo_.path() + "/victim/model.safetensors";
    absl::Status s = LoadWhileChanging(
        [&] { ASSERT_EQ(truncate(path.c_str(), size), 0); });
    ASSERT_FALSE(s.ok()) << "a truncated file cannot be served whole";
    EXPECT_TRUE(s.code() == absl::StatusCode::kDataLoss ||
                s.code() == absl::StatusCode::kFailedPrecondition)
        << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("victim"));
    ExpectOtherModelServed();
  }

  TempDir repo_;
  std::unique_ptr<server::Server> server_;
};

TEST_P(ChangedFileTest, TruncatedWhileServedFailsThatStreamOnly) {
  TruncateWhileLoading(8 << 20);
}

// Issue 11, item 8: a model whose file was found damaged while serving was
// still listed as servable. A page of the mapping that cannot be read
// (here: the file truncated, then read through the mapping where no guard
// expects it) poisons the file; `ls` then says so, and the rest is served.
TEST_P(ChangedFileTest, AModelPoisonedWhileServedIsListedWithWhy) {
  std::string path = repo_.path() + "/victim/model.safetensors";
  auto victim = server_->repository()->Find("victim");
  ASSERT_NE(victim, nullptr);
  ASSERT_EQ(truncate(path.c_str(), 4096), 0);
  const volatile char* p =
      reinterpret_cast<const char*>(victim->files[0].file->bytes().data());
  EXPECT_EQ(p[1 << 20], 0);  // Patched with a zero page, file poisoned.
  ASSERT_TRUE(victim->files[0].file->Poisoned());
  auto c = client::Client::Connect(server_->address());
  ASSERT_OK(c.status());
  ASSERT_OK_AND_ASSIGN(auto models, (*c)->ListModels());
  bool seen = false;
  for (const auto& m : models) {
    if (m.name == "victim") {
      seen = true;
      EXPECT_THAT(m.error, HasSubstr("could not be read while served"));
      EXPECT_EQ(m.revision, "");
    } else {
      EXPECT_EQ(m.error, "") << m.name;
    }
  }
  EXPECT_TRUE(seen);
  ExpectOtherModelServed();
}

// A file changed on disk since the scan (here in place, its mtime kept)
// fails every fetch of its model: ls says so, and why.
TEST_P(ChangedFileTest, AModelChangedOnDiskIsListedWithWhy) {
  const std::string path = repo_.path() + "/victim/model.safetensors";
  struct stat before;
  ASSERT_EQ(stat(path.c_str(), &before), 0);
  RewriteInPlace(path);
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  auto c = client::Client::Connect(server_->address());
  ASSERT_OK(c.status());
  ASSERT_OK_AND_ASSIGN(auto models, (*c)->ListModels());
  bool seen = false;
  for (const auto& m : models) {
    if (m.name == "victim") {
      seen = true;
      EXPECT_THAT(m.error, HasSubstr("modified in place while served (ctime"));
      EXPECT_THAT(m.error, HasSubstr("not served until the repository is rescanned"));
      EXPECT_EQ(m.revision, "");
    } else {
      EXPECT_EQ(m.error, "") << m.name;
    }
  }
  EXPECT_TRUE(seen);
  ExpectOtherModelServed();
}

// Cut right where the client is: the chunks read ahead and queued in gRPC
// now point at pages that are gone. The kernel's send of such a slice fails
// with EFAULT (gRPC closes that connection; the client retries and gets the
// server's DATA_LOSS); a user-space read by gRPC would get a zero page
// (sigbus_guard.h, RegisterMapping; tested in tests/server). Either way the
// daemon lives and serves the rest.
TEST_P(ChangedFileTest, TruncatedUnderQueuedChunksKeepsTheDaemonAlive) {
  TruncateWhileLoading(4 << 20);
}

TEST_P(ChangedFileTest, RewrittenInPlaceWhileServedFailsThatStreamOnly) {
  std::string path = repo_.path() + "/victim/model.safetensors";
  absl::Status s = LoadWhileChanging([&] { RewriteInPlace(path); });
  ASSERT_FALSE(s.ok()) << "bytes of two versions must never be mixed";
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("modified in place"));
  ExpectOtherModelServed();
}

// Issue 11, item 4: the same rewrite, with the old mtime put back (touch -r,
// rsync --times); the identity had no ctime and such streams ended OK with
// mixed versions.
TEST_P(ChangedFileTest, RewrittenInPlaceWithTheMtimeRestoredFailsThatStreamOnly) {
  std::string path = repo_.path() + "/victim/model.safetensors";
  struct stat before;
  ASSERT_EQ(stat(path.c_str(), &before), 0);
  absl::Status s = LoadWhileChanging([&] {
    RewriteInPlace(path);
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  });
  ASSERT_FALSE(s.ok()) << "bytes of two versions must never be mixed";
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  // "(ctime changed)" unless the server looked between the write and the
  // utimensat; tests/server/mapped_file_test.cc pins the ctime case.
  EXPECT_THAT(std::string(s.message()), HasSubstr("modified in place"));
  ExpectOtherModelServed();
}

INSTANTIATE_TEST_SUITE_P(Modes, ChangedFileTest,
                         ::testing::Values(server::IoMode::kPread,
                                           server::IoMode::kUring),
                         [](const auto& info) {
                           return std::string(server::IoModeName(info.param));
                         });

}  // namespace
}  // namespace weightserver
