// Copyright 2026 The Weightserver Authors.
//
// format/header.cc: the reference reader's checks (safetensors.md §4), in its
// order. Steps 1-3 look at the length prefix, 4 at the bytes, 5 at the JSON
// (header_json.cc), 6 at the offsets and sizes, 7 at the file size.
#include "format/header.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "weightserver/format/errors.h"
#include "format/header_json.h"
#include "format/utf8.h"
#include "util/status_macros.h"

namespace weightserver::format {
namespace {

using internal::FormatShape;
using internal::QuoteName;

absl::Status DataLoss(ErrorKind kind, absl::string_view source,
                      absl::string_view detail) {
  return FormatError(absl::StatusCode::kDataLoss, kind, source, detail);
}

absl::string_view AsChars(absl::Span<const std::byte> bytes) {
  return absl::string_view(reinterpret_cast<const char*>(bytes.data()),
                           bytes.size());
}

// Step 6 for one tensor, whose range must begin at `expected_begin`.
absl::Status ValidateTensor(const TensorInfo& t, uint64_t expected_begin,
                            absl::string_view source) {
  if (t.begin != expected_begin) {
    return DataLoss(
        ErrorKind::kInvalidOffset, source,
        absl::StrCat("tensor ", QuoteName(t.name), ": data_offsets [", t.begin,
                     ", ", t.end, ") begin at ", t.begin, ", expected ",
                     expected_begin));
  }
  if (t.end < t.begin) {
    return DataLoss(
        ErrorKind::kInvalidOffset, source,
        absl::StrCat("tensor ", QuoteName(t.name), ": data_offsets [", t.begin,
                     ", ", t.end, ") end before they begin"));
  }
  ASSIGN_OR_RETURN(uint64_t size,
                   TensorByteSize(t.dtype, t.shape, source,
                                  absl::StrCat("tensor ", QuoteName(t.name))));
  if (t.end - t.begin != size) {
    return DataLoss(
        ErrorKind::kTensorInvalidInfo, source,
        absl::StrCat("tensor ", QuoteName(t.name), ": data_offsets [", t.begin,
                     ", ", t.end, ") hold ", t.end - t.begin, " bytes, but ",
                     DTypeName(t.dtype), " ", FormatShape(t.shape), " needs ",
                     size));
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t TensorInfo::num_elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

const TensorInfo* Header::Find(absl::string_view name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

absl::StatusOr<uint64_t> TensorByteSize(DType dtype,
                                        absl::Span<const uint64_t> shape,
                                        absl::string_view source,
                                        absl::string_view what) {
  // Left to right with checked products, like the reference's try_fold: a
  // zero after an overflowing prefix does not rescue it.
  uint64_t elements = 1;
  for (uint64_t d : shape) {
    if (__builtin_mul_overflow(elements, d, &elements)) {
      return DataLoss(
          ErrorKind::kValidationOverflow, source,
          absl::StrCat(what, ": element count of shape [",
                       absl::StrJoin(shape, ", "), "] overflows 64 bits"));
    }
  }
  const int bits_per_element = DTypeBits(dtype);
  uint64_t bits = 0;
  if (__builtin_mul_overflow(elements, static_cast<uint64_t>(bits_per_element),
                             &bits)) {
    return DataLoss(
        ErrorKind::kValidationOverflow, source,
        absl::StrCat(what, ": bit count of ", elements, " elements of ",
                     DTypeName(dtype), " overflows 64 bits"));
  }
  if (bits % 8 != 0) {
    return DataLoss(
        ErrorKind::kMisalignedSlice, source,
        absl::StrCat(what, ": ", elements, " elements of ", DTypeName(dtype),
                     " are ", bits, " bits, not a whole number of bytes"));
  }
  return bits / 8;
}

absl::StatusOr<uint64_t> ParseHeaderLength(absl::Span<const std::byte> prefix,
                                           uint64_t file_size,
                                           absl::string_view source) {
  if (file_size < kHeaderPrefixSize || prefix.size() < kHeaderPrefixSize) {
    return DataLoss(ErrorKind::kHeaderTooSmall, source,
                    absl::StrCat("file has ", file_size,
                                 " bytes, fewer than the 8-byte length"));
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) {
    n = (n << 8) | static_cast<uint8_t>(prefix[i]);
  }
  if (n > kMaxHeaderSize) {
    return DataLoss(ErrorKind::kHeaderTooLarge, source,
                    absl::StrCat("header length ", n, " exceeds the limit of ",
                                 kMaxHeaderSize, " bytes"));
  }
  // n <= 1e8, so 8 + n cannot overflow.
  if (kHeaderPrefixSize + n > file_size) {
    return DataLoss(ErrorKind::kInvalidHeaderLength, source,
                    absl::StrCat("header of ", n,
                                 " bytes runs past the end of"
                                 " the file (",
                                 file_size, " bytes)"));
  }
  return n;
}

absl::StatusOr<Header> ParseHeader(absl::Span<const std::byte> header_json,
                                   uint64_t file_size,
                                   absl::string_view source) {
  const uint64_t n = header_json.size();
  // Steps 2-3 again, for callers that did not come through ParseHeaderLength.
  if (n > kMaxHeaderSize) {
    return DataLoss(ErrorKind::kHeaderTooLarge, source,
                    absl::StrCat("header length ", n, " exceeds the limit of ",
                                 kMaxHeaderSize, " bytes"));
  }
  if (file_size < kHeaderPrefixSize || kHeaderPrefixSize + n > file_size) {
    return DataLoss(ErrorKind::kInvalidHeaderLength, source,
                    absl::StrCat("header of ", n,
                                 " bytes runs past the end of"
                                 " the file (",
                                 file_size, " bytes)"));
  }
  // Step 4.
  const absl::string_view text = AsChars(header_json);
  const size_t bad = FirstInvalidUtf8(text);
  if (bad != text.size()) {
    return DataLoss(
        ErrorKind::kInvalidHeader, source,
        absl::StrCat("header is not valid UTF-8 (byte ", bad, " of ", n, ")"));
  }
  // Step 5.
  ASSIGN_OR_RETURN(internal::ParsedJson parsed,
                   internal::ParseHeaderJson(text, source));
  Header header;
  header.header_size = n;
  header.metadata = std::move(parsed.metadata);
  header.tensors = std::move(parsed.tensors);
  // Step 6. Names break ties so that messages are deterministic.
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) {
              return std::tie(a.begin, a.end, a.name) <
                     std::tie(b.begin, b.end, b.name);
            });
  uint64_t end = 0;
  for (const TensorInfo& t : header.tensors) {
    RETURN_IF_ERROR(ValidateTensor(t, end, source));
    end = t.end;
  }
  // Step 7. file_size >= 8 + n was checked above.
  if (end != file_size - kHeaderPrefixSize - n) {
    return DataLoss(
        ErrorKind::kMetadataIncompleteBuffer, source,
        absl::StrCat("data section should be ", end, " bytes (file of ",
                     kHeaderPrefixSize + n + end, " bytes), but the file has ",
                     file_size, " bytes"));
  }
  header.index.reserve(header.tensors.size());
  for (size_t i = 0; i < header.tensors.size(); ++i) {
    header.index.emplace(header.tensors[i].name, i);
  }
  return header;
}

absl::StatusOr<Header> ParseFile(absl::Span<const std::byte> file,
                                 absl::string_view source) {
  ASSIGN_OR_RETURN(
      uint64_t n,
      ParseHeaderLength(file.subspan(0, std::min<size_t>(file.size(), 8)),
                        file.size(), source));
  return ParseHeader(file.subspan(kHeaderPrefixSize, n), file.size(), source);
}

}  // namespace weightserver::format
