// Copyright 2026 The Weightserver Authors.
//
// format/header_json.h: step 5 of the reader, the header's JSON schema.
//
// Internal to format/: header.cc calls it after the UTF-8 check. It parses the
// header text with nlohmann_json's SAX interface (no DOM is built) and checks
// the schema as the reference's serde types do, plus this project's stricter
// rules: any duplicated object key is an error, and nesting is limited to
// kMaxJsonDepth levels (serde_json's recursion limit).
//
// Thread-safety: pure function.
#ifndef WEIGHTSERVER_FORMAT_HEADER_JSON_H_
#define WEIGHTSERVER_FORMAT_HEADER_JSON_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "format/header.h"

namespace weightserver::format::internal {

// Deepest accepted nesting of JSON arrays and objects; the top-level object is
// level 1. serde_json fails at level 128.
inline constexpr int kMaxJsonDepth = 127;

struct ParsedJson {
  // In document order; offsets not yet validated.
  std::vector<TensorInfo> tensors;
  std::optional<std::map<std::string, std::string>> metadata;
};

// Parses `json` (valid UTF-8). Errors: DataLoss InvalidHeaderDeserialization
// for anything serde would refuse (syntax, BOM, non-object, schema, unknown
// dtype, non-integer or negative or > u64 numbers, data_offsets not of length
// 2, non-string metadata values) and for duplicate keys or excess nesting.
absl::StatusOr<ParsedJson> ParseHeaderJson(absl::string_view json,
                                           absl::string_view source);

// `name` quoted for a message: 'w', with control and non-ASCII bytes
// C-escaped (a name may hold NUL or bytes that would garble a log line).
std::string QuoteName(absl::string_view name);

// "[2, 3]".
std::string FormatShape(const std::vector<uint64_t>& shape);

}  // namespace weightserver::format::internal

#endif  // WEIGHTSERVER_FORMAT_HEADER_JSON_H_
