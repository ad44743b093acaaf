// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/case_builder.h: internal to tools/conformance. Byte and
// JSON-text helpers for writing cases by hand, the dtype table (kept here,
// not taken from format/, so that the corpus does not inherit a bug of the
// code it tests), and CaseList, which the case files fill.
//
// Example:
//   CaseList c;
//   c.Bad("bad_gap", "InvalidOffset",
//         File(Object({Entry("a", Tensor("U8", "[4]", 0, 4)),
//                      Entry("b", Tensor("U8", "[4]", 8, 12))}), Zeros(12)),
//         "a gap between two tensors (§4 step 6)");
//
// Thread-safety: pure functions; a CaseList is a plain value.
#ifndef WEIGHTSERVER_TOOLS_CONFORMANCE_CASE_BUILDER_H_
#define WEIGHTSERVER_TOOLS_CONFORMANCE_CASE_BUILDER_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/conformance/corpus.h"

namespace weightserver::conformance::internal {

// The 8-byte little-endian encoding of `n`.
std::string Le64(uint64_t n);
// A file: N = header.size(), the header, then `data`.
std::string File(absl::string_view header, absl::string_view data = {});
// A file whose length prefix says `n`, followed by `rest` (any size).
std::string WithLength(uint64_t n, absl::string_view rest = {});
// `header` followed by spaces up to a multiple of 8 bytes, as writers pad.
std::string Pad8(std::string header);
// `n` zero bytes.
std::string Zeros(uint64_t n);

// The JSON text of a tensor object; `shape` is JSON text ("[2,3]").
std::string Tensor(absl::string_view dtype, absl::string_view shape,
                   uint64_t begin, uint64_t end);
// `"key":value`; `key` is JSON string content, already escaped.
std::string Entry(absl::string_view key, absl::string_view value);
// `{` entries joined by `,` `}`.
std::string Object(std::initializer_list<std::string> entries);
std::string Object(const std::vector<std::string>& entries);

struct DTypeInfo {
  const char* name;  // As in JSON: "F8_E4M3FNUZ".
  int bits;          // 4, 6, 8, 16, 32 or 64.
};
// The reference's 22 dtypes in its enum order (safetensors.md §3).
const std::vector<DTypeInfo>& DTypes();

// Cases being collected. Names are given without ".safetensors".
class CaseList {
 public:
  void Ok(absl::string_view name, std::string bytes, absl::string_view what);
  void Bad(absl::string_view name, absl::string_view kind, std::string bytes,
           absl::string_view what);
  // A case where this project's reader deliberately gives `ours`.
  void Deviates(absl::string_view name, absl::string_view reference,
                absl::string_view ours, absl::string_view reason,
                std::string bytes, absl::string_view what);

  std::vector<Case>& cases() { return cases_; }

 private:
  std::vector<Case> cases_;
};

// The case files, in the order of safetensors.md §4.
void AddPrefixCases(CaseList& c);      // Steps 1-3: length prefix.
void AddTextCases(CaseList& c);        // Steps 4-5: UTF-8, JSON, schema.
void AddValidationCases(CaseList& c);  // Steps 6-7: offsets, sizes, coverage.
void AddAcceptedCases(CaseList& c);    // Files that must load (§9 and more).
void AddDuplicateCases(CaseList& c);   // Duplicate keys (§2), deviations.

}  // namespace weightserver::conformance::internal

#endif  // WEIGHTSERVER_TOOLS_CONFORMANCE_CASE_BUILDER_H_
