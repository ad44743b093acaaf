// Copyright 2026 The Weightserver Authors.
//
// tests/integration/read_bytes_test.cc: Client::ReadBytes against a real
// server: the exact bytes of a .safetensors file, header included, over many
// chunks and broken connections; the errors of a wrong request.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/dropping_proxy.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/client/client.h"

namespace weightserver {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;

class ReadBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(
        repo_.path() + "/m", weightserver::testing::SmallTransformer("x.", 3 << 20));
    path_ = repo_.path() + "/m/model.safetensors";
    bytes_ = weightserver::testing::ReadBytes(path_);
    server::ServerOptions options;
    options.repo = repo_.path();
    options.listen = "127.0.0.1:0";
    ASSERT_OK_AND_ASSIGN(server_, server::Server::Start(options));
  }

  std::unique_ptr<client::Client> Connect(const std::string& address) {
    client::ClientOptions o;
    o.chunk_bytes = 64 << 10;
    auto c = client::Client::Connect(address, o);
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }

  std::string Read(const client::Client& c, const client::ModelInfo& toc,
                   uint64_t offset, uint64_t n, absl::Status* status) {
    std::string out(n, '\0');
    *status = c.ReadBytes(toc, "model.safetensors", offset,
                          absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), n));
    return out;
  }

  TempDir repo_;
  std::string path_;
  std::string bytes_;
  std::unique_ptr<server::Server> server_;
};

TEST_F(ReadBytesTest, TheWholeFileAndAnyRangeOfItExactly) {
  auto c = Connect(server_->address());
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));
  absl::Status s;
  EXPECT_EQ(Read(*c, toc, 0, bytes_.size(), &s), bytes_);
  ASSERT_OK(s);
  EXPECT_EQ(Read(*c, toc, 5, 100'000, &s), bytes_.substr(5, 100'000));
  ASSERT_OK(s);
  EXPECT_EQ(Read(*c, toc, bytes_.size() - 7, 7, &s), bytes_.substr(bytes_.size() - 7));
  ASSERT_OK(s);
  Read(*c, toc, 0, 0, &s);  // Nothing asked: nothing sent.
  EXPECT_OK(s);
}

TEST_F(ReadBytesTest, ResumesFromTheLastVerifiedByteWhenTheLinkBreaks) {
  weightserver::testing::DroppingProxy proxy(server_->address(), 250'000);
  auto c = Connect(proxy.address());
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));
  absl::Status s;
  EXPECT_EQ(Read(*c, toc, 0, bytes_.size(), &s), bytes_);
  ASSERT_OK(s);
  EXPECT_GE(proxy.drops(), 3);
}

TEST_F(ReadBytesTest, AWrongRequestGetsAClearStatus) {
  auto c = Connect(server_->address());
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));
  std::string buf(16, '\0');
  auto span = absl::MakeSpan(reinterpret_cast<std::byte*>(buf.data()), buf.size());
  EXPECT_THAT(c->ReadBytes(toc, "config.json", 0, span),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("lists no file")));
  EXPECT_THAT(c->ReadBytes(toc, "model.safetensors", bytes_.size() - 8, span),
              StatusIs(absl::StatusCode::kOutOfRange));
  // A table of contents that claims more than the server has: the server
  // says OUT_OF_RANGE (the client does not retry it).
  client::ModelInfo lying = toc;
  lying.files[0].size += 100;
  EXPECT_THAT(c->ReadBytes(lying, "model.safetensors", bytes_.size() - 4, span),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("the file has")));
  // Pinned to the revision read: a replaced model is FAILED_PRECONDITION.
  client::ModelInfo stale = toc;
  stale.revision = "0123456789abcdef";
  EXPECT_THAT(c->ReadBytes(stale, "model.safetensors", 0, span),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("changed")));
}

}  // namespace
}  // namespace weightserver
