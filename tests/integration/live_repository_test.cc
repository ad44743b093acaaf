// Copyright 2026 The Weightserver Authors.
//
// tests/integration/live_repository_test.cc: models copied in, replaced and
// removed while clients fetch; streams pinned to an old revision; a half
// written model; a poisoned file replaced; SIGHUP; a Hugging Face cache.
// Rescans are started with RescanNow where the test is not about a trigger,
// so nothing depends on timing; waits poll with a deadline.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "weightserver/client/client.h"
#include "weightserver/client/tensor_table.h"
#include "cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/client_helpers.h"
#include "tests/testing/daemon.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/eventually.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver {
namespace {
namespace fs = std::filesystem;

using format::DType;
using ::testing::HasSubstr;
using ::weightserver::testing::HostBytes;
using ::weightserver::testing::LoadAll;
using ::weightserver::testing::Eventually;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::TensorBytes;
using ::weightserver::testing::WriteModel;

// Every tensor of `table` holds the bytes test models give its name and
// size: a mix of two versions would not.
absl::Status CheckBytes(const client::ModelInfo& toc,
                        const client::TensorTable& table) {
  for (const auto& t : toc.tensors) {
    const client::TensorView* v = table.Find(t.name);
    if (v == nullptr) return absl::InternalError("missing " + t.name);
    if (HostBytes(*v) != TensorBytes(t.name, v->size)) {
      return absl::DataLossError("wrong bytes in " + t.name);
    }
  }
  return absl::OkStatus();
}

class LiveRepositoryTest : public ::testing::Test {
 protected:
  void StartServer(bool watch) {
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.watch_repo = watch;
    o.rescan_interval = absl::ZeroDuration();
    ASSERT_OK_AND_ASSIGN(server_, server::Server::Start(o));
    ASSERT_OK_AND_ASSIGN(client_, client::Client::Connect(server_->address()));
  }
  void Rescan() { ASSERT_OK(server_->live_repository().RescanNow()); }

  // The publishing recipe: written into a hidden directory, renamed in.
  void Publish(const std::string& name,
               const std::vector<format::TensorSpec>& specs) {
    const std::string staging = repo_.path() + "/.staging-" + name;
    WriteModel(staging, specs);
    fs::rename(staging, repo_.path() + "/" + name);
  }

  std::string Path(const std::string& rel) const {
    return repo_.path() + "/" + rel;
  }

  TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(LiveRepositoryTest, CopiedInReplacedAndRemovedWhileClientsFetch) {
  StartServer(/*watch=*/false);
  std::atomic<bool> stop{false};
  std::atomic<int> loads_v1{0}, loads_v2{0}, bad{0};
  std::string first_bad;
  std::thread fetcher([&] {
    auto c = client::Client::Connect(server_->address());
    ASSERT_OK(c.status());
    while (!stop.load()) {
      absl::StatusOr<client::ModelInfo> toc = (*c)->GetModel("live");
      if (!toc.ok()) continue;  // Not there (yet, or any more).
      absl::StatusOr<client::TensorTable> t = LoadAll(**c, *toc);
      if (!t.ok()) {
        // Removed or replaced between GetModel and Fetch.
        if (t.status().code() != absl::StatusCode::kNotFound &&
            t.status().code() != absl::StatusCode::kFailedPrecondition &&
            bad.fetch_add(1) == 0) {
          first_bad = t.status().ToString();
        }
        continue;
      }
      if (!CheckBytes(*toc, *t).ok() && bad.fetch_add(1) == 0) {
        first_bad = "mixed or wrong bytes";
      }
      (toc->tensors[0].name[1] == '1' ? loads_v1 : loads_v2).fetch_add(1);
    }
  });
  Publish("live", {{"v1", DType::kU8, {1 << 20}}, {"v1b", DType::kF32, {4096}}});
  Rescan();
  EXPECT_TRUE(Eventually([&] { return loads_v1.load() >= 3; }));

  // Replaced: the old directory moved aside, the new one renamed in.
  WriteModel(Path(".staging-live2"),
             {{"v2", DType::kU8, {2 << 20}}, {"v2b", DType::kF32, {1024}}});
  fs::rename(Path("live"), Path(".old-live"));
  fs::rename(Path(".staging-live2"), Path("live"));
  Rescan();
  fs::remove_all(Path(".old-live"));
  EXPECT_TRUE(Eventually([&] { return loads_v2.load() >= 3; }));

  fs::remove_all(Path("live"));
  Rescan();
  EXPECT_EQ(server_->repository()->Find("live"), nullptr);
  stop.store(true);
  fetcher.join();
  EXPECT_EQ(bad.load(), 0) << first_bad;
  EXPECT_THAT(client_->GetModel("live").status(),
              ::weightserver::testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LiveRepositoryTest, AStreamOfTheOldRevisionFinishesWithTheOldBytes) {
  WriteModel(Path("big"), {{"w", DType::kU8, {32 << 20}}});
  StartServer(/*watch=*/true);
  ASSERT_OK_AND_ASSIGN(client::ModelInfo old_toc, client_->GetModel("big"));
  client::ClientOptions o;
  o.streams = 1;
  o.max_attempts = 1;
  std::atomic<bool> replaced{false};
  o.progress = [&](const client::Progress& p) {
    if (p.done_bytes >= (4u << 20) && !replaced.exchange(true)) {
      // A new version renamed over the file (the old one is unlinked).
      WriteModel(Path(".new"), {{"w2", DType::kU8, {1 << 20}}});
      fs::rename(Path(".new/model.safetensors"), Path("big/model.safetensors"));
      ASSERT_OK(server_->live_repository().RescanNow());
    }
    absl::SleepFor(absl::Microseconds(300));
  };
  ASSERT_OK_AND_ASSIGN(auto slow, client::Client::Connect(server_->address(), o));
  ASSERT_OK_AND_ASSIGN(client::TensorTable t, LoadAll(*slow, old_toc));
  EXPECT_TRUE(replaced.load());
  ASSERT_NE(t.Find("w"), nullptr);
  EXPECT_TRUE(HostBytes(*t.Find("w")) == TensorBytes("w", 32 << 20));

  ASSERT_OK_AND_ASSIGN(client::ModelInfo new_toc, client_->GetModel("big"));
  EXPECT_NE(new_toc.revision, old_toc.revision);
  ASSERT_OK_AND_ASSIGN(client::TensorTable t2, LoadAll(*client_, new_toc));
  EXPECT_OK(CheckBytes(new_toc, t2));
  // The old revision is gone for new requests.
  EXPECT_THAT(LoadAll(*client_, old_toc).status(),
              ::weightserver::testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition));
}

// Whether this process maps `path` after its file was unlinked (the
// daemon runs in this process).
bool MapsDeletedFile(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find(path) != std::string::npos &&
        line.find("(deleted)") != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Once no stream uses a replaced file, nothing keeps it mapped: not the
// service's catalog of tables of contents either, which only the next
// ListModels or GetModel would rebuild (none is made here).
TEST_F(LiveRepositoryTest, AReplacedFileIsUnmappedOnceNoStreamUsesIt) {
  WriteModel(Path("m"), {{"w", DType::kU8, {1 << 20}}});
  StartServer(/*watch=*/false);
  const std::string file = fs::canonical(Path("m/model.safetensors")).string();
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("m"));
  ASSERT_OK(LoadAll(*client_, toc).status());
  ASSERT_FALSE(MapsDeletedFile(file));
  WriteModel(Path(".new"), {{"w2", DType::kU8, {1 << 20}}});
  fs::rename(Path(".new/model.safetensors"), Path("m/model.safetensors"));
  Rescan();
  EXPECT_TRUE(Eventually([&] { return !MapsDeletedFile(file); }))
      << "the replaced " << file << " is still mapped";
}

TEST_F(LiveRepositoryTest, AModelWrittenInPlaceIsNotServedUntilComplete) {
  StartServer(/*watch=*/false);
  WriteModel(Path(".whole"), {{"w", DType::kU8, {1 << 20}}});
  const std::string whole = testing::ReadBytes(Path(".whole/model.safetensors"));
  fs::create_directories(Path("slow"));
  // Half of it, in place: its header promises more bytes than there are.
  testing::WriteBytes(Path("slow/model.safetensors"), whole.substr(0, whole.size() / 2));
  Rescan();
  std::shared_ptr<const server::Model> half = server_->repository()->Find("slow");
  ASSERT_NE(half, nullptr);
  EXPECT_FALSE(half->servable());
  EXPECT_THAT(client_->GetModel("slow").status(),
              ::weightserver::testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition));
  testing::WriteBytes(Path("slow/model.safetensors"), whole);
  Rescan();
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("slow"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable t, LoadAll(*client_, toc));
  EXPECT_OK(CheckBytes(toc, t));
}

TEST_F(LiveRepositoryTest, APoisonedFileIsServedAgainOnceReplaced) {
  WriteModel(Path("victim"), {{"w", DType::kU8, {8 << 20}}});
  StartServer(/*watch=*/false);
  auto victim = server_->repository()->Find("victim");
  ASSERT_NE(victim, nullptr);
  ASSERT_EQ(truncate(Path("victim/model.safetensors").c_str(), 4096), 0);
  const volatile char* p =
      reinterpret_cast<const char*>(victim->files[0].file->bytes().data());
  EXPECT_EQ(p[1 << 20], 0);  // A zero page patched in: the file is poisoned.
  ASSERT_TRUE(victim->files[0].file->Poisoned());
  victim.reset();
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("victim"));
  EXPECT_FALSE(LoadAll(*client_, toc).ok());

  WriteModel(Path(".new"), {{"w", DType::kU8, {8 << 20}}});
  fs::rename(Path(".new/model.safetensors"), Path("victim/model.safetensors"));
  Rescan();
  ASSERT_OK_AND_ASSIGN(toc, client_->GetModel("victim"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable t, LoadAll(*client_, toc));
  EXPECT_OK(CheckBytes(toc, t));
}

TEST_F(LiveRepositoryTest, InotifySeesAModelRenamedIn) {
  StartServer(/*watch=*/true);
  if (!Eventually([&] { return server_->live_repository().stats().watching; })) {
    GTEST_SKIP() << "inotify not available";
  }
  Publish("org", {{"x", DType::kF32, {16}}});
  ASSERT_TRUE(Eventually([&] { return client_->GetModel("org").ok(); }));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("org"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable t, LoadAll(*client_, toc));
  EXPECT_OK(CheckBytes(toc, t));
  fs::remove_all(Path("org"));
  EXPECT_TRUE(Eventually([&] {
    return client_->GetModel("org").status().code() == absl::StatusCode::kNotFound;
  }));
}

TEST_F(LiveRepositoryTest, AHuggingFaceSnapshotIsReachedByItsCommit) {
  const std::string entry = Path("models--org--name");
  for (const char* commit : {"c1", "c2"}) {
    fs::create_directories(entry + "/snapshots/" + commit);
    testing::WriteTestFile(entry + "/blobs/" + commit + "blob",
                           {{commit, DType::kF32, {64}}});
    fs::create_symlink(std::string("../../blobs/") + commit + "blob",
                       entry + "/snapshots/" + commit + "/model.safetensors");
  }
  fs::create_directories(entry + "/refs");
  testing::WriteBytes(entry + "/refs/main", "c2");
  StartServer(/*watch=*/false);
  ASSERT_OK_AND_ASSIGN(client::ModelInfo main, client_->GetModel("org/name"));
  EXPECT_EQ(main.tensors[0].name, "c2");
  ASSERT_OK_AND_ASSIGN(client::ModelInfo c1, client_->GetModel("org/name", "c1"));
  EXPECT_EQ(c1.name, "org/name@c1");
  ASSERT_OK_AND_ASSIGN(client::TensorTable t, LoadAll(*client_, c1));
  EXPECT_OK(CheckBytes(c1, t));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo c2, client_->GetModel("org/name", "c2"));
  EXPECT_EQ(c2.name, "org/name@c2");
  EXPECT_EQ(c2.revision, main.revision);
}

// `weightctl ls --watch` prints the models added and removed. The changes
// land right after the first listing; the next four (a second apart) see
// them.
TEST_F(LiveRepositoryTest, LsWatchPrintsWhatChanged) {
  Publish("a", {{"x", DType::kF32, {16}}});
  StartServer(/*watch=*/false);
  const std::string out_path = Path(".ls-out");
  std::ofstream out(out_path);
  std::ostringstream err;
  std::thread ls([&] {
    EXPECT_EQ(cli::RunWeightctl({"--server", server_->address(), "ls", "--watch",
                                 "--interval", "1", "--count", "5"},
                                cli::CliEnvironment{}, out, err),
              0)
        << err.str();
  });
  auto printed = [&] {
    std::ifstream in(out_path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_TRUE(Eventually([&] { return printed().find("NAME") != std::string::npos; }));
  Publish("b", {{"y", DType::kF32, {16}}});
  fs::remove_all(Path("a"));
  Rescan();
  ls.join();
  const std::string text = printed();
  EXPECT_THAT(text, HasSubstr(" + b  revision "));
  EXPECT_THAT(text, HasSubstr(" - a\n"));
}

TEST(LiveDaemonTest, SighupRescansNow) {
  TempDir repo;
  auto d = testing::Daemon::Start(
      WS_DAEMON_BINARY,
      {"--repo", repo.path(), "--watch_repo=false", "--rescan_interval=0"});
  ASSERT_OK(d.status());
  ASSERT_OK_AND_ASSIGN(auto c, client::Client::Connect((*d)->address()));
  WriteModel(repo.path() + "/.staging", {{"x", DType::kF32, {16}}});
  fs::rename(repo.path() + "/.staging", repo.path() + "/m");
  EXPECT_THAT(c->GetModel("m").status(),
              ::weightserver::testing::StatusIs(absl::StatusCode::kNotFound));
  ASSERT_EQ(kill((*d)->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return c->GetModel("m").ok(); })) << (*d)->Log();
  EXPECT_THAT((*d)->Log(), HasSubstr("SIGHUP: rescanning"));
}

}  // namespace
}  // namespace weightserver
