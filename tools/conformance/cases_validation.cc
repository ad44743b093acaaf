// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/cases_validation.cc: steps 6 and 7 of the reference
// reader (safetensors.md §4). Tensors are walked in (begin, end) order; for
// each: InvalidOffset, then ValidationOverflow, then MisalignedSlice, then
// TensorInvalidInfo; then the data must end exactly at the end of the file
// (MetadataIncompleteBuffer). "tensor.rs:N" names a Rust test vector of §9.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/conformance/case_builder.h"

namespace weightserver::conformance::internal {
namespace {

constexpr char kOffset[] = "InvalidOffset";
constexpr char kOverflow[] = "ValidationOverflow";
constexpr char kMisaligned[] = "MisalignedSlice";
constexpr char kInfo[] = "TensorInvalidInfo";
constexpr char kIncomplete[] = "MetadataIncompleteBuffer";

// One tensor "w" of `dtype`/`shape` at [begin, end), then `data` bytes.
std::string One(absl::string_view dtype, absl::string_view shape, uint64_t begin,
                uint64_t end, uint64_t data) {
  return File(Object({Entry("w", Tensor(dtype, shape, begin, end))}),
              Zeros(data));
}

void AddOffsetCases(CaseList& c) {
  std::vector<std::string> same;
  for (int i = 0; i < 10; ++i)
    same.push_back(Entry(absl::StrCat("k", i), Tensor("F32", "[2, 2]", 0, 16)));
  c.Bad("bad_all_same_offsets", kOffset, File(Object(same), Zeros(16)),
        "10 F32 [2,2] tensors all at [0,16] (tensor.rs:1413, test_json_attack)");
  c.Bad("bad_first_not_zero", kOffset, One("U8", "[4]", 4, 8, 8),
        "the first tensor at [4,8] (derived)");
  c.Bad("bad_gap", kOffset,
        File(Object({Entry("a", Tensor("U8", "[4]", 0, 4)),
                     Entry("b", Tensor("U8", "[4]", 8, 12))}),
             Zeros(12)),
        "a gap [4,8) between two tensors (derived)");
  c.Bad("bad_overlap", kOffset,
        File(Object({Entry("a", Tensor("U8", "[4]", 0, 4)),
                     Entry("b", Tensor("U8", "[4]", 2, 6))}),
             Zeros(6)),
        "two tensors overlapping in [2,4) (derived)");
  c.Bad("bad_reversed", kOffset, One("U8", "[2]", 2, 0, 2),
        "end < begin, [2,0] (derived)");
  c.Bad("bad_reversed_after_first", kOffset,
        File(Object({Entry("a", Tensor("U8", "[2]", 0, 2)),
                     Entry("b", Tensor("U8", "[0]", 2, 1))}),
             Zeros(2)),
        "a second tensor at [2,1]");
  c.Bad("bad_contained", kOffset,
        File(Object({Entry("a", Tensor("U8", "[8]", 0, 8)),
                     Entry("b", Tensor("U8", "[2]", 2, 4))}),
             Zeros(8)),
        "one tensor inside another");
  c.Bad("bad_zero_sized_in_gap", kOffset,
        File(Object({Entry("a", Tensor("U8", "[1]", 0, 1)),
                     Entry("z", Tensor("U8", "[0]", 2, 2))}),
             Zeros(1)),
        "a zero-sized tensor at [2,2] after one that ends at 1");
  c.Bad("bad_zero_sized_not_at_zero", kOffset, One("U8", "[0]", 1, 1, 1),
        "a lone zero-sized tensor at [1,1]");
  c.Bad("bad_offset_2_40", kOffset,
        One("U8", "[1]", uint64_t{1} << 40, (uint64_t{1} << 40) + 1, 1),
        "the only tensor at [2^40, 2^40+1]");
  c.Bad("bad_offset_u64_max", kOffset,
        One("U8", "[0]", UINT64_MAX, UINT64_MAX, 0),
        "a zero-sized tensor at [2^64-1, 2^64-1]");
  // The walk is in data order, not name order: "z" (at 0) has the wrong
  // size and comes before "a", whose offset is wrong.
  c.Bad("bad_first_error_in_data_order", kInfo,
        File(Object({Entry("a", Tensor("U8", "[4]", 5, 9)),
                     Entry("z", Tensor("U8", "[3]", 0, 4))}),
             Zeros(9)),
        "errors in two tensors: the one first in data order is reported");
  // Within one tensor the offset is checked before its size.
  c.Bad("bad_offset_before_overflow", kOffset,
        One("U8", "[18446744073709551615, 2]", 1, 2, 2),
        "an overflowing shape at a wrong offset: InvalidOffset first");
}

void AddSizeCases(CaseList& c) {
  // Overflow of the element count (left-to-right checked products) or of
  // the bit count.
  c.Bad("bad_overflow_elements", kOverflow,
        One("U8", "[2, 18446744073709551614]", 0, 1, 1),
        "U8 [2, 2^64-2]: the element count overflows");
  c.Bad("bad_rust_overflow_elements", kOverflow,
        File(Object({Entry("test", Tensor("I32", "[2,18446744073709551614]", 0, 16))}),
             Zeros(16)),
        "I32 [2, 2^64-2], N = 79 (tensor.rs:1575, test_validation_overflow)");
  c.Bad("bad_rust_overflow_bits", kOverflow,
        File(Object({Entry("test", Tensor("I32", "[2,9223372036854775807]", 0, 16))}),
             Zeros(16)),
        "I32 [2, 2^63-1], N = 78: the element count fits, the bit count does "
        "not (tensor.rs:1575)");
  c.Bad("bad_overflow_bits_f64", kOverflow,
        One("F64", "[2305843009213693952]", 0, 8, 8),
        "F64 [2^61]: 2^67 bits");
  c.Bad("bad_overflow_bits_f4", kOverflow,
        One("F4", "[4611686018427387904]", 0, 1, 1),
        "F4 [2^62]: exactly 2^64 bits");
  c.Bad("bad_overflow_bits_u8", kOverflow,
        One("U8", "[2305843009213693952]", 0, 1, 1),
        "U8 [2^61]: exactly 2^64 bits (the byte count would fit)");
  c.Bad("bad_overflow_bits_byte_count_fits", kOverflow,
        One("U8", "[9223372036854775807]", 0, 9223372036854775807, 0),
        "U8 [2^63-1] at [0, 2^63-1]: offsets and bytes fit, bits overflow");
  c.Bad("bad_overflow_three_dims", kOverflow,
        One("U8", "[4294967296, 4294967296, 1]", 0, 1, 1),
        "U8 [2^32, 2^32, 1]");
  c.Bad("bad_overflow_before_zero_dim", kOverflow,
        One("U8", "[18446744073709551615, 18446744073709551615, 0]", 0, 0, 0),
        "[2^64-1, 2^64-1, 0]: the product overflows before it meets the 0");
  c.Ok("valid_zero_dim_before_overflow",
       One("U8", "[0, 18446744073709551615, 18446744073709551615]", 0, 0, 0),
       "[0, 2^64-1, 2^64-1]: 0 times anything stays 0 (left to right)");
  c.Ok("valid_zero_dim_huge_other",
       One("F64", "[9223372036854775808, 0]", 0, 0, 0),
       "F64 [2^63, 0]: no overflow, 0 elements");

  // Sub-byte dtypes: the bit count must be a multiple of 8, checked before
  // the byte count.
  c.Bad("bad_f4_odd", kMisaligned, One("F4", "[3]", 0, 1, 1),
        "F4 [3]: 12 bits (derived)");
  c.Bad("bad_f4_scalar", kMisaligned, One("F4", "[]", 0, 1, 1),
        "an F4 scalar: 4 bits");
  c.Bad("bad_f4_1x3", kMisaligned, One("F4", "[1,3]", 0, 2, 2),
        "F4 [1,3] (tensor.rs:1114, test_serialization_fp4_misaligned)");
  c.Bad("bad_f4_3x3", kMisaligned, One("F4", "[3,3]", 0, 5, 5),
        "F4 [3,3]: 36 bits");
  c.Bad("bad_f4_odd_wrong_size", kMisaligned, One("F4", "[3]", 0, 7, 7),
        "F4 [3] at [0,7]: MisalignedSlice before TensorInvalidInfo");
  c.Bad("bad_f6_e2m3_one", kMisaligned, One("F6_E2M3", "[1]", 0, 1, 1),
        "F6_E2M3 [1]: 6 bits");
  c.Bad("bad_f6_e3m2_two", kMisaligned, One("F6_E3M2", "[2]", 0, 2, 2),
        "F6_E3M2 [2]: 12 bits");
  c.Bad("bad_f6_e2m3_five", kMisaligned, One("F6_E2M3", "[5]", 0, 4, 4),
        "F6_E2M3 [5]: 30 bits");
  c.Bad("bad_f6_e3m2_scalar", kMisaligned, One("F6_E3M2", "[]", 0, 1, 1),
        "an F6_E3M2 scalar");
  c.Bad("bad_misaligned_second", kMisaligned,
        File(Object({Entry("a", Tensor("F4", "[2]", 0, 1)),
                     Entry("b", Tensor("F4", "[1]", 1, 2))}),
             Zeros(2)),
        "F4 [2] (fine) then F4 [1]");

  // The byte count must equal end - begin.
  c.Bad("bad_rust_invalid_info", kInfo,
        File(R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0, 4]}})"),
        "I32 [2,2] at [0, 4], N = 60, no data (tensor.rs:1564)");
  c.Bad("bad_shape_size_mismatch", kInfo,
        File(R"({"test":{"dtype":"I32","shape":[2, 2],"data_offsets":[0,4]}})",
             Zeros(4)),
        "I32 [2,2] given 4 bytes");
  c.Bad("bad_size_too_big", kInfo, One("U8", "[2]", 0, 3, 3),
        "U8 [2] given 3 bytes");
  c.Bad("bad_zero_sized_with_bytes", kInfo, One("F32", "[0]", 0, 4, 4),
        "F32 [0] given 4 bytes");
  c.Bad("bad_scalar_wrong_size", kInfo, One("F32", "[]", 0, 8, 8),
        "an F32 scalar given 8 bytes");
  c.Bad("bad_f4_wrong_size", kInfo, One("F4", "[1,2]", 0, 2, 2),
        "F4 [1,2] given 2 bytes (tensor.rs:1122, on read)");
  c.Bad("bad_f6_wrong_size", kInfo, One("F6_E2M3", "[4]", 0, 4, 4),
        "F6_E2M3 [4] given 4 bytes (3 are needed)");
  c.Bad("bad_c64_size_of_f32", kInfo, One("C64", "[2]", 0, 8, 8),
        "C64 [2] given 8 bytes (C64 is 8 bytes an element)");
  c.Bad("bad_bf16_size_of_f32", kInfo, One("BF16", "[4]", 0, 16, 16),
        "BF16 [4] given 16 bytes");
  c.Bad("bad_huge_claim_wrong_size", kInfo,
        One("U8", "[1099511627776]", 0, 1, 1),
        "U8 [2^40] given 1 byte: rejected by arithmetic, nothing allocated");
}

void AddCoverageCases(CaseList& c) {
  const std::string i32 = Pad8(Object({Entry("w", Tensor("I32", "[2,2]", 0, 16))}));
  c.Bad("bad_trailing_bytes", kIncomplete, File(i32, Zeros(50)),
        "I32 [2,2] followed by 34 extra bytes");
  c.Bad("bad_truncated_data", kIncomplete, File(i32, Zeros(14)),
        "I32 [2,2] with 14 of its 16 bytes (tensor.rs:1456)");
  c.Bad("bad_rust_polyglot", kIncomplete,
        File(R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})",
             Zeros(16) + "extra_bogus_data_for_polyglot_file"),
        "a valid file + extra_bogus_data_for_polyglot_file (tensor.rs:1456)");
  c.Bad("bad_empty_header_extra_byte", kIncomplete, File("{}", Zeros(1)),
        "{} followed by 1 byte (derived)");
  c.Bad("bad_metadata_only_extra_bytes", kIncomplete,
        File(Object({Entry("__metadata__", R"({"a":"b"})")}), "payload"),
        "metadata, no tensors, 7 more bytes");
  c.Bad("bad_zero_sized_extra_byte", kIncomplete,
        One("F32", "[2,0]", 0, 0, 1), "a zero-sized tensor and 1 byte");
  c.Bad("bad_data_missing", kIncomplete, One("F32", "[4]", 0, 16, 0),
        "F32 [4] and no data section at all");
  c.Bad("bad_pread_one_byte", kIncomplete,
        One("F32", "[1024,1024]", 0, 4194304, 1),
        "F32 [1024,1024] claiming [0,4194304], 1 byte present "
        "(test_pread_backend.py:136)");
  c.Bad("bad_huge_claim", kIncomplete,
        One("U8", "[1099511627776]", 0, 1099511627776, 0),
        "U8 [2^40] at [0, 2^40] in a tiny file: no allocation");
  c.Bad("bad_huge_claim_two_tensors", kIncomplete,
        File(Object({Entry("a", Tensor("U8", "[1152921504606846976]", 0,
                                       1152921504606846976)),
                     Entry("b", Tensor("U8", "[1152921504606846976]",
                                       1152921504606846976,
                                       2305843009213693952))})),
        "two U8 [2^60] tensors covering [0, 2^61] and no data");
  c.Bad("bad_last_tensor_missing", kIncomplete,
        File(Object({Entry("a", Tensor("U8", "[4]", 0, 4)),
                     Entry("b", Tensor("U8", "[4]", 4, 8))}),
             Zeros(4)),
        "the second tensor's bytes are absent");
}

}  // namespace

void AddValidationCases(CaseList& c) {
  AddOffsetCases(c);
  AddSizeCases(c);
  AddCoverageCases(c);
}

}  // namespace weightserver::conformance::internal
