// Copyright 2026 The Weightserver Authors.
//
// tests/server/auth_policy_test.cc
#include "server/auth_policy.h"

#include <chrono>
#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::server {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

// sha256("token-a"), sha256("token-b") (sha256sum).
const std::string kA = Sha256Hex("token-a");
const std::string kB = Sha256Hex("token-b");

std::string Who(const absl::StatusOr<std::string>& s) {
  return s.ok() ? *s : s.status().ToString();
}

std::string Policy() {
  return R"({"identities": [
    {"name": "a", "token_sha256": [")" + kA + R"("], "models": ["llama-*", "org/*"]},
    {"name": "b", "token_sha256": ")" + kB + R"(", "models": "*"},
    {"name": "ranks", "mtls": ["spiffe://cluster/ns/inference/*"], "models": ["org/m"]}]})";
}

TEST(AuthPolicyTest, Sha256HexIsTheStandardDigest) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuthPolicyTest, TokensAndCertificatesNameTheirIdentity) {
  ASSERT_OK_AND_ASSIGN(AuthPolicy p, AuthPolicy::Parse(Policy()));
  EXPECT_EQ(Who(p.Authenticate("token-a", {})), "a");
  EXPECT_EQ(Who(p.Authenticate("token-b", {"spiffe://cluster/ns/inference/x"})), "b");  // The token wins.
  EXPECT_EQ(Who(p.Authenticate("", {"worker", "spiffe://cluster/ns/inference/r0"})), "ranks");
  EXPECT_THAT(p.Authenticate("token-c", {}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("unknown")));
  EXPECT_THAT(p.Authenticate("", {}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("no credentials")));
  EXPECT_THAT(p.Authenticate("", {"spiffe://other/x"}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("spiffe://other/x")));
}

TEST(AuthPolicyTest, ModelsAreGlobs) {
  ASSERT_OK_AND_ASSIGN(AuthPolicy p, AuthPolicy::Parse(Policy()));
  EXPECT_TRUE(p.MayRead("a", "llama-3-8b"));
  EXPECT_TRUE(p.MayRead("a", "org/m"));
  EXPECT_TRUE(p.MayRead("a", "org/deep/m"));  // '*' spans '/'.
  EXPECT_FALSE(p.MayRead("a", "mistral"));
  EXPECT_TRUE(p.MayRead("b", "anything/at/all"));
  EXPECT_TRUE(p.MayRead("ranks", "org/m"));
  EXPECT_FALSE(p.MayRead("ranks", "org/n"));
  EXPECT_FALSE(p.MayRead("nobody", "org/m"));
}

TEST(AuthPolicyTest, BadPoliciesSayWhatIsWrong) {
  auto err = [](const std::string& json) {
    return AuthPolicy::Parse(json).status();
  };
  EXPECT_THAT(err("nope"), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("not a JSON object")));
  EXPECT_THAT(err("{}"), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("\"identities\" must be a list")));
  EXPECT_THAT(err(R"({"identities": [{"token_sha256": "x"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"name\"")));
  EXPECT_THAT(err(R"({"identities": [{"name": "a", "token_sha256": "abc"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("64 hex digits")));
  EXPECT_THAT(err(R"({"identities": [{"name": "a", "models": ["*"]}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs \"token_sha256\" or \"mtls\"")));
  EXPECT_THAT(err(R"({"identities": [{"name": "a", "mtls": "x", "model": "*"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown field \"model\"")));
  EXPECT_THAT(err(R"({"identities": [{"name": "a", "mtls": "x"}, {"name": "a", "mtls": "y"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  EXPECT_THAT(err(R"({"identities": [{"name": "a", "token_sha256": [")" + kA +
                  R"("]}, {"name": "b", "token_sha256": [")" + kA + R"("]}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("digest used twice")));
}

TEST(AuthPolicyWatcherTest, ReloadsAChangedFileAndKeepsTheLastGoodOne) {
  weightserver::testing::TempDir dir;
  const std::string path = dir.path() + "/auth.json";
  std::ofstream(path) << Policy();
  ASSERT_OK_AND_ASSIGN(auto w, AuthPolicyWatcher::Start(path, absl::Milliseconds(20)));
  EXPECT_TRUE(w->Current()->MayRead("a", "llama-x"));
  // Revoke a: only b remains.
  std::ofstream(dir.path() + "/next.json")
      << R"({"identities": [{"name": "b", "token_sha256": [")" + kB +
             R"("], "models": "*"}]})";
  std::rename((dir.path() + "/next.json").c_str(), path.c_str());
  for (int i = 0; i < 250 && w->reloads() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(w->reloads(), 1u);
  EXPECT_THAT(w->Current()->Authenticate("token-a", {}),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // A broken file: the policy in force stays.
  std::ofstream(dir.path() + "/bad.json") << "{broken";
  std::rename((dir.path() + "/bad.json").c_str(), path.c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(w->reloads(), 1u);
  EXPECT_EQ(Who(w->Current()->Authenticate("token-b", {})), "b");
}

TEST(AuthPolicyWatcherTest, ABadFileAtStartIsAnErrorNamingIt) {
  weightserver::testing::TempDir dir;
  const std::string path = dir.path() + "/auth.json";
  std::ofstream(path) << "[]";
  EXPECT_THAT(AuthPolicyWatcher::Start(path).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path)));
  EXPECT_THAT(AuthPolicyWatcher::Start(dir.path() + "/none.json").status(),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace weightserver::server
