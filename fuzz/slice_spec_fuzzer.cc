// Copyright 2026 The Weightserver Authors.
//
// fuzz/slice_spec_fuzzer.cc: libFuzzer target for weightctl's --slice and
// --shard parsers.
//
// Input: the text of a flag. Checks that whatever parses is sane (no range
// with start > stop, 0 <= rank < world) and round-trips: a selection written
// back in SPEC syntax parses to the same selection, NAME=SPEC to the same
// name and selection.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cli/slice_spec.h"
#include "fuzz/check.h"

namespace weightserver::cli {
namespace {

void Check(bool ok, const char* what) {
  fuzz::Check(ok, "slice_spec_fuzzer", what);
}

std::string Spec(const client::Selection& s) {
  std::string out;
  for (size_t d = 0; d < s.dims.size(); ++d) {
    if (d > 0) out += ',';
    if (s.dims[d].empty()) out += ':';
    for (size_t r = 0; r < s.dims[d].size(); ++r) {
      absl::StrAppend(&out, r > 0 ? "+" : "", s.dims[d][r].start, ":",
                      s.dims[d][r].stop);
    }
  }
  return out;
}

void CheckSelection(const client::Selection& s) {
  for (const format::DimRanges& dim : s.dims) {
    for (const format::IndexRange& r : dim) Check(r.start <= r.stop, "start <= stop");
  }
}

void FuzzOne(absl::string_view text) {
  absl::StatusOr<client::Selection> s = ParseSliceSpec(text);
  if (s.ok()) {
    CheckSelection(*s);
    absl::StatusOr<client::Selection> again = ParseSliceSpec(Spec(*s));
    Check(again.ok() && *again == *s, "a written SPEC parses to the same selection");
  }
  absl::StatusOr<client::TensorSlice> f = ParseSliceFlag(text);
  if (f.ok()) {
    Check(!f->name.empty(), "a NAME");
    CheckSelection(f->selection);
    absl::StatusOr<client::TensorSlice> again =
        ParseSliceFlag(absl::StrCat(f->name, "=", Spec(f->selection)));
    Check(again.ok() && again->name == f->name &&
              again->selection == f->selection,
          "a written NAME=SPEC parses to the same flag");
  }
  absl::StatusOr<ShardSpec> shard = ParseShardFlag(text);
  if (shard.ok()) {
    Check(shard->world >= 1 && shard->rank >= 0 && shard->rank < shard->world,
          "0 <= rank < world");
  }
}

}  // namespace
}  // namespace weightserver::cli

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  weightserver::cli::FuzzOne(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
