// Copyright 2026 The Weightserver Authors.
//
// format/writer.h: write safetensors files exactly as the reference writer does.
//
// Layout decisions are the reference's (safetensors.md §5): tensors sorted by
// dtype in descending enum order, then by name (bytewise); offsets contiguous
// from 0; compact JSON with `__metadata__` first and, in each tensor, the keys
// dtype, shape, data_offsets; the header starts with '{' and is padded with
// spaces to a multiple of 8; N <= kMaxHeaderSize. Metadata keys are written
// sorted (the reference's order is random). Stricter than the reference: a
// tensor named `__metadata__` or a repeated name is refused.
//
// PlanFile lays out a file without its data, so that large files can be
// written piecewise (a client streams tensors straight to their offsets).
//
// Example:
//   std::vector<TensorSpec> specs = {{"w", DType::kF32, {2, 3}}};
//   ASSIGN_OR_RETURN(FileLayout layout, PlanFile(specs, std::nullopt));
//   // write layout.header_bytes at 0, then each tensor at
//   // layout.data_offset() + layout.tensors[i].begin.
//
//   // Or all at once, atomically (temp file + rename):
//   RETURN_IF_ERROR(WriteFile("/tmp/x.safetensors", tensors, metadata));
//
// Thread-safety: pure functions, apart from the file system effects of
// WriteFile.
#ifndef WEIGHTSERVER_FORMAT_WRITER_H_
#define WEIGHTSERVER_FORMAT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "weightserver/format/dtype.h"
#include "format/header.h"

namespace weightserver::format {

// A tensor to lay out: name, dtype and shape; its size follows from them.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kU8;
  std::vector<uint64_t> shape;
};

// A tensor with its bytes, for WriteFile / Serialize.
struct TensorData {
  TensorSpec spec;
  absl::Span<const std::byte> data;  // Borrowed; size must match the spec.
};

using Metadata = std::map<std::string, std::string>;

struct FileLayout {
  // The 8-byte length prefix followed by the padded header JSON.
  std::string header_bytes;
  // The tensors in data order, with offsets relative to the data section.
  std::vector<TensorInfo> tensors;
  // Index into `tensors` for each input spec (specs[i] -> tensors[order[i]]).
  std::vector<size_t> order;

  uint64_t data_offset() const { return header_bytes.size(); }
  uint64_t data_size() const { return tensors.empty() ? 0 : tensors.back().end; }
  uint64_t file_size() const { return data_offset() + data_size(); }
};

// Lays out a file holding `specs` and `metadata` (nullopt: no __metadata__).
// Errors (InvalidArgument format errors unless noted):
//   InvalidHeaderDeserialization  a name is `__metadata__` or repeated;
//   ValidationOverflow / MisalignedSlice  as in TensorByteSize;
//   HeaderTooLarge                the padded header exceeds kMaxHeaderSize.
absl::StatusOr<FileLayout> PlanFile(absl::Span<const TensorSpec> specs,
                                    const std::optional<Metadata>& metadata);

// The whole file in memory. Besides PlanFile's errors: TensorInvalidInfo when
// a tensor's data size does not match its spec.
absl::StatusOr<std::string> Serialize(absl::Span<const TensorData> tensors,
                                      const std::optional<Metadata>& metadata);

// Writes the file to `path` through a temporary file in the same directory,
// then renames it into place (existing mappings of `path` stay intact).
// Besides Serialize's errors: the errno-derived status of a failed write.
absl::Status WriteFile(const std::string& path,
                       absl::Span<const TensorData> tensors,
                       const std::optional<Metadata>& metadata);

// Appends `value` to `out` as a compact JSON string the way serde_json does:
// escapes '"', '\\' and control characters (\b \f \n \r \t, else \u00XX),
// writes everything else (non-ASCII UTF-8 included) as is.
void AppendJsonString(absl::string_view value, std::string* out);

}  // namespace weightserver::format

#endif  // WEIGHTSERVER_FORMAT_WRITER_H_
