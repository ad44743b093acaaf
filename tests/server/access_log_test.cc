// Copyright 2026 The Weightserver Authors.
//
// tests/server/access_log_test.cc: the access log's two line formats, parsed
// back, and its file.
#include "server/access_log.h"

#include <fstream>
#include <map>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::server {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::testing::StartsWith;

AccessRecord Sample() {
  AccessRecord r;
  r.end = absl::FromUnixSeconds(1796417900) + absl::Microseconds(123456);
  r.method = "Fetch";
  r.peer = "ipv4:10.0.0.5:41234";
  r.model = "org/llama";
  r.revision = "9f2c";
  r.entries = 291;
  r.bytes = 16060522496;
  r.duration = absl::Milliseconds(12401);
  r.first_chunk = absl::Microseconds(2000);
  return r;
}

// "key=value" fields after the "access: TIME" prefix.
std::map<std::string, std::string> TextFields(const std::string& line) {
  std::map<std::string, std::string> fields;
  std::vector<std::string> words = absl::StrSplit(line, ' ');
  for (size_t i = 2; i < words.size(); ++i) {
    std::vector<std::string> kv = absl::StrSplit(words[i], absl::MaxSplits('=', 1));
    if (kv.size() == 2) fields[kv[0]] = kv[1];
  }
  return fields;
}

TEST(AccessLogTest, TextLine) {
  const std::string line = FormatAccessRecord(Sample(), LogFormat::kText);
  EXPECT_THAT(line, StartsWith("access: 2026-12-04T"));
  EXPECT_THAT(line, HasSubstr(".123456Z "));
  auto f = TextFields(line);
  EXPECT_EQ(f["method"], "Fetch");
  EXPECT_EQ(f["peer"], "ipv4:10.0.0.5:41234");
  EXPECT_EQ(f["identity"], "-");
  EXPECT_EQ(f["model"], "org/llama");
  EXPECT_EQ(f["revision"], "9f2c");
  EXPECT_EQ(f["entries"], "291");
  EXPECT_EQ(f["bytes"], "16060522496");
  EXPECT_EQ(f["duration_s"], "12.401000");
  EXPECT_EQ(f["first_chunk_s"], "0.002000");
  EXPECT_EQ(f["code"], "OK");
  EXPECT_EQ(f.count("error"), 0u);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(AccessLogTest, TextQuotesHostileNamesAndSaysTheError) {
  AccessRecord r = Sample();
  r.model = "a b\n\"c\"=\xff";
  r.first_chunk = -absl::Seconds(1);
  r.status = absl::NotFoundError("Fetch: no model 'a b'");
  const std::string line = FormatAccessRecord(r, LogFormat::kText);
  EXPECT_THAT(line, HasSubstr(R"(model="a b\n\"c\"=\xff")"));
  EXPECT_THAT(line, HasSubstr(R"( code=NOT_FOUND error="Fetch: no model \'a b\'")"));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("first_chunk_s")));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(AccessLogTest, JsonLine) {
  AccessRecord r = Sample();
  r.identity = "trainer";
  r.model = "bad\xff";
  r.status = absl::ResourceExhaustedError("busy");
  const std::string line = FormatAccessRecord(r, LogFormat::kJson);
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["type"], "access");
  EXPECT_EQ(j["time"], "2026-12-04T20:58:20.123456Z");
  EXPECT_EQ(j["method"], "Fetch");
  EXPECT_EQ(j["identity"], "trainer");
  EXPECT_EQ(j["model"], "bad\\xff");
  EXPECT_EQ(j["entries"], 291);
  EXPECT_EQ(j["bytes"], 16060522496u);
  EXPECT_DOUBLE_EQ(j["duration_s"], 12.401);
  EXPECT_DOUBLE_EQ(j["first_chunk_s"], 0.002);
  EXPECT_EQ(j["code"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(j["error"], "busy");
}

TEST(AccessLogTest, AppendsWholeLinesToAFile) {
  weightserver::testing::TempDir dir;
  const std::string path = dir.path() + "/access.log";
  std::ofstream(path) << "earlier\n";
  {
    auto log = AccessLog::Open({.path = path});
    ASSERT_OK(log);
    (*log)->Write(Sample());
    (*log)->Write(Sample());
  }
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "earlier");
  EXPECT_THAT(lines[2], StartsWith("access: "));
}

TEST(AccessLogTest, OptionsAndErrors) {
  EXPECT_FALSE(AccessLogOptions{}.enabled());
  EXPECT_FALSE(AccessLogOptions{.path = "off"}.enabled());
  EXPECT_TRUE(AccessLogOptions{.path = "-"}.enabled());
  EXPECT_THAT(AccessLog::Open({.path = "off"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(AccessLog::Open({.path = "/nonexistent/dir/access.log"}).ok());
  EXPECT_THAT(ParseLogFormat("xml"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
}

}  // namespace
}  // namespace weightserver::server
