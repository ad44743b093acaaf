// Copyright 2026 The Weightserver Authors.
//
// tests/testing/safetensors_builder.cc
#include "tests/testing/safetensors_builder.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "format/writer.h"

namespace weightserver::testing {

std::string LengthPrefix(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out;
}

std::string SafetensorsBytes(absl::string_view header_json,
                             absl::string_view data) {
  return absl::StrCat(LengthPrefix(header_json.size()), header_json, data);
}

std::string SafetensorsBytes(absl::string_view header_json, size_t data_size) {
  return SafetensorsBytes(header_json, std::string(data_size, '\0'));
}

std::string TensorJson(absl::string_view name, absl::string_view dtype,
                       const std::vector<uint64_t>& shape, uint64_t begin,
                       uint64_t end) {
  std::string out;
  format::AppendJsonString(name, &out);
  absl::StrAppend(&out, ":{\"dtype\":\"", dtype, "\",\"shape\":[",
                  absl::StrJoin(shape, ","), "],\"data_offsets\":[", begin, ",",
                  end, "]}");
  return out;
}

std::string HeaderJson(const std::vector<std::string>& members) {
  return absl::StrCat("{", absl::StrJoin(members, ","), "}");
}

absl::Span<const std::byte> AsBytes(absl::string_view bytes) {
  return absl::Span<const std::byte>(
      reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
}

}  // namespace weightserver::testing
