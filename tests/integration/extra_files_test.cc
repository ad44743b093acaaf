// Copyright 2026 The Weightserver Authors.
//
// tests/integration/extra_files_test.cc: a model's non-weight files
// (config.json, tokenizer files, ...) through GetModel and ReadFile, on a
// real server on 127.0.0.1:0: what is listed and what is not, exact bytes
// over several chunks, files changed after the scan, hostile names, and the
// directory an engine gets from DownloadExtraFiles / MirrorModel.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/client/client.h"
#include "weightserver/client/output_file.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver {
namespace {

using format::DType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::weightserver::testing::ReadBytes;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> Names(const client::ModelInfo& m) {
  std::vector<std::string> names;
  for (const auto& f : m.extra_files) names.push_back(f.name);
  return names;
}

class ExtraFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string m = repo_.path() + "/org/llama";
    weightserver::testing::WriteModel(m,
                                      {{"w", DType::kF32, {4, 4}}});
    WriteBytes(m + "/config.json", R"({"model_type":"llama"})");
    tokenizer_ = RandomBytes(300 << 10, 7);  // Several 64 KiB chunks.
    WriteBytes(m + "/tokenizer.json", tokenizer_);
    WriteBytes(m + "/empty.txt", "");
    WriteBytes(m + "/notes.txt", std::string(5000, 'x'));
    WriteBytes(m + "/huge.txt", std::string(400 << 10, 'x'));  // Over the cap.
    WriteBytes(m + "/.hidden", "secret");
    WriteBytes(m + "/pytorch_model.bin", "weights in another format");
    WriteBytes(m + "/pytorch_model.bin.index.json", "{}");
    WriteBytes(m + "/sub/nested.json", "{}");
    WriteBytes(outside_.path() + "/passwd", "root:x:0:0");
    ASSERT_EQ(symlink((outside_.path() + "/passwd").c_str(),
                      (m + "/escape.json").c_str()),
              0);
    WriteBytes(repo_.path() + "/shared/chat_template.jinja", "{{ messages }}");
    ASSERT_EQ(symlink((repo_.path() + "/shared/chat_template.jinja").c_str(),
                      (m + "/chat_template.jinja").c_str()),
              0);
    StartServer();
  }

  void StartServer() {
    server::ServerOptions options;
    options.repo = repo_.path();
    options.listen = "127.0.0.1:0";
    options.max_extra_file_bytes = 4096 + (300 << 10);
    options.service.limits.min_chunk_bytes = 64 << 10;
    auto s = server::Server::Start(options);
    ASSERT_OK(s.status());
    server_ = *std::move(s);
    client::ClientOptions copts;
    copts.chunk_bytes = 64 << 10;
    auto c = client::Client::Connect(server_->address(), copts);
    ASSERT_OK(c.status());
    client_ = *std::move(c);
  }

  TempDir repo_;
  TempDir outside_;
  std::string tokenizer_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ExtraFilesTest, GetModelListsThePlainSmallFilesOnly) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  // Not listed: hidden, other weight formats and their index, a
  // subdirectory, a symlink out of the repository, huge.txt (400 KiB, over
  // the cap of 4096 + 300 KiB). The symlink inside the repository is
  // followed.
  EXPECT_THAT(Names(m), ElementsAre("chat_template.jinja", "config.json",
                                    "empty.txt", "notes.txt",
                                    "tokenizer.json"));
  EXPECT_EQ(m.extra_files[4].size, tokenizer_.size());
  EXPECT_EQ(m.extra_files[2].size, 0u);
  // The shared chat template is also a model of its own? No: it holds no
  // *.safetensors, so it is not.
  ASSERT_OK_AND_ASSIGN(auto models, client_->ListModels());
  EXPECT_THAT(models, SizeIs(1));
}

TEST_F(ExtraFilesTest, ReadFileGivesTheExactBytesOverSeveralChunks) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  ASSERT_OK_AND_ASSIGN(std::string tok, client_->ReadFile(m, "tokenizer.json"));
  EXPECT_TRUE(tok == tokenizer_);
  ASSERT_OK_AND_ASSIGN(std::string cfg, client_->ReadFile(m, "config.json"));
  EXPECT_EQ(cfg, R"({"model_type":"llama"})");
  ASSERT_OK_AND_ASSIGN(std::string empty, client_->ReadFile(m, "empty.txt"));
  EXPECT_EQ(empty, "");
  ASSERT_OK_AND_ASSIGN(std::string tmpl,
                       client_->ReadFile(m, "chat_template.jinja"));
  EXPECT_EQ(tmpl, "{{ messages }}");
  EXPECT_GE(server_->service().bytes_sent(), tokenizer_.size());
  // Every stream ends (OnDone may run just after the client saw the end).
  for (int i = 0; i < 250 && server_->service().active_streams() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server_->service().active_streams(), 0);
}

TEST_F(ExtraFilesTest, AClientListingAHugeSizeIsRefusedBeforeAnyAllocation) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  for (auto& f : m.extra_files) {
    if (f.name == "config.json") f.size = ~uint64_t{0};
  }
  EXPECT_THAT(client_->ReadFile(m, "config.json"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("max_receive_bytes")));
}

// A client that stops reading a ReadFile stream loses it after
// --stall_timeout, as a Fetch stream: it would otherwise hold one of the
// max_streams slots for good.
TEST(ExtraFilesStallTest, AClientThatStopsReadingIsCancelled) {
  TempDir repo;
  weightserver::testing::WriteModel(repo.path() + "/m", {{"w", DType::kF32, {4}}});
  WriteBytes(repo.path() + "/m/tokenizer.json", RandomBytes(48 << 20, 3));
  server::ServerOptions options;
  options.repo = repo.path();
  options.listen = "127.0.0.1:0";
  options.service.stall_timeout = absl::Seconds(1);
  ASSERT_OK_AND_ASSIGN(auto server, server::Server::Start(options));
  auto stub = v1::WeightService::NewStub(grpc::CreateChannel(
      server->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::ReadFileRequest r;
  r.set_model("m");
  r.set_name("tokenizer.json");
  auto reader = stub->ReadFile(&ctx, r);
  v1::Chunk c;
  ASSERT_TRUE(reader->Read(&c));  // Then read nothing for a while.
  for (int i = 0; i < 500 && server->service().stalled_streams() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server->service().stalled_streams(), 1u);
  for (int i = 0; i < 250 && server->service().active_streams() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server->service().active_streams(), 0);
  while (reader->Read(&c)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ExtraFilesTest, FilesNotListedAreNotFound) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  for (const std::string name :
       {"escape.json", ".hidden", "pytorch_model.bin", "sub/nested.json",
        "../org/llama/config.json", "model.safetensors"}) {
    // The client refuses names the table does not list; so does the server
    // when asked anyway (a table edited by the caller).
    EXPECT_THAT(client_->ReadFile(m, name),
                StatusIs(absl::StatusCode::kNotFound)) << name;
    client::ModelInfo forged = m;
    forged.extra_files.push_back({name, 10});
    EXPECT_THAT(client_->ReadFile(forged, name),
                StatusIs(absl::StatusCode::kNotFound,
                         HasSubstr("no extra file")))
        << name;
  }
}

TEST_F(ExtraFilesTest, AHugeNameIsCutInTheErrorMessage) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  const std::string huge(20000, 'n');
  m.extra_files.push_back({huge, 1});
  absl::StatusOr<std::string> got = client_->ReadFile(m, huge);
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kNotFound,
                            HasSubstr("...(20000 bytes)")));
  EXPECT_LT(got.status().message().size(), 1200u);
}

TEST_F(ExtraFilesTest, AFileChangedAfterTheScanIsRefusedNotMixed) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteBytes(repo_.path() + "/org/llama/config.json", R"({"model_type":"gpt2"})");
  EXPECT_THAT(client_->ReadFile(m, "config.json"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("changed since the model was scanned")));
  // Replaced by rename, and removed: the same.
  WriteBytes(repo_.path() + "/org/llama/tmp", "x");
  std::filesystem::rename(repo_.path() + "/org/llama/tmp",
                          repo_.path() + "/org/llama/empty.txt");
  EXPECT_THAT(client_->ReadFile(m, "empty.txt"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  std::filesystem::remove(repo_.path() + "/org/llama/tokenizer.json");
  EXPECT_THAT(client_->ReadFile(m, "tokenizer.json"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ExtraFilesTest, ARevisionPinIsChecked) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  m.revision = "0000000000000000";
  EXPECT_THAT(client_->ReadFile(m, "config.json"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("requested revision")));
}

TEST_F(ExtraFilesTest, TheRevisionCoversTheExtraFiles) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo before, client_->GetModel("org/llama"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteBytes(repo_.path() + "/org/llama/config.json", R"({"model_type":"x"})");
  server_.reset();
  StartServer();
  ASSERT_OK_AND_ASSIGN(client::ModelInfo after, client_->GetModel("org/llama"));
  EXPECT_NE(before.revision, after.revision);
}

TEST_F(ExtraFilesTest, DownloadAndMirrorWriteAnEngineReadyDirectory) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  TempDir out;
  ASSERT_OK(client_->DownloadExtraFiles(m, out.path() + "/cfg"));
  EXPECT_EQ(ReadBytes(out.path() + "/cfg/config.json"), R"({"model_type":"llama"})");
  EXPECT_TRUE(ReadBytes(out.path() + "/cfg/tokenizer.json") == tokenizer_);
  EXPECT_EQ(ReadBytes(out.path() + "/cfg/empty.txt"), "");
  EXPECT_FALSE(std::filesystem::exists(out.path() + "/cfg/model.safetensors"));
  std::vector<std::string> written;
  for (const auto& e : std::filesystem::directory_iterator(out.path() + "/cfg")) {
    written.push_back(e.path().filename().string());
  }
  EXPECT_THAT(written, SizeIs(5));  // No temporary file left behind.

  ASSERT_OK(client::MirrorModel(*client_, m, out.path() + "/mirror"));
  EXPECT_EQ(ReadBytes(out.path() + "/mirror/config.json"), R"({"model_type":"llama"})");
  EXPECT_TRUE(std::filesystem::exists(out.path() + "/mirror/model.safetensors"));
}

TEST_F(ExtraFilesTest, AServerListingAPathIsNotFollowedOutOfTheDirectory) {
  ASSERT_OK_AND_ASSIGN(client::ModelInfo m, client_->GetModel("org/llama"));
  TempDir out;
  for (const std::string bad : {"../evil", "a/b", ".profile", "..", ""}) {
    client::ModelInfo forged = m;
    forged.extra_files.push_back({bad, 1});
    EXPECT_THAT(client_->DownloadExtraFiles(forged, out.path() + "/d"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("not a plain file name")))
        << bad;
  }
  EXPECT_FALSE(std::filesystem::exists(out.path() + "/evil"));
  EXPECT_FALSE(std::filesystem::exists(out.path() + "/d/config.json"));
}

}  // namespace
}  // namespace weightserver
