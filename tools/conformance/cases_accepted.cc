// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/cases_accepted.cc: files the reference reader accepts
// (safetensors.md §9 "inputs that must be accepted", the writer's outputs,
// the PR #84 legacy samples) and more: every dtype, zero-sized tensors in
// every position, unusual names, metadata and JSON layouts.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tools/conformance/case_builder.h"

namespace weightserver::conformance::internal {
namespace {

// `value`'s low `bytes` bytes, little-endian.
std::string LeBytes(uint64_t value, int bytes) {
  return Le64(value).substr(0, bytes);
}

// Six elements -3..2 of `dtype` (an 8-, 16-, 32- or 64-bit type of PR #84),
// little-endian.
std::string MinusThreeToTwo(absl::string_view dtype) {
  std::string out;
  for (int v = -3; v <= 2; ++v) {
    if (dtype == "F16") {
      static const uint16_t kHalf[] = {0xc200, 0xc000, 0xbc00, 0, 0x3c00, 0x4000};
      out += LeBytes(kHalf[v + 3], 2);
    } else if (dtype == "F32") {
      out += LeBytes(std::bit_cast<uint32_t>(static_cast<float>(v)), 4);
    } else if (dtype == "F64") {
      out += LeBytes(std::bit_cast<uint64_t>(static_cast<double>(v)), 8);
    } else {
      const int bytes = dtype.size() == 2 ? 1 : (dtype[1] == '1' ? 2 : 4);
      out += LeBytes(static_cast<uint64_t>(static_cast<int64_t>(v)), bytes);
    }
  }
  return out;
}

// "t_f8_e4m3fnuz" for "F8_E4M3FNUZ".
std::string Lower(absl::string_view name) {
  return absl::AsciiStrToLower(name);
}

void AddShippedCases(CaseList& c) {
  // The files of ../shared/conformance, rebuilt byte for byte in meaning.
  std::string f32;
  for (int i = 0; i < 6; ++i)
    f32 += LeBytes(std::bit_cast<uint32_t>(static_cast<float>(i)), 4);
  c.Ok("valid_single_f32",
       File(Pad8(Object({Entry("w", Tensor("F32", "[2,3]", 0, 24))})), f32),
       "one F32 [2,3] tensor, writer-padded");
  c.Ok("valid_metadata",
       File(Pad8(Object({Entry("__metadata__", R"({"format":"pt","note":"x"})"),
                         Entry("a", Tensor("F16", "[8]", 0, 16))})),
            Zeros(16)),
       "__metadata__ with two strings and one F16 tensor");
  c.Ok("valid_scalar", File(Object({Entry("s", Tensor("I32", "[]", 0, 4))}), Zeros(4)),
       "an I32 scalar, shape []");
  c.Ok("valid_zero_sized", File(Object({Entry("z", Tensor("F32", "[2,0]", 0, 0))})),
       "F32 [2,0] at [0,0], no data");
  c.Ok("valid_empty_header", File(Pad8("{}")), "{} padded to 8: 16 bytes");
  c.Ok("valid_leading_whitespace", File("\t\n{}\r "),
       "\\t\\n{}\\r  (tensor.rs:1545, accepted since v0.8.0-rc.0)");
  c.Ok("valid_trailing_whitespace", File("{}\r \t\n"),
       "{}\\r \\t\\n (tensor.rs:1535)");
  c.Ok("valid_unknown_tensor_key",
       File(Object({Entry("w", R"({"dtype":"U8","shape":[2],"data_offsets":[0,2],"extra":1})")}),
            Zeros(2)),
       "an unknown key inside a tensor object is ignored (derived)");
  c.Ok("valid_unpadded_unaligned",
       File(Object({Entry("a", Tensor("U8", "[3]", 0, 3)),
                    Entry("b", Tensor("F32", "[2]", 3, 11))}),
            Zeros(11)),
       "an unpadded header and an F32 at data offset 3");
  c.Ok("valid_f4_even", File(Pad8(Object({Entry("q", Tensor("F4", "[3,2]", 0, 3))})),
                             Zeros(3)),
       "F4 [3,2]: 3 bytes");
  // Enum order, except that the sub-byte types follow the 8-bit ones (so
  // that every tensor after them starts 8-byte aligned).
  std::vector<DTypeInfo> dtypes = DTypes();
  std::stable_sort(dtypes.begin(), dtypes.end(),
                   [](const DTypeInfo& a, const DTypeInfo& b) {
                     auto rank = [](int bits) { return bits < 8 ? 12 : bits; };
                     return rank(a.bits) < rank(b.bits);
                   });
  std::vector<std::string> all;
  uint64_t offset = 0;
  for (const DTypeInfo& d : dtypes) {
    const uint64_t bytes = 8 * d.bits / 8;
    all.push_back(Entry(absl::StrCat("t_", Lower(d.name)),
                        Tensor(d.name, "[4,2]", offset, offset + bytes)));
    offset += bytes;
  }
  c.Ok("valid_all_dtypes", File(Pad8(Object(all)), Zeros(offset)),
       "all 22 dtypes, [4,2] each");
}

void AddDTypeCases(CaseList& c) {
  for (const DTypeInfo& d : DTypes()) {
    const std::string lower = Lower(d.name);
    const uint64_t bytes = 8 * d.bits / 8;
    c.Ok(absl::StrCat("valid_dtype_", lower),
         File(Pad8(Object({Entry("w", Tensor(d.name, "[2,4]", 0, bytes))})),
              std::string(bytes, '\x5a')),
         absl::StrCat(d.name, " [2,4]: ", bytes, " bytes"));
    if (d.bits % 8 == 0) {
      c.Ok(absl::StrCat("valid_dtype_", lower, "_scalar"),
           File(Object({Entry("s", Tensor(d.name, "[]", 0, d.bits / 8))}),
                std::string(d.bits / 8, '\x01')),
           absl::StrCat("a ", d.name, " scalar"));
    }
  }
  c.Ok("valid_c64_minus_one_plus_i",
       File(Object({Entry("z", Tensor("C64", "[1]", 0, 8))}),
            std::string("\x00\x00\x80\xbf\x00\x00\x80\x3f", 8)),
       "C64 -1+1j as 00 00 80 bf 00 00 80 3f (test_pt_comparison.py:93)");
  c.Ok("valid_f4_2x3", File(Object({Entry("q", Tensor("F4", "[2,3]", 0, 3))}), Zeros(3)),
       "F4 [2,3]: odd last dimension, even total: nothing is per dimension");
  c.Ok("valid_f4_1x2", File(Object({Entry("q", Tensor("F4", "[1,2]", 0, 1))}), Zeros(1)),
       "F4 [1,2]: 1 byte");
  c.Ok("valid_f4_zero", File(Object({Entry("q", Tensor("F4", "[3,0]", 0, 0))})),
       "F4 [3,0]: 0 bits is a whole byte count");
  c.Ok("valid_f6_e2m3_four", File(Object({Entry("q", Tensor("F6_E2M3", "[4]", 0, 3))}),
                                  Zeros(3)),
       "F6_E2M3 [4]: 3 bytes");
  c.Ok("valid_f6_e3m2_2x2x2",
       File(Object({Entry("q", Tensor("F6_E3M2", "[2,2,2]", 0, 6))}), Zeros(6)),
       "F6_E3M2 [2,2,2]: 6 bytes");
  c.Ok("valid_f6_zero", File(Object({Entry("q", Tensor("F6_E2M3", "[0]", 0, 0))})),
       "F6_E2M3 [0]");
  c.Ok("valid_sub_byte_mixed",
       File(Object({Entry("a", Tensor("F4", "[2]", 0, 1)),
                    Entry("b", Tensor("F6_E3M2", "[4]", 1, 4)),
                    Entry("c", Tensor("F4", "[6]", 4, 7))}),
            Zeros(7)),
       "F4 and F6 tensors back to back at odd offsets");
  c.Ok("valid_bool_values_unchecked",
       File(Object({Entry("m", Tensor("BOOL", "[3]", 0, 3))}), "\x02\xff\x01"),
       "BOOL bytes 02 ff 01: values are not validated");
  c.Ok("valid_f32_nan_inf",
       File(Object({Entry("x", Tensor("F32", "[3]", 0, 12))}),
            std::string("\x00\x00\xc0\x7f\x00\x00\x80\x7f\x00\x00\x80\xff", 12)),
       "F32 NaN, +Inf, -Inf: values are not validated");
}

void AddZeroSizedCases(CaseList& c) {
  c.Ok("valid_rust_zero_sized",
       File(R"({"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}})"),
       "I32 [2,0], N = 60, no data (tensor.rs:1552)");
  c.Ok("valid_zero_sized_first",
       File(Object({Entry("z", Tensor("F32", "[0]", 0, 0)),
                    Entry("a", Tensor("U8", "[4]", 0, 4))}),
            Zeros(4)),
       "a zero-sized tensor at [0,0] before a tensor at [0,4]");
  c.Ok("valid_zero_sized_middle",
       File(Object({Entry("a", Tensor("U8", "[4]", 0, 4)),
                    Entry("z", Tensor("I64", "[3,0,2]", 4, 4)),
                    Entry("b", Tensor("U8", "[4]", 4, 8))}),
            Zeros(8)),
       "a zero-sized tensor between two others");
  c.Ok("valid_zero_sized_last",
       File(Object({Entry("a", Tensor("U8", "[4]", 0, 4)),
                    Entry("z", Tensor("BF16", "[0,7]", 4, 4))}),
            Zeros(4)),
       "a zero-sized tensor at the end of the data");
  c.Ok("valid_zero_sized_shared_offset",
       File(Object({Entry("a", Tensor("U8", "[2]", 0, 2)),
                    Entry("z1", Tensor("F16", "[0]", 2, 2)),
                    Entry("z2", Tensor("F32", "[0,4]", 2, 2)),
                    Entry("z3", Tensor("C64", "[5,0]", 2, 2)),
                    Entry("b", Tensor("U8", "[2]", 2, 4))}),
            Zeros(4)),
       "three zero-sized tensors sharing one offset");
  std::vector<std::string> zeros;
  for (int i = 0; i < 50; ++i)
    zeros.push_back(Entry(absl::StrCat("z", i), Tensor("F32", "[0]", 0, 0)));
  c.Ok("valid_zero_sized_only", File(Object(zeros)),
       "50 zero-sized tensors, all at [0,0], no data");
  c.Ok("valid_zero_sized_u8", File(Object({Entry("z", Tensor("U8", "[0]", 0, 0))})),
       "U8 [0]");
}

void AddRustAndWriterCases(CaseList& c) {
  c.Ok("valid_rust_deserialization",
       File(R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})",
            Zeros(16)),
       "I32 [2,2], N = 60, + 16 zeros (tensor.rs:1383)");
  c.Ok("valid_rust_empty_shape",
       File(R"({"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}})",
            Zeros(4)),
       "I32 [] at [0,4], N = 56 (tensor.rs:1370)");
  c.Ok("valid_writer_attn0",
       File(Pad8(Object({Entry("attn.0", Tensor("F32", "[1,2,3]", 0, 24))})),
            Zeros(24)),
       "the writer's F32 [1,2,3] \"attn.0\": N = 64, 96 bytes (tensor.rs:1066)");
  c.Ok("valid_writer_fp4",
       File(Pad8(Object({Entry("test", Tensor("F4", "[1,2]", 0, 1))})), Zeros(1)),
       "the writer's F4 [1,2]: 1 data byte (tensor.rs:1091)");
  c.Ok("valid_writer_metadata_only",
       File(Pad8(Object({Entry("__metadata__", R"({"framework":"pt"})")}))),
       "the writer's metadata-only file: N = 40 (tensor.rs:1133)");
  c.Ok("valid_writer_two_dtypes",
       File(Pad8(Object({Entry("test1", Tensor("I32", "[2,2]", 0, 16)),
                         Entry("test2", Tensor("F16", "[2,2]", 16, 24))})),
            Zeros(24)),
       "I32 then F16: N = 128 (test_simple.py:84)");
}

// PR #84's samples/ (commit bd71d43): shape [6], values -3..2, metadata
// {"test":"a"}, unpadded; "overall" holds all nine, ordered by name (so
// unaligned). Rebuilt from their documented sizes (safetensors.md §9).
void AddLegacyCases(CaseList& c) {
  const struct {
    const char* letter;  // The tensor's name and Python's struct format char.
    const char* dtype;
    int bytes;
  } kSamples[] = {{"B", "U8", 1},  {"H", "U16", 2}, {"I", "U32", 4},
                  {"b", "I8", 1},  {"d", "F64", 8}, {"e", "F16", 2},
                  {"f", "F32", 4}, {"h", "I16", 2}, {"i", "I32", 4}};
  const std::string meta = Entry("__metadata__", R"({"test":"a"})");
  std::vector<std::string> overall = {meta};
  std::string overall_data;
  for (const auto& s : kSamples) {
    const uint64_t size = 6 * s.bytes;
    c.Ok(absl::StrCat("valid_pr84_", s.letter, "_", Lower(s.dtype)),
         File(Object({meta, Entry(s.letter, Tensor(s.dtype, "[6]", 0, size))}),
              MinusThreeToTwo(s.dtype)),
         absl::StrCat("PR #84 sample ", s.letter, ": one ", s.dtype,
                      " [6], unpadded"));
    overall.push_back(Entry(s.letter, Tensor(s.dtype, "[6]", overall_data.size(),
                                             overall_data.size() + size)));
    overall_data += MinusThreeToTwo(s.dtype);
  }
  c.Ok("valid_pr84_overall", File(Object(overall), overall_data),
       "PR #84 sample overall: nine dtypes by name, N = 526, 702 bytes");
}

void AddNameAndLayoutCases(CaseList& c) {
  const std::string u8 = Tensor("U8", "[1]", 0, 1);
  c.Ok("valid_nul_in_name", File(Object({Entry("a\\u0000b", u8)}), Zeros(1)),
       "a name with an escaped NUL (issue #748: not rejected)");
  c.Ok("valid_nul_names_distinct",
       File(Object({Entry("w", Tensor("U8", "[1]", 0, 1)),
                    Entry("w\\u0000x", Tensor("U8", "[1]", 1, 2))}),
            Zeros(2)),
       "\"w\" and \"w\\0x\": distinct names a C-string reader would merge");
  c.Ok("valid_escaped_names",
       File(Object({Entry("q\\\"uote", Tensor("U8", "[1]", 0, 1)),
                    Entry("back\\\\slash", Tensor("U8", "[1]", 1, 2)),
                    Entry("tab\\tnewline\\n", Tensor("U8", "[1]", 2, 3)),
                    Entry("\\u00e9\\/\\ud83d\\ude00", Tensor("U8", "[1]", 3, 4))}),
            Zeros(4)),
       "names with escapes, a surrogate pair among them");
  c.Ok("valid_utf8_names",
       File(Object({Entry("caf\xc3\xa9", Tensor("U8", "[1]", 0, 1)),
                    Entry("\xe4\xb8\xad\xe6\x96\x87", Tensor("U8", "[1]", 1, 2)),
                    Entry("\xf0\x9f\x99\x82", Tensor("U8", "[1]", 2, 3))}),
            Zeros(3)),
       "names in raw 2-, 3- and 4-byte UTF-8");
  c.Ok("valid_empty_name", File(Object({Entry("", u8)}), Zeros(1)),
       "a tensor named \"\"");
  c.Ok("valid_long_name", File(Object({Entry(std::string(10000, 'n'), u8)}), Zeros(1)),
       "a 10,000-byte name: there is no name-length limit");
  c.Ok("valid_path_like_name", File(Object({Entry("../../etc/passwd", u8)}), Zeros(1)),
       "a name that looks like a path is just a name");
  c.Ok("valid_metadata_null", File(Object({Entry("__metadata__", "null")})),
       "__metadata__: null means no metadata");
  c.Ok("valid_metadata_empty", File(Object({Entry("__metadata__", "{}")})),
       "__metadata__: {}");
  c.Ok("valid_metadata_after_tensors",
       File(Object({Entry("w", u8), Entry("__metadata__", R"({"k":"v"})")}), Zeros(1)),
       "__metadata__ after the tensors: key order does not matter");
  c.Ok("valid_metadata_key_escaped",
       File(Object({Entry("\\u005f_metadata__", R"({"k":"v"})")})),
       "__metadata__ spelled with an escape is still __metadata__");
  c.Ok("valid_metadata_escaped_values",
       File(Object({Entry("__metadata__",
                          R"({"a":"line\nbreak","\u00e9":"\u0000","e":""})")})),
       "metadata keys and values with escapes, NUL, and empty");
  std::vector<std::string> many;
  for (int i = 0; i < 1000; ++i)
    many.push_back(absl::StrCat("\"key", i, "\":\"value", i, "\""));
  c.Ok("valid_metadata_many",
       File(Object({Entry("__metadata__", Object(many))})), "1,000 metadata entries");
  c.Ok("valid_reverse_key_order",
       File(Object({Entry("c", Tensor("U8", "[1]", 2, 3)),
                    Entry("b", Tensor("U8", "[1]", 1, 2)),
                    Entry("a", Tensor("U8", "[1]", 0, 1))}),
            Zeros(3)),
       "tensors listed in reverse data order");
  c.Ok("valid_pretty_printed",
       File("{\n  \"__metadata__\" : { \"k\" : \"v\" } ,\n"
            "\t\"w\" :\r\n {\n    \"data_offsets\" : [ 0 , 4 ] ,\n"
            "    \"shape\" : [ 2 , 2 ] ,\n    \"dtype\" : \"U8\"\n  }\n}\n",
            Zeros(4)),
       "whitespace everywhere the grammar allows it, fields reordered");
  c.Ok("valid_leading_spaces_many", File(std::string(1000, ' ') + "{}"),
       "1,000 leading spaces (page-aligned padding at the front)");
  c.Ok("valid_padded_to_4096",
       File("{}" + std::string(4094, ' ')), "{} padded with spaces to 4,096 bytes");
  c.Ok("valid_extra_key_nested",
       File(Object({Entry("w", R"({"dtype":"U8","extra":{"a":[1,{"b":null}],"c":-1.5e9},"shape":[1],"data_offsets":[0,1]})")}),
            Zeros(1)),
       "an unknown key with a nested value, before the known ones");
  c.Ok("valid_extra_keys_many",
       File(Object({Entry("w", R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"a":null,"b":true,"c":"x","d":[],"e":{}})")}),
            Zeros(1)),
       "unknown keys of every JSON type");
  std::vector<std::string> tensors;
  for (int i = 0; i < 10000; ++i)
    tensors.push_back(Entry(absl::StrCat("layer.", i), Tensor("U8", "[1]", i, i + 1)));
  c.Ok("valid_many_tensors", File(Pad8(Object(tensors)), Zeros(10000)),
       "10,000 tensors");
}

}  // namespace

void AddAcceptedCases(CaseList& c) {
  AddShippedCases(c);
  AddDTypeCases(c);
  AddZeroSizedCases(c);
  AddRustAndWriterCases(c);
  AddLegacyCases(c);
  AddNameAndLayoutCases(c);
}

}  // namespace weightserver::conformance::internal
