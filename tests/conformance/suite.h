// Copyright 2026 The Weightserver Authors.
//
// tests/conformance/suite.h: a conformance suite on disk, as laid out by
// tools/conformance/corpus.h: DIR/expected.json ({"file": "Kind" | "ok"}, the
// reference's verdicts) and, optionally, DIR/deviations/ with its own
// expected.json and deviations.json ({"file": {"ours": "Kind", "reason":
// "..."}}) for the files where this project deliberately differs. A suite
// without deviations/ (such as ../shared/conformance) has no deviations.
//
// Example:
//   absl::StatusOr<Suite> suite = LoadSuite(ConformanceDir());
//   for (const auto& [file, reference] : suite->reference)
//     EXPECT_EQ(KindOf(ParseFile(...).status()), suite->OurKind(file));
//
// Thread-safety: a Suite is a plain value.
#ifndef WEIGHTSERVER_TESTS_CONFORMANCE_SUITE_H_
#define WEIGHTSERVER_TESTS_CONFORMANCE_SUITE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weightserver::conformance {

struct Suite {
  std::string dir;
  // File (relative to dir: "bad_gap.safetensors",
  // "deviations/valid_x.safetensors") -> the reference's verdict.
  std::map<std::string, std::string> reference;
  // File -> this project's verdict, where it deliberately differs.
  std::map<std::string, std::string> ours;
  // File -> why it differs.
  std::map<std::string, std::string> reasons;

  // The verdict this project's reader must give for `file`.
  std::string OurKind(const std::string& file) const;
  // .safetensors files under dir and dir/deviations not in `reference`.
  std::vector<std::string> UnlistedFiles() const;
};

// Reads the suite in `dir`. Errors: kNotFound when dir/expected.json is
// missing; kDataLoss when a JSON file is not of the shape above.
absl::StatusOr<Suite> LoadSuite(const std::string& dir);

// "ok", the kind name a format error carries, or a description of a status
// that is not a format error (which then matches no expected kind).
std::string KindOf(const absl::Status& status);

}  // namespace weightserver::conformance

#endif  // WEIGHTSERVER_TESTS_CONFORMANCE_SUITE_H_
