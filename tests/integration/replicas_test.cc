// Copyright 2026 The Weightserver Authors.
//
// tests/integration/replicas_test.cc: two servers on 127.0.0.1:0 with the
// same repository behind one client target ("ipv4:127.0.0.1:p1,127.0.0.1:p2",
// as a headless Kubernetes Service resolves): the client's round_robin policy
// spreads the streams of one load over both, and the bytes are right.
// Also `weightctl health` against a live server.
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
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
using ::testing::StartsWith;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::TensorBytes;

std::unique_ptr<server::Server> StartServer(const std::string& repo) {
  server::ServerOptions options;
  options.repo = repo;
  options.listen = "127.0.0.1:0";
  auto s = server::Server::Start(options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

void ExpectRightBytes(const client::TensorTable& m, size_t tensors) {
  ASSERT_EQ(m.tensors().size(), tensors);
  for (const client::TensorView& t : m.tensors()) {
    EXPECT_EQ(weightserver::testing::HostBytes(t), TensorBytes(t.name, t.size)) << t.name;
  }
}

TEST(ReplicasTest, StreamsOfOneLoadSpreadOverTwoServers) {
  TempDir repo;
  weightserver::testing::WriteModel(
      repo.path() + "/m", weightserver::testing::SmallTransformer("model.", 4 << 20));
  std::unique_ptr<server::Server> a = StartServer(repo.path());
  std::unique_ptr<server::Server> b = StartServer(repo.path());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string target = absl::StrCat("ipv4:127.0.0.1:", a->port(),
                                          ",127.0.0.1:", b->port());
  client::ClientOptions options;
  options.streams = 4;
  options.split_bytes = 256 << 10;
  options.chunk_bytes = 64 << 10;
  ASSERT_OK_AND_ASSIGN(auto c, client::Client::Connect(target, options));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));

  // The first load also brings both subchannels up (round_robin only picks
  // READY ones, so the very first calls may all land on one server).
  {
    ASSERT_OK_AND_ASSIGN(client::TensorTable m, weightserver::testing::LoadAll(*c, toc));
    ExpectRightBytes(m, toc.tensors.size());
  }
  const uint64_t a0 = a->service().streams_served();
  const uint64_t b0 = b->service().streams_served();
  ASSERT_OK_AND_ASSIGN(client::TensorTable m, weightserver::testing::LoadAll(*c, toc));
  ExpectRightBytes(m, toc.tensors.size());
  const uint64_t da = a->service().streams_served() - a0;
  const uint64_t db = b->service().streams_served() - b0;
  EXPECT_EQ(da + db, 4u);
  EXPECT_GE(da, 1u) << "server A served no stream of the load";
  EXPECT_GE(db, 1u) << "server B served no stream of the load";
}

TEST(ReplicasTest, OneReplicaDownStillLoads) {
  TempDir repo;
  weightserver::testing::WriteModel(
      repo.path() + "/m", weightserver::testing::SmallTransformer("model.", 1 << 20));
  std::unique_ptr<server::Server> a = StartServer(repo.path());
  std::unique_ptr<server::Server> b = StartServer(repo.path());
  ASSERT_NE(b, nullptr);
  const int dead_port = b->port();
  b.reset();  // Nothing listens there any more.
  client::ClientOptions options;
  options.streams = 4;
  options.split_bytes = 128 << 10;
  ASSERT_OK_AND_ASSIGN(
      auto c, client::Client::Connect(
                  absl::StrCat("ipv4:127.0.0.1:", dead_port, ",127.0.0.1:",
                               a->port()),
                  options));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable m, weightserver::testing::LoadAll(*c, toc));
  ExpectRightBytes(m, toc.tensors.size());
}

// weightctl health, in-process, against a live server.
int Health(const std::vector<std::string>& args, std::string* out,
           std::string* err) {
  std::ostringstream o, e;
  int rc = cli::RunWeightctl(args, cli::CliEnvironment{}, o, e);
  *out = o.str();
  *err = e.str();
  return rc;
}

TEST(HealthCommandTest, ServingServerAndItsServiceExitZero) {
  TempDir repo;
  weightserver::testing::WriteModel(repo.path() + "/m",
                                    {{"w", format::DType::kF32, {2, 2}}});
  std::unique_ptr<server::Server> s = StartServer(repo.path());
  ASSERT_NE(s, nullptr);
  std::string out, err;
  EXPECT_EQ(Health({"--server", s->address(), "health"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "SERVING\n");
  EXPECT_EQ(Health({"--server", s->address(), "health", "--service",
                    "weightserver.v1.WeightService", "--timeout", "2s"},
                   &out, &err),
            0)
      << err;
  EXPECT_EQ(out, "SERVING\n");
}

TEST(HealthCommandTest, UnknownServiceAndNoServerExitOneWithOneLine) {
  TempDir repo;
  std::unique_ptr<server::Server> s = StartServer(repo.path());
  ASSERT_NE(s, nullptr);
  std::string out, err;
  EXPECT_EQ(Health({"--server", s->address(), "health", "--service", "nope"},
                   &out, &err),
            1);
  EXPECT_THAT(err, StartsWith("weightctl: health of "));
  EXPECT_THAT(err, HasSubstr("SERVICE_UNKNOWN"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);

  const std::string gone = s->address();
  s.reset();
  EXPECT_EQ(Health({"--server", gone, "health", "--timeout", "0.5"}, &out, &err),
            1);
  EXPECT_EQ(out, "");
  EXPECT_THAT(err, HasSubstr("health of " + gone));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);

  EXPECT_EQ(Health({"--server", gone, "health", "--timeout", "soon"}, &out,
                   &err),
            2);
}

}  // namespace
}  // namespace weightserver
