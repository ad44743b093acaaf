// Copyright 2026 The Weightserver Authors.
//
// tests/server/hf_cache_test.cc: a Hugging Face hub cache as a repository:
// names, snapshots, refs/main, symlinks into blobs/, unfinished downloads.
#include "server/hf_cache.h"

#include <sys/stat.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model_repository.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver::server {
namespace {
namespace fs = std::filesystem;

using format::DType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;
using ::weightserver::testing::WriteModel;
using ::weightserver::testing::WriteTestFile;

std::vector<std::string> Names(const ModelRepository& repo) {
  std::vector<std::string> out;
  for (const auto& m : repo.models()) out.push_back(m->name);
  return out;
}

// Lays out `file` of snapshot `commit` of entry `dir` as huggingface_hub
// does: the bytes in blobs/<blob>, a relative symlink in the snapshot.
void AddSnapshotFile(const std::string& dir, const std::string& commit,
                     const std::string& file, const std::string& blob,
                     const std::vector<format::TensorSpec>& specs) {
  fs::create_directories(dir + "/blobs");
  fs::create_directories(dir + "/snapshots/" + commit);
  WriteTestFile(dir + "/blobs/" + blob, specs);
  fs::create_symlink("../../blobs/" + blob,
                     dir + "/snapshots/" + commit + "/" + file);
}

void SetMain(const std::string& dir, const std::string& commit) {
  fs::create_directories(dir + "/refs");
  WriteBytes(dir + "/refs/main", commit);  // No newline, as the hub writes.
}

TEST(HfRepoIdTest, MapsEntryNamesToRepoIds) {
  EXPECT_EQ(HfRepoId("models--org--name"), "org/name");
  EXPECT_EQ(HfRepoId("models--gpt2"), "gpt2");
  EXPECT_EQ(HfRepoId("models--meta-llama--Llama-3-8B"), "meta-llama/Llama-3-8B");
  EXPECT_EQ(HfRepoId("datasets--org--name"), "");
  EXPECT_EQ(HfRepoId("models--"), "");
  EXPECT_EQ(HfRepoId("models----x"), "");
  EXPECT_EQ(HfRepoId("llama"), "");
}

TEST(CheckSnapshotCompleteTest, AShardWithoutItsIndexIsAnUnfinishedDownload) {
  EXPECT_OK(CheckSnapshotComplete({"model.safetensors"}, false));
  EXPECT_OK(CheckSnapshotComplete({"model-00001-of-00002.safetensors"}, true));
  EXPECT_THAT(CheckSnapshotComplete({"model-00001-of-00002.safetensors"}, false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("download in progress")));
}

TEST(HfCacheRepositoryTest, ServesMainAndEverySnapshotByCommit) {
  TempDir root;
  const std::string entry = root.path() + "/models--org--name";
  const std::string c1(40, 'a'), c2(40, 'b');
  AddSnapshotFile(entry, c1, "model.safetensors", "1111",
                  {{"w", DType::kF32, {4}}});
  AddSnapshotFile(entry, c2, "model.safetensors", "2222",
                  {{"w", DType::kF32, {8}}});
  WriteBytes(entry + "/blobs/3333", "{\"model_type\": \"x\"}");
  fs::create_symlink("../../blobs/3333", entry + "/snapshots/" + c2 + "/config.json");
  SetMain(entry, c2);
  fs::create_directories(root.path() + "/.locks/models--org--name");
  WriteModel(root.path() + "/plain", {{"p", DType::kI8, {1}}});

  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(Names(*repo), ElementsAre("org/name", "org/name@" + c1,
                                        "org/name@" + c2, "plain"));
  auto main = repo->Find("org/name");
  auto at_c2 = repo->Find("org/name@" + c2);
  ASSERT_TRUE(main->servable()) << main->error;
  EXPECT_EQ(main->total_tensor_bytes, 32u);
  EXPECT_EQ(main->revision, at_c2->revision);
  EXPECT_EQ(main->files[0].file, at_c2->files[0].file);  // One mapping.
  ASSERT_EQ(main->extra_files.size(), 1u);
  EXPECT_EQ(main->extra_files[0].name, "config.json");
  EXPECT_EQ(repo->Find("org/name@" + c1)->total_tensor_bytes, 16u);
}

TEST(HfCacheRepositoryTest, WithoutRefsMainOnlyCommitsAreServed) {
  TempDir root;
  const std::string entry = root.path() + "/models--gpt2";
  AddSnapshotFile(entry, "c0ffee", "model.safetensors", "1", {{"w", DType::kF16, {2}}});
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(Names(*repo), ElementsAre("gpt2@c0ffee"));
}

TEST(HfCacheRepositoryTest, ARefsMainThatIsAFifoIsNotWaitedOn) {
  TempDir root;
  const std::string entry = root.path() + "/models--gpt2";
  AddSnapshotFile(entry, "c0ffee", "model.safetensors", "1", {{"w", DType::kF16, {2}}});
  std::filesystem::create_directories(entry + "/refs");
  ASSERT_EQ(mkfifo((entry + "/refs/main").c_str(), 0600), 0);
  // Opening the FIFO would wait for a writer: the scan would never return.
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(Names(*repo), ElementsAre("gpt2@c0ffee"));
}

TEST(HfCacheRepositoryTest, AShardedSnapshotWithoutItsIndexIsNotServable) {
  TempDir root;
  const std::string entry = root.path() + "/models--org--big";
  AddSnapshotFile(entry, "c1", "model-00001-of-00002.safetensors", "1",
                  {{"a", DType::kF32, {2}}});
  SetMain(entry, "c1");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  auto m = repo->Find("org/big@c1");
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->servable());
  EXPECT_THAT(m->error, HasSubstr("download in progress"));
}

TEST(HfCacheRepositoryTest, ABlobSymlinkLeavingTheRootIsRefused) {
  TempDir root, outside;
  const std::string entry = root.path() + "/models--org--evil";
  fs::create_directories(entry + "/snapshots/c1");
  WriteTestFile(outside.path() + "/x.safetensors", {{"a", DType::kF32, {2}}});
  fs::create_symlink(outside.path() + "/x.safetensors",
                     entry + "/snapshots/c1/model.safetensors");
  SetMain(entry, "c1");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  auto m = repo->Find("org/evil@c1");
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->servable());
  EXPECT_THAT(m->error, HasSubstr("outside the model repository"));
}

TEST(HfCacheRepositoryTest, OffItIsAPlainDirectory) {
  TempDir root;
  const std::string entry = root.path() + "/models--org--name";
  AddSnapshotFile(entry, "c1", "model.safetensors", "1", {{"w", DType::kF32, {1}}});
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan(
                                      {.root = root.path(), .hf_cache = false}));
  EXPECT_THAT(Names(*repo), ElementsAre("models--org--name/snapshots/c1"));
}

}  // namespace
}  // namespace weightserver::server
