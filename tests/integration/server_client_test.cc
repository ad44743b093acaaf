// Copyright 2026 The Weightserver Authors.
//
// tests/integration/server_client_test.cc: a real server on 127.0.0.1:0 and
// the real client library, over sharded, single-file and broken models.
#include <filesystem>

#include "weightserver/client/client.h"
#include "weightserver/client/tensor_table.h"
#include "weightserver/client/output_file.h"
#include "format/header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/server.h"
#include "tests/testing/client_helpers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver {
namespace {

using format::DType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::FetchFile;
using ::weightserver::testing::HostBytes;
using ::weightserver::testing::LoadAll;
using ::weightserver::testing::ReadBytes;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::TensorBytes;

class ServerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto specs = weightserver::testing::SmallTransformer("model.", 1 << 20);
    std::vector<std::vector<format::TensorSpec>> shards(3);
    for (size_t i = 0; i < specs.size(); ++i) shards[i % 3].push_back(specs[i]);
    weightserver::testing::WriteShardedModel(repo_.path() + "/llama", shards);
    weightserver::testing::WriteModel(
        repo_.path() + "/org/single",
        {{"w", DType::kF32, {3, 5}}, {"s", DType::kI32, {}},
         {"z", DType::kF16, {0, 4}}, {"f4", DType::kF4, {2, 2}}});
    weightserver::testing::WriteBytes(repo_.path() + "/broken/model.safetensors",
                                      std::string("\x10\0\0\0\0\0\0\0{}", 10));
    StartServer();
  }

  void StartServer(server::ServerOptions options = {}) {
    options.repo = repo_.path();
    options.listen = "127.0.0.1:0";
    auto s = server::Server::Start(options);
    ASSERT_OK(s.status());
    server_ = *std::move(s);
    ASSERT_GT(server_->port(), 0);
    client::ClientOptions copts;
    copts.streams = 3;
    copts.split_bytes = 100000;  // Exercise splitting big tensors.
    copts.chunk_bytes = 64 << 10;
    auto c = client::Client::Connect(server_->address(), copts);
    ASSERT_OK(c.status());
    client_ = *std::move(c);
  }

  TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ServerClientTest, ListsEveryModelWithErrorsForBrokenOnes) {
  ASSERT_OK_AND_ASSIGN(auto models, client_->ListModels());
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0].name, "broken");
  EXPECT_THAT(models[0].error, HasSubstr("InvalidHeaderLength"));
  EXPECT_EQ(models[1].name, "llama");
  EXPECT_EQ(models[1].error, "");
  EXPECT_EQ(models[1].file_count, 3u);
  EXPECT_EQ(models[1].tensor_count, 14u);
  EXPECT_EQ(models[2].name, "org/single");
  EXPECT_EQ(models[2].total_tensor_bytes, 60u + 4u + 0u + 2u);
}

TEST_F(ServerClientTest, TableOfContentsMatchesTheFiles) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("org/single"));
  EXPECT_FALSE(toc.sharded);
  ASSERT_EQ(toc.files.size(), 1u);
  std::string file = ReadBytes(repo_.path() + "/org/single/model.safetensors");
  EXPECT_EQ(toc.files[0].size, file.size());
  ASSERT_TRUE(toc.files[0].metadata.has_value());
  EXPECT_EQ(toc.files[0].metadata->at("format"), "pt");
  ASSERT_OK_AND_ASSIGN(
      format::Header h,
      format::ParseFile(absl::MakeConstSpan(
                            reinterpret_cast<const std::byte*>(file.data()),
                            file.size()),
                        "x"));
  EXPECT_EQ(toc.files[0].header_size, h.header_size);
  ASSERT_EQ(toc.tensors.size(), 4u);
  for (const client::ModelTensor& t : toc.tensors) {
    const format::TensorInfo* src = h.Find(t.name);
    ASSERT_NE(src, nullptr) << t.name;
    EXPECT_EQ(t.offset, h.data_offset() + src->begin);
    EXPECT_EQ(t.length, src->size());
    EXPECT_EQ(file.substr(t.offset, t.length), TensorBytes(t.name, t.length));
  }
  ASSERT_OK_AND_ASSIGN(client::ModelInfo llama, client_->GetModel("llama"));
  EXPECT_TRUE(llama.sharded);
  EXPECT_THAT(llama.index_metadata_json, HasSubstr("total_size"));
}

TEST_F(ServerClientTest, GetModelErrors) {
  EXPECT_THAT(client_->GetModel("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->GetModel("broken"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("InvalidHeaderLength")));
  EXPECT_THAT(client_->GetModel(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ServerClientTest, LoadsWholeShardedModelVerified) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("llama"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable m, LoadAll(*client_, toc));
  ASSERT_EQ(m.tensors().size(), 14u);
  uint64_t total = 0;
  for (const client::TensorView& t : m.tensors()) {
    EXPECT_EQ(HostBytes(t), TensorBytes(t.name, t.size)) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 256, 0u);
    total += t.size;
  }
  EXPECT_EQ(m.total_bytes(), total);
  const client::TensorView* norm = m.Find("model.norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->dtype, "F32");
  EXPECT_EQ(m.Find("nope"), nullptr);
}

TEST_F(ServerClientTest, ProgressReachesTotalMonotonically) {
  std::vector<client::Progress> seen;
  client::ClientOptions o;
  o.streams = 2;
  o.split_bytes = 100000;  // Two streams on this small model.
  o.progress = [&](const client::Progress& p) { seen.push_back(p); };
  ASSERT_OK_AND_ASSIGN(auto c, client::Client::Connect(server_->address(), o));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("llama"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable m, LoadAll(*c, toc));
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GT(seen[i].done_bytes, seen[i - 1].done_bytes);
  }
  EXPECT_EQ(seen.back().done_bytes, m.total_bytes());
  EXPECT_EQ(seen.back().total_bytes, m.total_bytes());
}

TEST_F(ServerClientTest, FetchToFileAcrossShardsIsAValidFile) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("llama"));
  TempDir out;
  std::vector<std::string> names = {"model.lm_head.weight", "model.norm.weight",
                                    "model.position_ids"};
  std::string path = out.path() + "/sub.safetensors";
  ASSERT_OK(FetchFile(*client_, toc, names, path));
  std::string file = ReadBytes(path);
  ASSERT_OK_AND_ASSIGN(
      format::Header h,
      format::ParseFile(absl::MakeConstSpan(
                            reinterpret_cast<const std::byte*>(file.data()),
                            file.size()),
                        path));
  ASSERT_EQ(h.tensors.size(), 3u);
  for (const std::string& n : names) {
    const format::TensorInfo* t = h.Find(n);
    ASSERT_NE(t, nullptr) << n;
    EXPECT_EQ(file.substr(h.data_offset() + t->begin, t->size()),
              TensorBytes(n, t->size()));
  }
  ASSERT_TRUE(h.metadata.has_value());
  EXPECT_EQ(h.metadata->at("format"), "pt");
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(out.path()), {}), 1);
}

TEST_F(ServerClientTest, FetchToFileOfUnknownTensorWritesNothing) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("llama"));
  TempDir out;
  EXPECT_THAT(FetchFile(*client_, toc, {"model.norm.weight", "nope"},
                        out.path() + "/x.safetensors"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
  EXPECT_TRUE(std::filesystem::is_empty(out.path()));
}

TEST_F(ServerClientTest, MirrorReproducesTheModelFilesByteForByte) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("llama"));
  TempDir out;
  ASSERT_OK(client::MirrorModel(*client_, toc, out.path() + "/llama"));
  for (const client::ModelFile& f : toc.files) {
    EXPECT_EQ(ReadBytes(out.path() + "/llama/" + f.name),
              ReadBytes(repo_.path() + "/llama/" + f.name))
        << f.name;
  }
  auto mine = nlohmann::json::parse(
      ReadBytes(out.path() + "/llama/model.safetensors.index.json"));
  auto theirs = nlohmann::json::parse(
      ReadBytes(repo_.path() + "/llama/model.safetensors.index.json"));
  EXPECT_EQ(mine, theirs);
}

TEST_F(ServerClientTest, MirrorOfSingleFileModelHasNoIndex) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("org/single"));
  TempDir out;
  ASSERT_OK(client::MirrorModel(*client_, toc, out.path()));
  EXPECT_EQ(ReadBytes(out.path() + "/model.safetensors"),
            ReadBytes(repo_.path() + "/org/single/model.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(out.path() + "/model.safetensors.index.json"));
}

TEST_F(ServerClientTest, StaleRevisionIsRefused) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("org/single"));
  toc.revision = "0000000000000000";
  std::vector<std::byte> buf(60);
  EXPECT_THAT(client_->Fetch(toc, {{"w", absl::MakeSpan(buf), {}}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("changed")));
}

TEST_F(ServerClientTest, FileRewrittenUnderTheServerFailsOnlyItsModel) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo single, client_->GetModel("org/single"));
  std::string path = repo_.path() + "/org/single/model.safetensors";
  std::string bytes = ReadBytes(path);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::FILE* f = std::fopen(path.c_str(), "r+b");  // Same inode, in place.
    ASSERT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  std::vector<std::byte> buf(60);
  EXPECT_THAT(client_->Fetch(single, {{"w", absl::MakeSpan(buf), {}}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("modified in place")));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo llama, client_->GetModel("llama"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable m, LoadAll(*client_, llama));
  EXPECT_EQ(m.tensors().size(), 14u);
}

TEST_F(ServerClientTest, EmptyAndSubByteTensorsRoundTrip) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, client_->GetModel("org/single"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable m, LoadAll(*client_, toc));
  EXPECT_EQ(m.Find("z")->size, 0u);
  EXPECT_THAT(m.Find("z")->shape, ElementsAre(0u, 4u));
  EXPECT_EQ(HostBytes(*m.Find("f4")), TensorBytes("f4", 2));
  EXPECT_EQ(m.Find("s")->shape.size(), 0u);
}

TEST_F(ServerClientTest, ServesOverUnixSocket) {
  TempDir sock;
  server::ServerOptions o;
  o.repo = repo_.path();
  o.listen = "unix:" + sock.path() + "/ws.sock";
  ASSERT_OK_AND_ASSIGN(auto s, server::Server::Start(o));
  ASSERT_OK_AND_ASSIGN(auto c, client::Client::Connect(s->address()));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("org/single"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable m, LoadAll(*c, toc, {"w"}));
  EXPECT_EQ(HostBytes(*m.Find("w")), TensorBytes("w", 60));
}

TEST_F(ServerClientTest, UnreachableServerIsUnavailable) {
  client::ClientOptions o;
  o.unary_timeout = absl::Seconds(2);
  ASSERT_OK_AND_ASSIGN(auto c, client::Client::Connect("127.0.0.1:1", o));
  absl::Status s = c->ListModels().status();
  EXPECT_TRUE(s.code() == absl::StatusCode::kUnavailable ||
              s.code() == absl::StatusCode::kDeadlineExceeded)
      << s;
}

}  // namespace
}  // namespace weightserver
