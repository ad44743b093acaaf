// Copyright 2026 The Weightserver Authors.
//
// tests/client/uri_test.cc
#include "weightserver/client/uri.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace weightserver::client {
namespace {

using ::testing::HasSubstr;

ModelUri Parsed(absl::string_view text) {
  absl::StatusOr<ModelUri> u = ParseModelUri(text);
  EXPECT_TRUE(u.ok()) << text << ": " << u.status();
  return u.ok() ? *u : ModelUri{};
}

TEST(ParseModelUriTest, TcpFormsWithDefaultPortAndRevision) {
  EXPECT_EQ(Parsed("weightserver://10.0.0.5/llama"),
            (ModelUri{"10.0.0.5:50051", "llama", ""}));
  EXPECT_EQ(Parsed("weightserver://ws.svc.cluster.local:7000/org/name@3f2a9c"),
            (ModelUri{"ws.svc.cluster.local:7000", "org/name", "3f2a9c"}));
  EXPECT_EQ(Parsed("weightserver://[::1]:50052/a/b/c"),
            (ModelUri{"[::1]:50052", "a/b/c", ""}));
  EXPECT_EQ(Parsed("weightserver://[::1]/m"), (ModelUri{"[::1]:50051", "m", ""}));
}

TEST(ParseModelUriTest, UnixSocketIsPercentEncoded) {
  EXPECT_EQ(Parsed("weightserver+unix://%2Frun%2Fweightserver.sock/org/m@ab12"),
            (ModelUri{"unix:/run/weightserver.sock", "org/m", "ab12"}));
}

TEST(ParseModelUriTest, SegmentsArePercentDecodedAndAtIsOnlyInTheLastSegment) {
  EXPECT_EQ(Parsed("weightserver://h/user%40corp/m%20x").model, "user@corp/m x");
  // An '@' in an earlier segment is not a revision marker.
  ModelUri u = Parsed("weightserver://h/a@b/c");
  EXPECT_EQ(u.model, "a@b/c");
  EXPECT_EQ(u.revision, "");
}

TEST(ParseModelUriTest, BadUrisNameWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://h/m", "unknown scheme"},
      {"weightserver://h", "no MODEL"},
      {"weightserver://h/", "no MODEL"},
      {"weightserver:///m", "no HOST"},
      {"weightserver://:80/m", "no HOST"},
      {"weightserver://h:/m", "empty PORT"},
      {"weightserver://h:0/m", "outside 1-65535"},
      {"weightserver://h:65536/m", "outside 1-65535"},
      {"weightserver://h:12a/m", "not a number"},
      {"weightserver://u@h/m", "user information"},
      {"weightserver://[::1/m", "unclosed"},
      {"weightserver://h/a//b", "empty, '.' or '..'"},
      {"weightserver://h/a/../b", "empty, '.' or '..'"},
      {"weightserver://h/a%2Fb", "encoded '/'"},
      {"weightserver://h/m%4", "cut short"},
      {"weightserver://h/m%zz", "two hex digits"},
      {"weightserver://h/m@", "empty REVISION"},
      {"weightserver://h/m@a-b", "letters and digits"},
      {"weightserver://h/m?x=1", "query"},
      {"weightserver+unix:///m", "no SOCKET"},
      {"weightserver+unix://run.sock/m", "absolute path"},
      {"weightserver://h%20x/m", "HOST has the character"},
      {"weightserver://[zz]/m", "other than hex digits"},
      {"weightserver://[ ]/m", "other than hex digits"},
  };
  for (const auto& [uri, why] : cases) {
    absl::StatusOr<ModelUri> u = ParseModelUri(uri);
    ASSERT_FALSE(u.ok()) << uri;
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << uri;
    EXPECT_THAT(u.status().message(), HasSubstr(why)) << uri;
    EXPECT_THAT(u.status().message(), HasSubstr(uri)) << uri;
  }
}

TEST(ParseModelUriTest, HostNamedLikeAGrpcSchemeIsExplicitDns) {
  EXPECT_EQ(Parsed("weightserver://unix/m").target, "dns:///unix:50051");
  EXPECT_EQ(Parsed("weightserver://IPv4:7/m").target, "dns:///IPv4:7");
  EXPECT_EQ(FormatModelUri(Parsed("weightserver://unix:9/m")),
            "weightserver://unix:9/m");
}

TEST(ParseModelUriTest, FormatRoundTrips) {
  for (const char* text :
       {"weightserver://10.0.0.5:50051/llama",
        "weightserver://[::1]:1/a/b@ff",
        "weightserver+unix://%2Frun%2Fws.sock/org/m",
        "weightserver://h:2/user%40corp/m%20x@1"}) {
    ModelUri u = Parsed(text);
    EXPECT_EQ(FormatModelUri(u), text);
    EXPECT_EQ(Parsed(FormatModelUri(u)), u);
  }
}

TEST(IsModelUriTest, OnlyTheTwoSchemes) {
  EXPECT_TRUE(IsModelUri("weightserver://h/m"));
  EXPECT_TRUE(IsModelUri("weightserver+unix://%2Fs/m"));
  EXPECT_FALSE(IsModelUri("llama"));
  EXPECT_FALSE(IsModelUri("weightserver:/h/m"));
}

}  // namespace
}  // namespace weightserver::client
