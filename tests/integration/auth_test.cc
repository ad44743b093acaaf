// Copyright 2026 The Weightserver Authors.
//
// tests/integration/auth_test.cc: the access policy (--auth_file) on a real
// server: bearer tokens and mutual-TLS identities, per-model access, reload,
// hostile metadata, and the client's and weightctl's token options.
#include <grpcpp/create_channel.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_replace.h"
#include "cli/commands.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/auth_policy.h"
#include "server/server.h"
#include "tests/testing/client_helpers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "tests/testing/test_pki.h"
#include "weightserver/client/client.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver {
namespace {

using format::DType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

// a: the a-* models; b: every model; the client certificate: b-model only.
std::string PolicyJson(bool with_a = true) {
  std::string ids;
  if (with_a) {
    ids += R"({"name": "a", "token_sha256": [")" +
           server::Sha256Hex("token-a") + R"("], "models": ["a-*"]},)";
  }
  ids += R"({"name": "b", "token_sha256": [")" + server::Sha256Hex("token-b") +
         R"("], "models": ["*"]},)";
  ids += R"({"name": "cert", "mtls": ["spiffe://weightserver.test/client"],
             "models": ["b-model"]})";
  return R"({"identities": [)" + ids + "]}";
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(repo_.path() + "/a-model",
                                      {{"w", DType::kU8, {1 << 20}}});
    weightserver::testing::WriteModel(repo_.path() + "/b-model",
                                      {{"w", DType::kU8, {1 << 20}}});
    WritePolicy(PolicyJson());
  }

  void WritePolicy(const std::string& json) {
    const std::string next = dir_.path() + "/auth.json.next";
    std::ofstream(next) << json;
    std::rename(next.c_str(), policy_.c_str());
  }

  void StartServer(server::TlsOptions tls = {}) {
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.service.auth_file = policy_;
    o.service.auth_reload_interval = absl::Milliseconds(50);
    o.tls = std::move(tls);
    auto s = server::Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  absl::StatusOr<std::unique_ptr<client::Client>> Connect(
      const std::string& token, client::ClientOptions o = {}) const {
    o.token = token;
    o.max_attempts = 1;
    return client::Client::Connect(server_->address(), std::move(o));
  }

  // The models `token`'s ListModels shows, or its status.
  absl::StatusOr<std::vector<std::string>> Listed(const std::string& token) const {
    auto c = Connect(token);
    if (!c.ok()) return c.status();
    auto models = (*c)->ListModels();
    if (!models.ok()) return models.status();
    std::vector<std::string> names;
    for (const auto& m : *models) names.push_back(m.name);
    return names;
  }

  // Loads model `name` whole with `token`: its status.
  absl::Status Load(const std::string& token, const std::string& name,
                    client::ClientOptions o = {}) const {
    auto c = Connect(token, std::move(o));
    if (!c.ok()) return c.status();
    auto toc = (*c)->GetModel(name);
    if (!toc.ok()) return toc.status();
    return weightserver::testing::LoadAll(**c, *toc).status();
  }

  // A raw Fetch of "w" of `model` with `metadata` headers.
  grpc::Status RawFetch(const std::string& model,
                        const std::vector<std::pair<std::string, std::string>>&
                            metadata) const {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    auto stub = v1::WeightService::NewStub(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args));
    grpc::ClientContext ctx;
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    v1::FetchRequest r;
    r.set_model(model);
    r.add_tensors()->set_name("w");
    auto reader = stub->Fetch(&ctx, r);
    v1::Chunk c;
    while (reader->Read(&c)) {
    }
    return reader->Finish();
  }

  weightserver::testing::TempDir dir_;
  weightserver::testing::TempDir repo_;
  const std::string policy_ = dir_.path() + "/auth.json";
  std::unique_ptr<server::Server> server_;
};

TEST_F(AuthTest, NoOrAWrongTokenIsUnauthenticatedAndHealthStaysOpen) {
  StartServer();
  EXPECT_THAT(Listed(""), StatusIs(absl::StatusCode::kUnauthenticated,
                                   HasSubstr("no credentials")));
  EXPECT_THAT(Listed("token-x"), StatusIs(absl::StatusCode::kUnauthenticated,
                                          HasSubstr("unknown bearer token")));
  EXPECT_THAT(Load("", "a-model"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(RawFetch("a-model", {}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Probes need no credentials.
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      server_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&ctx, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_GE(server_->service().unauthenticated_calls(), 4u);
}

// A model the caller may not read answers exactly like one that does not
// exist, and is not listed.
TEST_F(AuthTest, ATokenForOneModelCannotSeeOrReadAnother) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> a, Listed("token-a"));
  EXPECT_THAT(a, ElementsAre("a-model"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> b, Listed("token-b"));
  EXPECT_THAT(b, ElementsAre("a-model", "b-model"));
  EXPECT_OK(Load("token-a", "a-model"));
  const absl::Status denied = Load("token-a", "b-model");
  const absl::Status absent = Load("token-a", "c-model");
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(std::string(denied.message()),
            absl::StrReplaceAll(absent.message(), {{"c-model", "b-model"}}));
  EXPECT_EQ(RawFetch("b-model", {{"authorization", "Bearer token-a"}}).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_OK(Load("token-b", "b-model"));
  EXPECT_GE(server_->service().denied_calls(), 2u);
}

TEST_F(AuthTest, ATokenRemovedFromThePolicyIsRefusedAfterTheReload) {
  StartServer();
  EXPECT_OK(Load("token-a", "a-model"));
  WritePolicy(PolicyJson(/*with_a=*/false));
  absl::Status s;
  for (int i = 0; i < 100; ++i) {
    s = Load("token-a", "a-model");
    if (!s.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_OK(Load("token-b", "a-model"));
  EXPECT_GE(server_->service().auth()->reloads(), 1u);
}

TEST_F(AuthTest, AClientCertificateIsAnIdentity) {
  weightserver::testing::TempDir pki;
  ASSERT_OK(weightserver::testing::MakeTestPki(pki.path()));
  server::TlsOptions tls;
  tls.cert_file = pki.path() + "/server.pem";
  tls.key_file = pki.path() + "/server.key";
  tls.client_ca_file = pki.path() + "/ca.pem";
  StartServer(tls);
  client::ClientOptions o;
  o.tls = true;
  o.tls_ca_file = pki.path() + "/ca.pem";
  o.tls_cert_file = pki.path() + "/client.pem";
  o.tls_key_file = pki.path() + "/client.key";
  EXPECT_OK(Load("", "b-model", o));
  EXPECT_THAT(Load("", "a-model", o), StatusIs(absl::StatusCode::kNotFound));
  // A token on top names its own identity.
  EXPECT_OK(Load("token-a", "a-model", o));
}

TEST_F(AuthTest, TheClientRefusesToSendATokenInClearTextToARemoteServer) {
  client::ClientOptions o;
  o.token = "token-a";
  EXPECT_THAT(client::Client::Connect("10.1.2.3:50051", o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("refusing to send a token in clear text")));
  EXPECT_THAT(client::Client::Connect("dns:///weights.example.com:50051", o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(client::Client::Connect("127.0.0.1:50051", o).status());
  EXPECT_OK(client::Client::Connect("unix:/tmp/ws.sock", o).status());
  o.allow_insecure_token = true;
  EXPECT_OK(client::Client::Connect("10.1.2.3:50051", o).status());
  o.tls = true;
  o.allow_insecure_token = false;
  EXPECT_OK(client::Client::Connect("10.1.2.3:50051", o).status());
}

// Hostile metadata gets a clear status, and the daemon serves on.
TEST_F(AuthTest, HostileAuthorizationHeadersAreRefused) {
  StartServer();
  EXPECT_EQ(RawFetch("a-model", {{"authorization", "Bearer token-a"},
                                 {"authorization", "Bearer token-b"}})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RawFetch("a-model", {{"authorization", "Basic dXNlcjpwYXNz"}})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RawFetch("a-model", {{"authorization", "Bearer " + std::string(6000, 'x')}})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Beyond gRPC's metadata limit (8 KiB by default): refused by gRPC.
  EXPECT_NE(RawFetch("a-model", {{"authorization", "Bearer " + std::string(100000, 'x')}})
                .error_code(),
            grpc::StatusCode::OK);
  // Several hundred KB: still refused, by gRPC, with the connection intact.
  const grpc::Status huge =
      RawFetch("a-model", {{"authorization", "Bearer " + std::string(512 << 10, 'x')}});
  EXPECT_NE(huge.error_code(), grpc::StatusCode::OK);
  EXPECT_FALSE(huge.error_message().empty());
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 200; ++i) many.push_back({"authorization", "Bearer token-a"});
  EXPECT_NE(RawFetch("a-model", many).error_code(), grpc::StatusCode::OK);
  EXPECT_OK(Load("token-a", "a-model"));
}

TEST_F(AuthTest, WeightctlTakesTheTokenFromAFileOrTheEnvironment) {
  StartServer();
  const std::string token_file = dir_.path() + "/token";
  std::ofstream(token_file) << "token-a\n";
  auto run = [&](std::vector<std::string> args, const cli::CliEnvironment& env,
                 std::string* out) {
    std::vector<std::string> all = {"--server", server_->address()};
    all.insert(all.end(), args.begin(), args.end());
    std::ostringstream o, e;
    const int rc = cli::RunWeightctl(all, env, o, e);
    *out = o.str() + e.str();
    return rc;
  };
  std::string out;
  EXPECT_EQ(run({"--token-file", token_file, "ls"}, {}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("a-model"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("b-model")));
  cli::CliEnvironment env;
  env.default_token = "token-b";
  EXPECT_EQ(run({"load", "b-model"}, env, &out), 0) << out;
  EXPECT_NE(run({"ls"}, {}, &out), 0);
  EXPECT_THAT(out, HasSubstr("no credentials"));
}

}  // namespace
}  // namespace weightserver
