// Copyright 2026 The Weightserver Authors.
//
// tests/testing/safetensors_builder.h: raw safetensors bytes for tests.
//
// These helpers do not validate anything: they exist to build malformed files
// by hand (a wrong length prefix, a bad header, missing or extra data) as well
// as valid ones whose exact header text a test wants to control.
//
// Example:
//   std::string file = SafetensorsBytes(
//       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
//   EXPECT_OK(ParseFile(AsBytes(file), "w.safetensors"));
//   std::string json = HeaderJson({TensorJson("w", "F32", {2}, 0, 8)});
//   EXPECT_THAT(ParseFile(AsBytes(bad), "x"),
//               ReadErrorIs(ErrorKind::kInvalidOffset));
#ifndef WEIGHTSERVER_TESTS_TESTING_SAFETENSORS_BUILDER_H_
#define WEIGHTSERVER_TESTS_TESTING_SAFETENSORS_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "weightserver/format/errors.h"
#include "gmock/gmock.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::testing {

// The 8-byte little-endian encoding of `n`.
std::string LengthPrefix(uint64_t n);

// LengthPrefix(header_json.size()) + header_json + data.
std::string SafetensorsBytes(absl::string_view header_json,
                             absl::string_view data);

// As above with `data_size` zero bytes of data.
std::string SafetensorsBytes(absl::string_view header_json, size_t data_size);

// `"name":{"dtype":"DT","shape":[...],"data_offsets":[begin,end]}`, with
// `name` JSON-escaped; `dtype` is written verbatim (it may be invalid).
std::string TensorJson(absl::string_view name, absl::string_view dtype,
                       const std::vector<uint64_t>& shape, uint64_t begin,
                       uint64_t end);

// `{` + the comma-joined `members` + `}`.
std::string HeaderJson(const std::vector<std::string>& members);

// A view of `bytes` as std::byte, for the format API. Borrows `bytes`.
absl::Span<const std::byte> AsBytes(absl::string_view bytes);

// Matches a Status or StatusOr that is a format error of `kind` with `code`.
//   EXPECT_THAT(ParseFile(...), FormatErrorIs(absl::StatusCode::kDataLoss,
//                                             ErrorKind::kInvalidOffset));
MATCHER_P2(FormatErrorIs, code, kind,
           std::string("is a format error ") +
               std::string(format::ErrorKindName(kind))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code && format::FormatErrorKind(s) == kind;
}

// A reader error: FormatErrorIs(kDataLoss, kind).
MATCHER_P(ReadErrorIs, kind,
          std::string("is a DataLoss format error ") +
              std::string(format::ErrorKindName(kind))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == absl::StatusCode::kDataLoss &&
         format::FormatErrorKind(s) == kind;
}

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_SAFETENSORS_BUILDER_H_
