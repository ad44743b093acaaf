// Copyright 2026 The Weightserver Authors.
//
// tests/conformance/conformance_test.cc: every file of the conformance suite
// ($WS_CONFORMANCE_DIR) must parse, or fail with the error kind the reference
// reports for it, as listed in the suite's expected.json ({"file": "Kind" or
// "ok"}). The test also fails when the suite is empty or when a .safetensors
// file is not listed, so that it cannot pass vacuously.
#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "weightserver/format/errors.h"
#include "format/header.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/safetensors_builder.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::format {
namespace {

using ::weightserver::testing::AsBytes;
using ::weightserver::testing::ConformanceDir;
using ::weightserver::testing::ReadBytes;

// expected.json as file name -> expected kind name ("ok" for success).
std::map<std::string, std::string> LoadExpected() {
  const std::string path = ConformanceDir() + "/expected.json";
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << "missing " << path;
    return {};
  }
  const nlohmann::json json = nlohmann::json::parse(ReadBytes(path), nullptr,
                                                    /*allow_exceptions=*/false);
  if (!json.is_object()) {
    ADD_FAILURE() << path << " is not a JSON object";
    return {};
  }
  std::map<std::string, std::string> expected;
  for (const auto& [name, kind] : json.items()) {
    if (!kind.is_string()) {
      ADD_FAILURE() << path << ": value of " << name << " is not a string";
      continue;
    }
    expected[name] = kind.get<std::string>();
  }
  return expected;
}

// The kind name `status` carries: "ok", a kind name, or a description of a
// status that is not a format error.
std::string KindOf(const absl::Status& status) {
  if (status.ok()) return "ok";
  std::optional<ErrorKind> kind = FormatErrorKind(status);
  if (!kind.has_value())
    return absl::StrCat("(not a format error) ", status.ToString());
  return std::string(ErrorKindName(*kind));
}

TEST(ConformanceTest, SuiteIsPresentAndComplete) {
  const std::map<std::string, std::string> expected = LoadExpected();
  EXPECT_GT(expected.size(), 0u) << "no entries in " << ConformanceDir();
  int files = 0;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(ConformanceDir(), ec)) {
    if (entry.path().extension() != ".safetensors") continue;
    ++files;
    EXPECT_TRUE(expected.count(entry.path().filename().string()))
        << entry.path() << " is not listed in expected.json";
  }
  EXPECT_FALSE(ec) << ConformanceDir() << ": " << ec.message();
  EXPECT_GT(files, 0);
  for (const auto& [name, kind] : expected) {
    EXPECT_TRUE(std::filesystem::exists(ConformanceDir() + "/" + name))
        << name << " is listed in expected.json but missing";
  }
}

TEST(ConformanceTest, EveryFileGivesTheReferenceKind) {
  const std::map<std::string, std::string> expected = LoadExpected();
  ASSERT_GT(expected.size(), 0u);
  int checked = 0;
  for (const auto& [name, kind] : expected) {
    SCOPED_TRACE(name);
    const std::string path = ConformanceDir() + "/" + name;
    if (!std::filesystem::exists(path)) continue;  // Reported above.
    const std::string bytes = ReadBytes(path);
    const absl::StatusOr<Header> header = ParseFile(AsBytes(bytes), name);
    EXPECT_EQ(KindOf(header.status()), kind) << header.status();
    if (!header.ok()) {
      EXPECT_EQ(header.status().code(), absl::StatusCode::kDataLoss);
      // Messages name the file.
      EXPECT_EQ(header.status().message().substr(0, name.size()), name);
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(expected.size()));
}

// The same files through the two-step API a server uses: the 8-byte prefix,
// then exactly N header bytes.
TEST(ConformanceTest, TwoStepApiAgreesWithParseFile) {
  for (const auto& [name, kind] : LoadExpected()) {
    SCOPED_TRACE(name);
    const std::string path = ConformanceDir() + "/" + name;
    if (!std::filesystem::exists(path)) continue;
    const std::string bytes = ReadBytes(path);
    absl::StatusOr<uint64_t> n =
        ParseHeaderLength(AsBytes(bytes).subspan(0, 8), bytes.size(), name);
    absl::Status status = n.status();
    if (n.ok()) {
      status = ParseHeader(AsBytes(bytes).subspan(8, *n), bytes.size(), name)
                   .status();
    }
    EXPECT_EQ(KindOf(status), kind) << status;
  }
}

}  // namespace
}  // namespace weightserver::format
