// Copyright 2026 The Weightserver Authors.
//
// fuzz/header_fuzzer.cc: libFuzzer target for the safetensors header parser.
//
// Input: a whole file. Beyond "no crash, no sanitizer report", checks that a
// header the parser accepts is consistent (tensors in data order, contiguous
// from 0, each the size its dtype and shape give, the data section ending at
// the end of the file) and survives the writer: laying the parsed tensors
// out again with format::PlanFile and parsing that gives the same tensors
// and metadata.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/types/span.h"
#include "format/header.h"
#include "format/writer.h"
#include "fuzz/check.h"

namespace weightserver::format {
namespace {

void Check(bool ok, const char* what) {
  fuzz::Check(ok, "header_fuzzer", what);
}

using Key = std::tuple<std::string, DType, std::vector<uint64_t>>;

std::map<std::string, Key> Keys(const Header& h) {
  std::map<std::string, Key> keys;
  for (const TensorInfo& t : h.tensors) keys[t.name] = {t.name, t.dtype, t.shape};
  return keys;
}

void FuzzOne(absl::Span<const std::byte> file) {
  absl::StatusOr<Header> h = ParseFile(file, "fuzz");
  if (!h.ok()) return;
  uint64_t at = 0;
  for (const TensorInfo& t : h->tensors) {
    Check(t.begin == at, "tensors contiguous from 0 in data order");
    Check(t.end >= t.begin, "begin <= end");
    absl::StatusOr<uint64_t> size = TensorByteSize(t.dtype, t.shape, "fuzz", t.name);
    Check(size.ok() && *size == t.size(), "size matches dtype x shape");
    Check(h->Find(t.name) == &t, "Find gives the tensor");
    at = t.end;
  }
  Check(h->data_offset() + h->data_size() == file.size(),
        "data section ends at the end of the file");

  std::vector<TensorSpec> specs;
  for (const TensorInfo& t : h->tensors) specs.push_back({t.name, t.dtype, t.shape});
  absl::StatusOr<FileLayout> layout = PlanFile(specs, h->metadata);
  if (!layout.ok()) return;  // E.g. HeaderTooLarge once re-escaped.
  std::string again = layout->header_bytes;
  again.resize(layout->file_size(), '\0');
  absl::StatusOr<Header> h2 = ParseFile(
      absl::MakeConstSpan(reinterpret_cast<const std::byte*>(again.data()),
                          again.size()),
      "fuzz-rewritten");
  Check(h2.ok(), "the writer's layout of a parsed header parses");
  Check(Keys(*h2) == Keys(*h), "rewritten header has the same tensors");
  Check(h2->metadata == h->metadata, "rewritten header has the same metadata");
}

}  // namespace
}  // namespace weightserver::format

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  weightserver::format::FuzzOne(
      absl::MakeConstSpan(reinterpret_cast<const std::byte*>(data), size));
  return 0;
}
