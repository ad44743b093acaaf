// Copyright 2026 The Weightserver Authors.
//
// tests/server/live_repository_test.cc: rescans reuse unchanged models, load
// changed ones with a new revision, drop removed ones; inotify and
// RequestRescan trigger them; old snapshots stay valid.
#include "server/live_repository.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/eventually.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver::server {
namespace {
namespace fs = std::filesystem;

using format::DType;
using ::testing::ElementsAre;
using ::weightserver::testing::Eventually;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteModel;

std::vector<std::string> Names(const ModelRepository& repo) {
  std::vector<std::string> out;
  for (const auto& m : repo.models()) out.push_back(m->name);
  return out;
}

TEST(RescanTest, ReusesUnchangedModelsAndReloadsChangedOnes) {
  TempDir root;
  WriteModel(root.path() + "/a", {{"x", DType::kF32, {4}}});
  WriteModel(root.path() + "/b", {{"y", DType::kF32, {4}}});
  ASSERT_OK_AND_ASSIGN(auto first, ModelRepository::Scan({.root = root.path()}));
  EXPECT_EQ(first->loaded(), 2u);

  ASSERT_OK_AND_ASSIGN(auto same, ModelRepository::Scan({.root = root.path()},
                                                        first.get()));
  EXPECT_EQ(same->reused(), 2u);
  EXPECT_EQ(same->loaded(), 0u);
  EXPECT_EQ(same->Find("a"), first->Find("a"));  // The very same model.

  // b replaced (a new file renamed over it), c added, a removed.
  WriteModel(root.path() + "/.tmp-b", {{"y", DType::kF32, {8}}});
  fs::rename(root.path() + "/.tmp-b/model.safetensors",
             root.path() + "/b/model.safetensors");
  WriteModel(root.path() + "/c", {{"z", DType::kF32, {2}}});
  fs::remove_all(root.path() + "/a");
  ASSERT_OK_AND_ASSIGN(auto next, ModelRepository::Scan({.root = root.path()},
                                                        same.get()));
  EXPECT_THAT(Names(*next), ElementsAre("b", "c"));
  EXPECT_EQ(next->loaded(), 2u);
  EXPECT_NE(next->Find("b")->revision, first->Find("b")->revision);
  EXPECT_EQ(next->Find("b")->total_tensor_bytes, 32u);
  // The old snapshot still serves the old bytes.
  EXPECT_EQ(first->Find("b")->total_tensor_bytes, 16u);
  EXPECT_EQ(first->Find("b")->files[0].file->bytes().size(),
            first->Find("b")->files[0].file->size());
}

TEST(RescanTest, AThousandUnchangedModelsAreAllReused) {
  TempDir root;
  for (int i = 0; i < 1000; ++i) {
    WriteModel(root.path() + "/org" + std::to_string(i % 10) + "/m" +
                   std::to_string(i),
               {{"x", DType::kF32, {2}}});
  }
  ASSERT_OK_AND_ASSIGN(auto first, ModelRepository::Scan({.root = root.path()}));
  ASSERT_EQ(first->models().size(), 1000u);
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(auto next, ModelRepository::Scan({.root = root.path()},
                                                        first.get()));
  EXPECT_EQ(next->reused(), 1000u);
  EXPECT_EQ(next->loaded(), 0u);
  // Not an assertion on time (shared CI machines); for the log.
  std::cout << "rescan of 1000 unchanged models: " << absl::Now() - start
            << "\n";
}

TEST(RescanTest, ANewExtraFileIsAChange) {
  TempDir root;
  WriteModel(root.path() + "/m", {{"x", DType::kF32, {4}}});
  ASSERT_OK_AND_ASSIGN(auto first, ModelRepository::Scan({.root = root.path()}));
  weightserver::testing::WriteBytes(root.path() + "/m/config.json", "{}");
  ASSERT_OK_AND_ASSIGN(auto next, ModelRepository::Scan({.root = root.path()},
                                                        first.get()));
  EXPECT_EQ(next->reused(), 0u);
  EXPECT_NE(next->Find("m")->revision, first->Find("m")->revision);
  EXPECT_EQ(next->Find("m")->extra_files.size(), 1u);
}

TEST(RescanTest, AnUnservableModelIsValidatedAgain) {
  TempDir root;
  fs::create_directories(root.path() + "/bad");
  weightserver::testing::WriteBytes(root.path() + "/bad/model.safetensors", "junk");
  ASSERT_OK_AND_ASSIGN(auto first, ModelRepository::Scan({.root = root.path()}));
  ASSERT_FALSE(first->Find("bad")->servable());
  ASSERT_OK_AND_ASSIGN(auto next, ModelRepository::Scan({.root = root.path()},
                                                        first.get()));
  EXPECT_EQ(next->reused(), 0u);
  EXPECT_FALSE(next->Find("bad")->servable());
}

TEST(LiveRepositoryTest, RescanNowPublishesAndCounts) {
  TempDir root;
  WriteModel(root.path() + "/a", {{"x", DType::kF32, {4}}});
  ASSERT_OK_AND_ASSIGN(
      auto live, LiveRepository::Start({.repository = {.root = root.path()},
                                        .watch = false,
                                        .rescan_interval = absl::ZeroDuration()}));
  std::shared_ptr<const ModelRepository> before = live->Snapshot();
  WriteModel(root.path() + "/b", {{"y", DType::kF32, {4}}});
  EXPECT_THAT(Names(*live->Snapshot()), ElementsAre("a"));
  ASSERT_OK(live->RescanNow());
  EXPECT_THAT(Names(*live->Snapshot()), ElementsAre("a", "b"));
  EXPECT_THAT(Names(*before), ElementsAre("a"));  // Snapshots never change.
  RepositoryStats stats = live->stats();
  EXPECT_EQ(stats.scans, 2u);
  EXPECT_EQ(stats.last_scan_reused, 1u);
  EXPECT_EQ(stats.last_scan_loaded, 1u);
  EXPECT_EQ(stats.models_servable, 2u);
  EXPECT_EQ(stats.models_unservable, 0u);
  EXPECT_FALSE(stats.watching);

  fs::remove_all(root.path());  // The root is gone: the catalog is kept.
  EXPECT_FALSE(live->RescanNow().ok());
  EXPECT_THAT(Names(*live->Snapshot()), ElementsAre("a", "b"));
  EXPECT_EQ(live->stats().failed_scans, 1u);
  EXPECT_FALSE(live->stats().last_scan_error.empty());
  fs::create_directories(root.path());
}

TEST(LiveRepositoryTest, RequestRescanRescansOnItsThread) {
  TempDir root;
  ASSERT_OK_AND_ASSIGN(
      auto live, LiveRepository::Start({.repository = {.root = root.path()},
                                        .watch = false,
                                        .rescan_interval = absl::ZeroDuration()}));
  WriteModel(root.path() + "/a", {{"x", DType::kF32, {4}}});
  live->RequestRescan();
  EXPECT_TRUE(Eventually([&] { return live->Snapshot()->Find("a") != nullptr; }));
}

TEST(LiveRepositoryTest, InotifySeesAModelRenamedIntoANewDirectory) {
  TempDir root;
  ASSERT_OK_AND_ASSIGN(
      auto live, LiveRepository::Start({.repository = {.root = root.path()},
                                        .rescan_interval = absl::ZeroDuration()}));
  if (!live->stats().watching && !Eventually([&] { return live->stats().watching; })) {
    GTEST_SKIP() << "inotify not available";
  }
  // The publishing recipe: a hidden copy renamed into place.
  WriteModel(root.path() + "/.tmp/org/m", {{"x", DType::kF32, {4}}});
  fs::create_directories(root.path() + "/org");
  ASSERT_TRUE(Eventually([&] { return live->stats().scans >= 2; }));
  fs::rename(root.path() + "/.tmp/org/m", root.path() + "/org/m");
  ASSERT_TRUE(Eventually([&] {
    auto m = live->Snapshot()->Find("org/m");
    return m != nullptr && m->servable();
  }));
  // A file written into the new directory later is seen too (its watch was
  // added at the rescan).
  weightserver::testing::WriteBytes(root.path() + "/org/m/config.json", "{}");
  EXPECT_TRUE(Eventually([&] {
    return live->Snapshot()->Find("org/m")->extra_files.size() == 1;
  }));
  fs::remove_all(root.path() + "/org/m");
  EXPECT_TRUE(Eventually([&] { return live->Snapshot()->Find("org/m") == nullptr; }));
}

TEST(LiveRepositoryTest, ThePeriodicRescanIsTheSafetyNet) {
  TempDir root;
  ASSERT_OK_AND_ASSIGN(
      auto live,
      LiveRepository::Start({.repository = {.root = root.path()},
                             .watch = false,
                             .rescan_interval = absl::Milliseconds(50)}));
  WriteModel(root.path() + "/a", {{"x", DType::kF32, {4}}});
  EXPECT_TRUE(Eventually([&] { return live->Snapshot()->Find("a") != nullptr; }));
}

}  // namespace
}  // namespace weightserver::server
