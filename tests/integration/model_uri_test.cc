// Copyright 2026 The Weightserver Authors.
//
// tests/integration/model_uri_test.cc: model URIs against a real server on
// 127.0.0.1:0: weightctl takes one in place of MODEL (it names the server,
// overriding --server), a matching @REVISION loads, another one is
// FAILED_PRECONDITION, a malformed URI is a usage error.
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/client/client.h"
#include "weightserver/client/uri.h"

namespace weightserver {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::TempDir;

class ModelUriTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(repo_.path() + "/org/m",
                                      {{"w", format::DType::kF32, {4, 4}}});
    server::ServerOptions options;
    options.repo = repo_.path();
    options.listen = "127.0.0.1:0";
    ASSERT_OK_AND_ASSIGN(server_, server::Server::Start(options));
    ASSERT_OK_AND_ASSIGN(auto c, client::Client::Connect(server_->address()));
    ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("org/m"));
    revision_ = toc.revision;
  }

  std::string Uri(absl::string_view suffix = "") const {
    return absl::StrCat("weightserver://", server_->address(), "/org/m", suffix);
  }

  int Ctl(const std::vector<std::string>& args) {
    std::ostringstream o, e;
    int rc = cli::RunWeightctl(args, cli::CliEnvironment{}, o, e);
    out_ = o.str();
    err_ = e.str();
    return rc;
  }

  TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::string revision_;
  std::string out_, err_;
};

TEST_F(ModelUriTest, WeightctlTakesAUriThatOverridesServer) {
  // --server points nowhere; the URI names the real one.
  ASSERT_EQ(Ctl({"--server", "127.0.0.1:1", "inspect", Uri()}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("w"));
  ASSERT_EQ(Ctl({"load", Uri("@" + revision_)}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("loaded 1 tensor, 64 B"));
}

TEST_F(ModelUriTest, AnotherRevisionIsFailedPrecondition) {
  EXPECT_EQ(Ctl({"load", Uri("@0123abcd")}), 1);
  EXPECT_THAT(err_, HasSubstr("is at revision " + revision_));
  EXPECT_THAT(err_, HasSubstr("not the 0123abcd asked for"));

  ASSERT_OK_AND_ASSIGN(auto c, client::Client::Connect(server_->address()));
  EXPECT_EQ(c->GetModel("org/m", "0123abcd").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_OK(c->GetModel("org/m", revision_).status());
  EXPECT_OK(c->GetModel("org/m", "").status());
}

TEST_F(ModelUriTest, MalformedUriIsAUsageError) {
  EXPECT_EQ(Ctl({"inspect", "weightserver://host:99999/org/m"}), 2);
  EXPECT_THAT(err_, HasSubstr("PORT is outside 1-65535"));
  EXPECT_EQ(err_.find('\n'), err_.size() - 1) << "one line: " << err_;
}

}  // namespace
}  // namespace weightserver
