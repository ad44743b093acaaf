// Copyright 2026 The Weightserver Authors.
//
// tests/conformance/conformance_test.cc: every file of the conformance suite
// (ConformanceDir(): by default the corpus tools/conformance generates into
// the build tree) must parse, or fail with the error kind the reference
// reports for it (expected.json), except where the suite lists a deliberate
// deviation of this project (deviations/deviations.json), whose kind applies
// instead. The test also fails when the suite is empty or when a .safetensors
// file is not listed, so that it cannot pass vacuously.
#include <filesystem>
#include <map>
#include <string>

#include "weightserver/format/errors.h"
#include "format/header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/suite.h"
#include "tests/testing/safetensors_builder.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::conformance {
namespace {

using ::testing::IsEmpty;
using ::weightserver::testing::AsBytes;
using ::weightserver::testing::ConformanceDir;
using ::weightserver::testing::ReadBytes;

Suite LoadOrFail() {
  absl::StatusOr<Suite> suite = LoadSuite(ConformanceDir());
  if (!suite.ok()) {
    ADD_FAILURE() << suite.status();
    return Suite{};
  }
  return *std::move(suite);
}

TEST(ConformanceTest, SuiteIsPresentAndComplete) {
  const Suite suite = LoadOrFail();
  EXPECT_GT(suite.reference.size(), 0u) << "no entries in " << ConformanceDir();
  EXPECT_THAT(suite.UnlistedFiles(), IsEmpty())
      << "files in " << ConformanceDir() << " not listed in expected.json";
  for (const auto& [file, kind] : suite.reference) {
    EXPECT_TRUE(std::filesystem::exists(ConformanceDir() + "/" + file))
        << file << " is listed in expected.json but missing";
  }
}

// A deviation names a listed file, differs from the reference and says why.
TEST(ConformanceTest, DeviationsAreListedAndDiffer) {
  const Suite suite = LoadOrFail();
  for (const auto& [file, ours] : suite.ours) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(suite.reference.count(file));
    EXPECT_NE(ours, suite.reference.at(file));
    EXPECT_FALSE(suite.reasons.at(file).empty());
  }
}

TEST(ConformanceTest, EveryFileGivesItsKind) {
  const Suite suite = LoadOrFail();
  ASSERT_GT(suite.reference.size(), 0u);
  int checked = 0;
  for (const auto& [file, reference] : suite.reference) {
    SCOPED_TRACE(file);
    const std::string path = ConformanceDir() + "/" + file;
    if (!std::filesystem::exists(path)) continue;  // Reported above.
    const std::string bytes = ReadBytes(path);
    const std::string name = std::filesystem::path(file).filename().string();
    const absl::StatusOr<format::Header> header =
        format::ParseFile(AsBytes(bytes), name);
    EXPECT_EQ(KindOf(header.status()), suite.OurKind(file))
        << "reference: " << reference << "; " << header.status();
    if (!header.ok()) {
      EXPECT_EQ(header.status().code(), absl::StatusCode::kDataLoss);
      // Messages name the file.
      EXPECT_EQ(header.status().message().substr(0, name.size()), name);
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(suite.reference.size()));
}

// The same files through the two-step API a server uses: the 8-byte prefix,
// then exactly N header bytes.
TEST(ConformanceTest, TwoStepApiAgreesWithParseFile) {
  const Suite suite = LoadOrFail();
  for (const auto& [file, reference] : suite.reference) {
    SCOPED_TRACE(file);
    const std::string path = ConformanceDir() + "/" + file;
    if (!std::filesystem::exists(path)) continue;
    const std::string bytes = ReadBytes(path);
    absl::StatusOr<uint64_t> n = format::ParseHeaderLength(
        AsBytes(bytes).subspan(0, 8), bytes.size(), file);
    absl::Status status = n.status();
    if (n.ok()) {
      status = format::ParseHeader(AsBytes(bytes).subspan(8, *n), bytes.size(), file)
                   .status();
    }
    EXPECT_EQ(KindOf(status), suite.OurKind(file)) << status;
  }
}

}  // namespace
}  // namespace weightserver::conformance
