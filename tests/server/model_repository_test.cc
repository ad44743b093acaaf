// Copyright 2026 The Weightserver Authors.
//
// tests/server/model_repository_test.cc: scanning, validation, sharding,
// symlinks, revisions.
#include "server/model_repository.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver::server {
namespace {

using format::DType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::weightserver::testing::ConformanceDir;
using ::weightserver::testing::ReadBytes;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;
using ::weightserver::testing::WriteModel;
using ::weightserver::testing::WriteShardedModel;

std::vector<std::string> Names(const ModelRepository& repo) {
  std::vector<std::string> out;
  for (const auto& m : repo.models()) out.push_back(m->name);
  return out;
}

TEST(ModelRepositoryTest, FindsSingleShardedAndNestedModels) {
  TempDir root;
  WriteModel(root.path() + "/single", {{"a", DType::kF32, {2, 3}}});
  WriteModel(root.path() + "/org/nested", {{"b", DType::kBF16, {4}}});
  WriteShardedModel(root.path() + "/sharded",
                    {{{"x", DType::kF16, {8}}}, {{"y", DType::kI64, {2}}}});
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(Names(*repo), ElementsAre("org/nested", "sharded", "single"));

  auto sharded = repo->Find("sharded");
  ASSERT_NE(sharded, nullptr);
  EXPECT_TRUE(sharded->servable()) << sharded->error;
  EXPECT_TRUE(sharded->sharded);
  EXPECT_EQ(sharded->files.size(), 2u);
  EXPECT_EQ(sharded->tensor_count, 2u);
  EXPECT_EQ(sharded->total_tensor_bytes, 16u + 16u);
  EXPECT_THAT(sharded->index_metadata_json, HasSubstr("\"total_size\":32"));
  EXPECT_EQ(sharded->revision.size(), 16u);
  const auto& loc = sharded->tensors.at("y");
  EXPECT_EQ(sharded->files[loc.file].name, "model-00002-of-00002.safetensors");

  auto single = repo->Find("single");
  ASSERT_NE(single, nullptr);
  EXPECT_FALSE(single->sharded);
  EXPECT_EQ(single->total_tensor_bytes, 24u);
  EXPECT_EQ(repo->Find("missing"), nullptr);
  EXPECT_EQ(repo->Find("../single"), nullptr);
}

TEST(ModelRepositoryTest, MissingRootIsNotFound) {
  EXPECT_THAT(ModelRepository::Scan({.root = "/no/such/dir"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/no/such/dir")));
}

TEST(ModelRepositoryTest, RootThatIsAFileIsInvalid) {
  TempDir root;
  WriteBytes(root.path() + "/f", "x");
  EXPECT_THAT(ModelRepository::Scan({.root = root.path() + "/f"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ModelRepositoryTest, EmptyRootHasNoModels) {
  TempDir root;
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->models(), IsEmpty());
}

// Every malformed conformance file makes its model unservable with the
// reference's error kind in the reason; the good model beside it is served.
TEST(ModelRepositoryTest, CorruptFilesMakeOnlyTheirModelUnservable) {
  TempDir root;
  WriteModel(root.path() + "/good", {{"w", DType::kU8, {4}}});
  int bad = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(ConformanceDir())) {
    std::string name = entry.path().filename().string();
    if (name.rfind("bad_", 0) != 0) continue;
    WriteBytes(root.path() + "/" + name.substr(0, name.size() - 12) +
                   "/model.safetensors",
               ReadBytes(entry.path().string()));
    ++bad;
  }
  ASSERT_GT(bad, 10);
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  ASSERT_EQ(repo->models().size(), static_cast<size_t>(bad) + 1);
  for (const auto& m : repo->models()) {
    if (m->name == "good") {
      EXPECT_TRUE(m->servable()) << m->error;
    } else {
      EXPECT_FALSE(m->servable()) << m->name;
      EXPECT_THAT(m->error, HasSubstr("model.safetensors: ")) << m->name;
      EXPECT_TRUE(m->revision.empty());
    }
  }
  EXPECT_THAT(repo->Find("bad_gap")->error, HasSubstr("InvalidOffset"));
  EXPECT_THAT(repo->Find("bad_empty_file")->error, HasSubstr("HeaderTooSmall"));
}

TEST(ModelRepositoryTest, IndexNamingMissingShardIsAnError) {
  TempDir root;
  WriteShardedModel(root.path() + "/m",
                    {{{"x", DType::kU8, {1}}}, {{"y", DType::kU8, {1}}}});
  std::filesystem::remove(root.path() + "/m/model-00002-of-00002.safetensors");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->Find("m")->error,
              HasSubstr("shard 'model-00002-of-00002.safetensors' is not in"));
}

TEST(ModelRepositoryTest, IndexWithPathLikeShardNameIsRefused) {
  TempDir root;
  WriteModel(root.path() + "/victim", {{"x", DType::kU8, {1}}});
  WriteModel(root.path() + "/m", {{"x", DType::kU8, {1}}});
  WriteBytes(root.path() + "/m/model.safetensors.index.json",
             R"({"metadata":{},"weight_map":{"x":"../victim/model.safetensors"}})");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->Find("m")->error, HasSubstr("not a plain *.safetensors"));
  EXPECT_TRUE(repo->Find("victim")->servable());
}

TEST(ModelRepositoryTest, IndexDisagreeingWithShardsIsAnError) {
  TempDir root;
  WriteShardedModel(root.path() + "/m",
                    {{{"x", DType::kU8, {1}}}, {{"y", DType::kU8, {1}}}});
  WriteBytes(root.path() + "/m/model.safetensors.index.json",
             R"({"weight_map":{"x":"model-00002-of-00002.safetensors",
                               "y":"model-00002-of-00002.safetensors"}})");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_FALSE(repo->Find("m")->servable());
  EXPECT_THAT(repo->Find("m")->error, HasSubstr("weight_map"));
}

TEST(ModelRepositoryTest, MalformedIndexIsAnError) {
  TempDir root;
  WriteModel(root.path() + "/m", {{"x", DType::kU8, {1}}});
  WriteBytes(root.path() + "/m/model.safetensors.index.json", "{not json");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->Find("m")->error, HasSubstr("not a JSON object"));
}

TEST(ModelRepositoryTest, DuplicateTensorAcrossFilesIsAnError) {
  TempDir root;
  weightserver::testing::WriteTestFile(root.path() + "/m/a.safetensors",
                                       {{"dup", DType::kU8, {1}}});
  weightserver::testing::WriteTestFile(root.path() + "/m/b.safetensors",
                                       {{"dup", DType::kU8, {1}}});
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->Find("m")->error,
              HasSubstr("'dup' is in both a.safetensors and b.safetensors"));
}

TEST(ModelRepositoryTest, SymlinkLeavingRootIsRefused) {
  TempDir outside;
  TempDir root;
  WriteModel(outside.path() + "/secret", {{"x", DType::kU8, {1}}});
  std::filesystem::create_directories(root.path() + "/m");
  std::filesystem::create_symlink(outside.path() + "/secret/model.safetensors",
                                  root.path() + "/m/model.safetensors");
  // A symlink inside the root (Hugging Face cache style) is fine.
  WriteModel(root.path() + "/blobs_model", {{"y", DType::kU8, {1}}});
  std::filesystem::create_directories(root.path() + "/linked");
  std::filesystem::create_symlink(root.path() + "/blobs_model/model.safetensors",
                                  root.path() + "/linked/model.safetensors");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->Find("m")->error, HasSubstr("outside the model repository"));
  EXPECT_TRUE(repo->Find("linked")->servable()) << repo->Find("linked")->error;
}

TEST(ModelRepositoryTest, IndexSymlinkLeavingRootIsRefused) {
  TempDir outside;
  TempDir root;
  WriteBytes(outside.path() + "/model.safetensors.index.json",
             R"({"metadata": {"secret": "outside"}, "weight_map": {"x": "model.safetensors"}})");
  WriteModel(root.path() + "/m", {{"x", DType::kU8, {1}}});
  std::filesystem::create_symlink(outside.path() + "/model.safetensors.index.json",
                                  root.path() + "/m/model.safetensors.index.json");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->Find("m")->error, HasSubstr("outside the model repository"));
  EXPECT_THAT(repo->Find("m")->index_metadata_json, IsEmpty());
}

// A FIFO named like a weights file (or an index) is not a regular file:
// its model is unservable, and the scan does not wait for a writer.
TEST(ModelRepositoryTest, FifosAreNotWaitedOn) {
  TempDir root;
  WriteModel(root.path() + "/good", {{"x", DType::kU8, {1}}});
  std::filesystem::create_directories(root.path() + "/fifo");
  ASSERT_EQ(mkfifo((root.path() + "/fifo/model.safetensors").c_str(), 0600), 0);
  WriteModel(root.path() + "/fifo-index", {{"x", DType::kU8, {1}}});
  ASSERT_EQ(mkfifo((root.path() + "/fifo-index/model.safetensors.index.json").c_str(),
                   0600), 0);
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(repo->Find("fifo")->error, HasSubstr("not a regular file"));
  EXPECT_THAT(repo->Find("fifo-index")->error, HasSubstr("not a regular file"));
  EXPECT_TRUE(repo->Find("good")->servable());
}

// Issue 11, item 8: a directory symlink leaving the repository was skipped
// without a word in `ls`.
TEST(ModelRepositoryTest, DirectorySymlinkLeavingRootIsListedWithWhy) {
  TempDir outside;
  TempDir root;
  WriteModel(outside.path() + "/secret", {{"x", DType::kU8, {1}}});
  WriteModel(root.path() + "/real", {{"y", DType::kU8, {1}}});
  std::filesystem::create_directories(root.path() + "/org");
  std::filesystem::create_directory_symlink(outside.path() + "/secret",
                                            root.path() + "/org/escape");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(Names(*repo), ElementsAre("org/escape", "real"));
  const auto escape = repo->Find("org/escape");
  ASSERT_NE(escape, nullptr);
  EXPECT_FALSE(escape->servable());
  EXPECT_THAT(escape->error, HasSubstr("leaves the model repository"));
  EXPECT_TRUE(escape->files.empty());
  EXPECT_TRUE(repo->Find("real")->servable());
}

// A directory symlink to another model inside the repository was skipped
// without a word: it is listed, not servable, naming the model it aliases
// (served once, under its own name). Nested and relative symlinks too.
TEST(ModelRepositoryTest, DirectorySymlinkAliasIsListedAsNotServedTwice) {
  TempDir root;
  WriteModel(root.path() + "/org/real", {{"y", DType::kU8, {1}}});
  std::filesystem::create_directory_symlink(root.path() + "/org/real",
                                            root.path() + "/alias");
  std::filesystem::create_directory_symlink("real", root.path() + "/org/latest");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(Names(*repo), ElementsAre("alias", "org/latest", "org/real"));
  EXPECT_TRUE(repo->Find("org/real")->servable());
  for (const char* alias : {"alias", "org/latest"}) {
    const auto m = repo->Find(alias);
    ASSERT_NE(m, nullptr) << alias;
    EXPECT_FALSE(m->servable()) << alias;
    EXPECT_THAT(m->error, HasSubstr("alias of 'org/real': a directory symlink"))
        << alias;
    EXPECT_THAT(m->error, HasSubstr("no model is served twice")) << alias;
    EXPECT_TRUE(m->files.empty()) << alias;
  }
}

// Hidden directories are the staging area for publishing (copy to
// ".tmp-m", then rename to "m"): skipped, and not listed either, at any
// depth; so are hidden files.
TEST(ModelRepositoryTest, HiddenDirectoriesAreSkipped) {
  TempDir root;
  WriteModel(root.path() + "/.cache/m", {{"x", DType::kU8, {1}}});
  WriteModel(root.path() + "/org/.tmp-m", {{"x", DType::kU8, {1}}});
  WriteModel(root.path() + "/org/m", {{"x", DType::kU8, {1}}});
  std::filesystem::copy_file(root.path() + "/org/m/model.safetensors",
                             root.path() + "/org/m/.partial.safetensors");
  ASSERT_OK_AND_ASSIGN(auto repo, ModelRepository::Scan({.root = root.path()}));
  EXPECT_THAT(Names(*repo), ElementsAre("org/m"));
  ASSERT_TRUE(repo->Find("org/m")->servable()) << repo->Find("org/m")->error;
  EXPECT_EQ(repo->Find("org/m")->files.size(), 1u);
}

TEST(ModelRepositoryTest, RevisionChangesWhenAFileIsReplaced) {
  TempDir root;
  WriteModel(root.path() + "/m", {{"x", DType::kU8, {4}}});
  ASSERT_OK_AND_ASSIGN(auto before, ModelRepository::Scan({.root = root.path()}));
  ASSERT_OK_AND_ASSIGN(auto again, ModelRepository::Scan({.root = root.path()}));
  EXPECT_EQ(before->Find("m")->revision, again->Find("m")->revision);
  WriteModel(root.path() + "/m", {{"x", DType::kU8, {4}}});  // New inode.
  ASSERT_OK_AND_ASSIGN(auto after, ModelRepository::Scan({.root = root.path()}));
  EXPECT_NE(before->Find("m")->revision, after->Find("m")->revision);
}

// Directories that vanish while the scan walks the tree (an `rm -rf`, a
// rename) never make a scan that returns OK miss a model that was there all
// along: the walk is retried, or the scan fails (and a live repository keeps
// its previous catalog).
TEST(ModelRepositoryTest, TreeChangingUnderTheScanNeverDropsAModelSilently) {
  TempDir root;
  constexpr int kModels = 24;
  for (int i = 0; i < kModels; ++i) {
    WriteModel(absl::StrCat(root.path(), "/stable", i), {{"w", DType::kU8, {4}}});
  }
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    for (uint64_t n = 0; !stop.load(); ++n) {
      const std::string dir = absl::StrCat(root.path(), "/churn", n % 64);
      std::error_code ec;
      std::filesystem::create_directories(dir + "/a/b", ec);
      std::filesystem::remove_all(dir, ec);
    }
  });
  int complete = 0, failed = 0;
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
        ModelRepository::Scan({.root = root.path()});
    if (!repo.ok()) {
      EXPECT_EQ(repo.status().code(), absl::StatusCode::kUnavailable)
          << repo.status();
      ++failed;
      continue;
    }
    if ((*repo)->models().size() != kModels) {
      ADD_FAILURE() << "scan " << i << " returned OK with "
                    << (*repo)->models().size() << " of the " << kModels
                    << " models";
      break;
    }
    ++complete;
  }
  stop = true;
  churn.join();
  EXPECT_GT(complete, 0) << failed << " scans failed";
}

}  // namespace
}  // namespace weightserver::server
