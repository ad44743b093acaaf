// Copyright 2026 The Weightserver Authors.
//
// tests/conformance/conformance_shared_test.cc: the generated corpus against
// an outside suite with the reference's verdicts (../shared/conformance,
// WS_SHARED_CONFORMANCE_DIR). Built only where that suite exists (see
// CMakeLists.txt). Checks that
//   - our parser gives the outside suite's kinds on its own files;
//   - the generated corpus has a case of the same name with the same
//     reference verdict for each of its files;
//   - where both files are valid, they hold the same tensors and metadata.
// That the generated verdicts are the reference's is checked by running the
// reference itself (tests/interop, reference_verdicts.py).
#include <string>
#include <vector>

#include "format/header.h"
#include "gtest/gtest.h"
#include "tests/conformance/suite.h"
#include "tests/testing/safetensors_builder.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::conformance {
namespace {

using ::weightserver::testing::AsBytes;
using ::weightserver::testing::ReadBytes;

constexpr char kShared[] = WS_SHARED_CONFORMANCE_DIR;
constexpr char kGenerated[] = WS_GENERATED_CONFORMANCE_DIR;

absl::StatusOr<format::Header> Parse(const std::string& dir,
                                     const std::string& file) {
  const std::string bytes = ReadBytes(dir + "/" + file);
  return format::ParseFile(AsBytes(bytes), file);
}

// The generated file that covers the outside suite's `file`: the same name,
// at the top or among the deviations.
std::string Covering(const Suite& generated, const std::string& file) {
  if (generated.reference.count(file)) return file;
  const std::string deviation = "deviations/" + file;
  return generated.reference.count(deviation) ? deviation : "";
}

TEST(SharedConformanceTest, OurParserGivesTheSharedKinds) {
  absl::StatusOr<Suite> shared = LoadSuite(kShared);
  ASSERT_TRUE(shared.ok()) << shared.status();
  ASSERT_GT(shared->reference.size(), 0u);
  for (const auto& [file, kind] : shared->reference) {
    SCOPED_TRACE(file);
    EXPECT_EQ(KindOf(Parse(kShared, file).status()), shared->OurKind(file));
  }
}

TEST(SharedConformanceTest, GeneratedCorpusCoversEveryCase) {
  absl::StatusOr<Suite> shared = LoadSuite(kShared);
  absl::StatusOr<Suite> generated = LoadSuite(kGenerated);
  ASSERT_TRUE(shared.ok()) << shared.status();
  ASSERT_TRUE(generated.ok()) << generated.status();
  for (const auto& [file, kind] : shared->reference) {
    SCOPED_TRACE(file);
    const std::string covering = Covering(*generated, file);
    ASSERT_FALSE(covering.empty()) << "no generated case named " << file;
    EXPECT_EQ(generated->reference.at(covering), kind);
  }
}

TEST(SharedConformanceTest, ValidCasesHoldTheSameTensors) {
  absl::StatusOr<Suite> shared = LoadSuite(kShared);
  absl::StatusOr<Suite> generated = LoadSuite(kGenerated);
  ASSERT_TRUE(shared.ok()) << shared.status();
  ASSERT_TRUE(generated.ok()) << generated.status();
  for (const auto& [file, kind] : shared->reference) {
    SCOPED_TRACE(file);
    const std::string covering = Covering(*generated, file);
    if (kind != "ok" || covering.empty()) continue;
    absl::StatusOr<format::Header> a = Parse(kShared, file);
    absl::StatusOr<format::Header> b = Parse(kGenerated, covering);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_EQ(a->tensors.size(), b->tensors.size());
    for (size_t i = 0; i < a->tensors.size(); ++i) {
      const format::TensorInfo& x = a->tensors[i];
      const format::TensorInfo& y = b->tensors[i];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.dtype, y.dtype) << x.name;
      EXPECT_EQ(x.shape, y.shape) << x.name;
      EXPECT_EQ(x.begin, y.begin) << x.name;
      EXPECT_EQ(x.end, y.end) << x.name;
    }
    EXPECT_EQ(a->metadata, b->metadata);
  }
}

}  // namespace
}  // namespace weightserver::conformance
