// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/case_builder.cc
#include "tools/conformance/case_builder.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weightserver::conformance::internal {

std::string Le64(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

std::string File(absl::string_view header, absl::string_view data) {
  return absl::StrCat(Le64(header.size()), header, data);
}

std::string WithLength(uint64_t n, absl::string_view rest) {
  return absl::StrCat(Le64(n), rest);
}

std::string Pad8(std::string header) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

std::string Zeros(uint64_t n) { return std::string(n, '\0'); }

std::string Tensor(absl::string_view dtype, absl::string_view shape,
                   uint64_t begin, uint64_t end) {
  return absl::StrCat(R"({"dtype":")", dtype, R"(","shape":)", shape,
                      R"(,"data_offsets":[)", begin, ",", end, "]}");
}

std::string Entry(absl::string_view key, absl::string_view value) {
  return absl::StrCat("\"", key, "\":", value);
}

std::string Object(std::initializer_list<std::string> entries) {
  return absl::StrCat("{", absl::StrJoin(entries, ","), "}");
}

std::string Object(const std::vector<std::string>& entries) {
  return absl::StrCat("{", absl::StrJoin(entries, ","), "}");
}

const std::vector<DTypeInfo>& DTypes() {
  static const std::vector<DTypeInfo> kDTypes = {
      {"BOOL", 8},         {"F4", 4},           {"F6_E2M3", 6},
      {"F6_E3M2", 6},      {"U8", 8},           {"I8", 8},
      {"F8_E5M2", 8},      {"F8_E4M3", 8},      {"F8_E8M0", 8},
      {"F8_E4M3FNUZ", 8},  {"F8_E5M2FNUZ", 8},  {"I16", 16},
      {"U16", 16},         {"F16", 16},         {"BF16", 16},
      {"I32", 32},         {"U32", 32},         {"F32", 32},
      {"C64", 64},         {"F64", 64},         {"I64", 64},
      {"U64", 64},
  };
  return kDTypes;
}

void CaseList::Ok(absl::string_view name, std::string bytes,
                  absl::string_view what) {
  Deviates(name, "ok", "", "", std::move(bytes), what);
}

void CaseList::Bad(absl::string_view name, absl::string_view kind,
                   std::string bytes, absl::string_view what) {
  Deviates(name, kind, "", "", std::move(bytes), what);
}

void CaseList::Deviates(absl::string_view name, absl::string_view reference,
                        absl::string_view ours, absl::string_view reason,
                        std::string bytes, absl::string_view what) {
  Case c;
  c.file = absl::StrCat(name, ".safetensors");
  c.bytes = std::move(bytes);
  c.reference = std::string(reference);
  c.ours = std::string(ours);
  c.reason = std::string(reason);
  c.what = std::string(what);
  cases_.push_back(std::move(c));
}

}  // namespace weightserver::conformance::internal
