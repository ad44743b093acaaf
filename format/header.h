// Copyright 2026 The Weightserver Authors.
//
// format/header.h: parse and validate a safetensors header.
//
// The reader applies every rule of the reference reader (safetensors.md §4),
// in the reference's order, and is stricter where this project decides so:
// a duplicated tensor name (or a duplicated key anywhere in the header) is
// InvalidHeaderDeserialization instead of "last one wins". Tensor names are
// length-delimited bytes (they may contain NUL). Nothing is allocated in
// proportion to sizes the header claims: every check that involves a claimed
// size is arithmetic, and the header itself is bounded by kMaxHeaderSize.
//
// A file is validated in two steps, so that a server can read the 8-byte
// prefix, then exactly N header bytes, and never more than it must:
//
// Example:
//   ASSIGN_OR_RETURN(uint64_t n, ParseHeaderLength(prefix8, file_size, path));
//   ASSIGN_OR_RETURN(Header h, ParseHeader(header_bytes /* n bytes */,
//                                          file_size, path));
//   for (const TensorInfo& t : h.tensors) { ... h.data_offset() + t.begin ... }
//
// or, with the whole file in memory (or mapped): ParseFile(bytes, path).
//
// Thread-safety: pure functions; a Header is an immutable value once built.
#ifndef WEIGHTSERVER_FORMAT_HEADER_H_
#define WEIGHTSERVER_FORMAT_HEADER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "weightserver/format/dtype.h"

namespace weightserver::format {

// The reference's limit on N (decimal 100 MB).
inline constexpr uint64_t kMaxHeaderSize = 100'000'000;
// Size of the little-endian u64 length prefix.
inline constexpr uint64_t kHeaderPrefixSize = 8;

struct TensorInfo {
  std::string name;             // Any bytes; may contain NUL.
  DType dtype = DType::kU8;
  std::vector<uint64_t> shape;  // Empty for a scalar.
  uint64_t begin = 0;           // [begin, end) relative to the data section.
  uint64_t end = 0;

  uint64_t size() const { return end - begin; }
  // Number of elements (product of shape; 1 for a scalar). Validated headers
  // guarantee it does not overflow.
  uint64_t num_elements() const;
};

struct Header {
  // N: the header length, padding included.
  uint64_t header_size = 0;
  // Tensors sorted by (begin, end), i.e. in data order.
  std::vector<TensorInfo> tensors;
  // `__metadata__`: nullopt when absent (or JSON null); sorted by key.
  std::optional<std::map<std::string, std::string>> metadata;

  // First byte of the data section, from the start of the file.
  uint64_t data_offset() const { return kHeaderPrefixSize + header_size; }
  // Sum of the tensor sizes, i.e. the size of the data section.
  uint64_t data_size() const {
    return tensors.empty() ? 0 : tensors.back().end;
  }
  // The tensor named `name`, or nullptr. O(1).
  const TensorInfo* Find(absl::string_view name) const;

  // name -> index into `tensors`; built by the parser.
  absl::flat_hash_map<std::string, size_t> index;
};

// Steps 1-3 of the reference order: reads N from the first bytes of a file of
// `file_size` bytes. `prefix` holds the file's first min(8, file_size) bytes.
// `source` names the file in messages.
//
// Returns N, or a DataLoss format error:
//   HeaderTooSmall       fewer than 8 bytes;
//   HeaderTooLarge       N > kMaxHeaderSize;
//   InvalidHeaderLength  8 + N > file_size.
absl::StatusOr<uint64_t> ParseHeaderLength(absl::Span<const std::byte> prefix,
                                           uint64_t file_size,
                                           absl::string_view source);

// Steps 4-7: validates the N header bytes `header_json` (the bytes after the
// prefix) of a file of `file_size` bytes and returns the parsed header.
//
// Errors (DataLoss, in this order of checking):
//   InvalidHeader                 not valid UTF-8;
//   InvalidHeaderDeserialization  not JSON, not an object, wrong schema, unknown
//                                 dtype, non-string metadata, duplicate key,
//                                 trailing non-whitespace;
//   InvalidOffset                 gap, overlap, reversed range, first != 0;
//   ValidationOverflow            element or bit count overflows 64 bits;
//   MisalignedSlice               bit count not a multiple of 8;
//   TensorInvalidInfo             end - begin != byte size of shape x dtype;
//   MetadataIncompleteBuffer      8 + N + data size != file_size.
// Messages name the tensor involved and its numbers.
absl::StatusOr<Header> ParseHeader(absl::Span<const std::byte> header_json,
                                   uint64_t file_size, absl::string_view source);

// Both steps over a whole file's bytes.
absl::StatusOr<Header> ParseFile(absl::Span<const std::byte> file,
                                 absl::string_view source);

// Byte size of `num_elements` elements of `dtype`, with the reference's
// checks: ValidationOverflow when the bit count overflows, MisalignedSlice when
// it is not a multiple of 8. `what` names the tensor in messages.
absl::StatusOr<uint64_t> TensorByteSize(DType dtype,
                                        absl::Span<const uint64_t> shape,
                                        absl::string_view source,
                                        absl::string_view what);

}  // namespace weightserver::format

#endif  // WEIGHTSERVER_FORMAT_HEADER_H_
