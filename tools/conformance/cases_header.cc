// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/cases_header.cc: steps 1-5 of the reference reader
// (safetensors.md §4): the length prefix, then the header's UTF-8 and JSON.
// "tensor.rs:N" names a Rust test vector of §9.
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/conformance/case_builder.h"

namespace weightserver::conformance::internal {
namespace {

constexpr char kTooSmall[] = "HeaderTooSmall";
constexpr char kTooLarge[] = "HeaderTooLarge";
constexpr char kLength[] = "InvalidHeaderLength";
constexpr char kUtf8[] = "InvalidHeader";
constexpr char kJson[] = "InvalidHeaderDeserialization";

// A valid one-tensor header for the JSON cases to vary.
std::string U8Header(absl::string_view tensor_body) {
  return Object({Entry("w", absl::StrCat("{", tensor_body, "}"))});
}

}  // namespace

void AddPrefixCases(CaseList& c) {
  // Step 1: fewer than 8 bytes.
  c.Bad("bad_empty_file", kTooSmall, "", "0 bytes (tensor.rs:1490)");
  c.Bad("bad_seven_bytes", kTooSmall, std::string("\x01\0\0\0\0\0\0", 7),
        "7 bytes, a length prefix cut short");
  c.Bad("bad_one_byte", kTooSmall, "{", "1 byte");
  // Step 2: N > 100,000,000, checked before the file size.
  c.Bad("bad_header_too_large", kTooLarge,
        std::string("\x3c\0\0\0\0\xff\xff\xff{}", 10),
        "length bytes 3c 00 00 00 00 ff ff ff (tensor.rs:1478)");
  c.Bad("bad_header_length_100000001", kTooLarge,
        WithLength(100'000'001, "{}"),
        "N = 100,000,001, one past the limit, in a short file (derived)");
  c.Bad("bad_header_length_u64_max", kTooLarge,
        std::string(8, '\xff'), "N = 2^64-1 and nothing else");
  c.Bad("bad_header_length_2_63", kTooLarge, WithLength(uint64_t{1} << 63),
        "N = 2^63 (8 + N overflows nothing yet: step 2 comes first)");
  c.Bad("bad_git_lfs_pointer", kTooLarge,
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
        "size 1234\n",
        "a Git LFS pointer: its first 8 bytes read as a huge N (issue #414)");
  c.Bad("bad_zip_file", kTooLarge,
        std::string("PK\x03\x04\x14\0\0\0\x08\0", 10) + Zeros(40),
        "a zip (torch.save) file's magic as N (issue #414)");
  // Step 3: the header runs past the end of the file.
  c.Bad("bad_header_past_eof", kLength, WithLength(60, "<"),
        "N = 60 with 1 header byte (tensor.rs:1501)");
  c.Bad("bad_header_length_only", kLength, WithLength(60),
        "N = 60 and no further bytes, exactly tensor.rs:1501");
  c.Bad("bad_header_one_byte_short", kLength, WithLength(3, "{}"),
        "N = 3 with 2 header bytes");
  c.Bad("bad_header_length_100000000_short", kLength,
        WithLength(100'000'000, "{}"),
        "N = 100,000,000 (the limit itself, allowed) past the end of file");
}

void AddTextCases(CaseList& c) {
  // Step 4: the N bytes must be UTF-8 (padding included), before any JSON.
  c.Bad("bad_non_utf8", kUtf8, File("\xff"), "N = 1, byte ff (tensor.rs:1512)");
  c.Bad("bad_utf8_in_name", kUtf8,
        File(Object({Entry("w\xfe", Tensor("U8", "[1]", 0, 1))}), Zeros(1)),
        "a raw fe byte inside a tensor name");
  c.Bad("bad_utf8_overlong", kUtf8,
        File(Object({Entry("\xc0\xaf", Tensor("U8", "[1]", 0, 1))}), Zeros(1)),
        "an overlong encoding of '/' (c0 af) in a name");
  c.Bad("bad_utf8_surrogate", kUtf8,
        File(Object({Entry("\xed\xa0\x80", Tensor("U8", "[1]", 0, 1))}),
             Zeros(1)),
        "an encoded surrogate U+D800 (ed a0 80) in a name");
  c.Bad("bad_utf8_above_max", kUtf8,
        File(Object({Entry("\xf4\x90\x80\x80", Tensor("U8", "[1]", 0, 1))}),
             Zeros(1)),
        "a code point above U+10FFFF (f4 90 80 80) in a name");
  c.Bad("bad_utf8_cut_sequence", kUtf8, File("{}\xe2\x82"),
        "the header ends inside a 3-byte sequence");
  c.Bad("bad_utf8_in_padding", kUtf8, File("{}     \xff"),
        "valid JSON, but a non-UTF-8 padding byte: UTF-8 comes first");
  c.Bad("bad_utf8_before_json_error", kUtf8, File("\xff{"),
        "both non-UTF-8 and not JSON: step 4 is reported");

  // Step 5: serde_json into HashMetadata. Syntax first.
  c.Bad("bad_not_json", kJson, File("{"), "N = 1, '{' (tensor.rs:1523)");
  c.Bad("bad_header_length_zero", kJson, WithLength(0),
        "an 8-byte file with N = 0: an empty header (derived)");
  c.Bad("bad_header_only_spaces", kJson, File("        "),
        "a header of 8 spaces and no value");
  c.Bad("bad_json_array", kJson, File("[]"), "the header is [] (derived)");
  c.Bad("bad_json_string", kJson, File("\"{}\""), "the header is a string");
  c.Bad("bad_json_null", kJson, File("null"), "the header is null");
  c.Bad("bad_json_number", kJson, File("8"), "the header is a number");
  c.Bad("bad_bom", kJson, File("\xef\xbb\xbf{}"),
        "a UTF-8 BOM before {}: valid UTF-8, not JSON (derived)");
  c.Bad("bad_nul_padding", kJson, File(std::string("{}\0\0\0\0\0\0", 8)),
        "{} padded with NUL bytes (RuView#1522; derived)");
  c.Bad("bad_trailing_characters", kJson, File("{}x"), "{} then 'x'");
  c.Bad("bad_two_objects", kJson, File("{}{}"), "two JSON objects");
  c.Bad("bad_form_feed", kJson, File("\f{}"),
        "leading form feed: not JSON whitespace");
  c.Bad("bad_nbsp_padding", kJson, File("{}\xc2\xa0"),
        "padded with U+00A0: valid UTF-8, not JSON whitespace");
  c.Bad("bad_vertical_tab_padding", kJson, File("{}\v"),
        "padded with a vertical tab: not JSON whitespace");
  c.Bad("bad_comment", kJson, File("{} //"), "a // comment after {}");
  c.Bad("bad_trailing_comma", kJson,
        File(absl::StrCat("{", Entry("w", Tensor("U8", "[1]", 0, 1)), ",}"),
             Zeros(1)),
        "a trailing comma after the last tensor");
  c.Bad("bad_single_quotes", kJson, File("{'w':1}"), "single-quoted keys");
  c.Bad("bad_unterminated_string", kJson, File("{\"w"), "a key never closed");
  c.Bad("bad_raw_control_in_name", kJson,
        File(Object({Entry("w\x01", Tensor("U8", "[1]", 0, 1))}), Zeros(1)),
        "an unescaped control byte 01 in a name");
  c.Bad("bad_raw_nul_in_name", kJson,
        File(Object({Entry(std::string("w\0", 2), Tensor("U8", "[1]", 0, 1))}),
             Zeros(1)),
        "an unescaped NUL byte in a name (\\u0000 is fine, see valid_*)");
  c.Bad("bad_invalid_escape", kJson,
        File(Object({Entry("w\\x41", Tensor("U8", "[1]", 0, 1))}), Zeros(1)),
        "the escape \\x41 in a name");
  c.Bad("bad_lone_surrogate_escape", kJson,
        File(Object({Entry("w\\ud800", Tensor("U8", "[1]", 0, 1))}),
             Zeros(1)),
        "the lone surrogate escape \\ud800 in a name");

  // Nesting: serde_json's recursion limit of 128 (the root object is 1, the
  // tensor 2, then arrays inside an unknown tensor field).
  const std::string prefix = R"("dtype":"U8","shape":[1],"data_offsets":[0,1],"x":)";
  c.Ok("valid_nesting_127",
       File(U8Header(absl::StrCat(prefix, std::string(125, '['),
                                  std::string(125, ']'))),
            Zeros(1)),
       "127 levels of nesting, the deepest serde_json accepts");
  c.Bad("bad_nesting_128", kJson,
        File(U8Header(absl::StrCat(prefix, std::string(126, '['),
                                   std::string(126, ']'))),
             Zeros(1)),
        "128 levels of nesting: serde_json's recursion limit");
  c.Bad("bad_nesting_10000", kJson,
        File(U8Header(absl::StrCat(prefix, std::string(10000, '['),
                                   std::string(10000, ']'))),
             Zeros(1)),
        "10,000 nested arrays (a recursive parser's stack)");

  // Schema: dtype.
  c.Bad("bad_unknown_dtype", kJson,
        File(Object({Entry("w", Tensor("F128", "[1]", 0, 16))}), Zeros(16)),
        "dtype F128 does not exist");
  const struct {
    const char* id;
    const char* dtype;
  } kNotDTypes[] = {{"c128", "C128"},         {"i4", "I4"},
                    {"u4", "U4"},             {"f8_e3m4", "F8_E3M4"},
                    {"lowercase", "f32"},     {"mixed_case", "Bool"},
                    {"trailing_space", "F32 "}, {"empty", ""}};
  for (const auto& [id, dtype] : kNotDTypes) {
    c.Bad(absl::StrCat("bad_dtype_", id), kJson,
          File(Object({Entry("w", Tensor(dtype, "[1]", 0, 4))}), Zeros(4)),
          absl::StrCat("dtype \"", dtype,
                       "\" is none of the 22 (names are case-sensitive)"));
  }
  c.Bad("bad_dtype_number", kJson,
        File(U8Header(R"("dtype":8,"shape":[1],"data_offsets":[0,1])"), Zeros(1)),
        "dtype is a number");
  // Schema: shape.
  c.Bad("bad_negative_dim", kJson,
        File(U8Header(R"("dtype":"U8","shape":[-1],"data_offsets":[0,1])"),
             Zeros(1)),
        "a negative dimension");
  c.Bad("bad_float_dim", kJson,
        File(U8Header(R"("dtype":"U8","shape":[2.0],"data_offsets":[0,2])"),
             Zeros(2)),
        "shape [2.0] (derived)");
  c.Bad("bad_exponent_dim", kJson,
        File(U8Header(R"("dtype":"U8","shape":[2e0],"data_offsets":[0,2])"),
             Zeros(2)),
        "shape [2e0]");
  c.Bad("bad_dim_2_64", kJson,
        File(U8Header(R"("dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1])"),
             Zeros(1)),
        "a dimension of 2^64, one past u64");
  c.Bad("bad_string_dim", kJson,
        File(U8Header(R"("dtype":"U8","shape":["2"],"data_offsets":[0,2])"),
             Zeros(2)),
        "a dimension given as a string");
  c.Bad("bad_null_dim", kJson,
        File(U8Header(R"("dtype":"U8","shape":[null],"data_offsets":[0,1])"),
             Zeros(1)),
        "a null dimension");
  c.Bad("bad_shape_not_array", kJson,
        File(U8Header(R"("dtype":"U8","shape":2,"data_offsets":[0,2])"), Zeros(2)),
        "shape is a number");
  c.Bad("bad_shape_nested", kJson,
        File(U8Header(R"("dtype":"U8","shape":[[2]],"data_offsets":[0,2])"),
             Zeros(2)),
        "shape [[2]]");
  c.Bad("bad_shape_null", kJson,
        File(U8Header(R"("dtype":"U8","shape":null,"data_offsets":[0,1])"), Zeros(1)),
        "shape is null");
  // Schema: data_offsets.
  c.Bad("bad_offsets_three", kJson,
        File(U8Header(R"("dtype":"U8","shape":[1],"data_offsets":[0,1,2])"),
             Zeros(1)),
        "data_offsets of length 3 (derived)");
  c.Bad("bad_offsets_one", kJson,
        File(U8Header(R"("dtype":"U8","shape":[1],"data_offsets":[1])"), Zeros(1)),
        "data_offsets of length 1");
  c.Bad("bad_offsets_empty", kJson,
        File(U8Header(R"("dtype":"U8","shape":[0],"data_offsets":[])")),
        "data_offsets []");
  c.Bad("bad_offsets_negative", kJson,
        File(U8Header(R"("dtype":"U8","shape":[1],"data_offsets":[-1,0])"),
             Zeros(1)),
        "a negative offset");
  c.Bad("bad_offsets_float", kJson,
        File(U8Header(R"("dtype":"U8","shape":[1],"data_offsets":[0,1.0])"),
             Zeros(1)),
        "an offset 1.0");
  c.Bad("bad_offsets_2_64", kJson,
        File(U8Header(R"("dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616])"),
             Zeros(1)),
        "an offset of 2^64");
  c.Bad("bad_offsets_object", kJson,
        File(U8Header(R"("dtype":"U8","shape":[1],"data_offsets":{"0":0,"1":1})"),
             Zeros(1)),
        "data_offsets is an object");
  // Schema: fields and the tensor's own type.
  c.Bad("bad_missing_dtype", kJson,
        File(U8Header(R"("shape":[1],"data_offsets":[0,1])"), Zeros(1)),
        "no dtype");
  c.Bad("bad_missing_shape", kJson,
        File(U8Header(R"("dtype":"U8","data_offsets":[0,1])"), Zeros(1)),
        "no shape");
  c.Bad("bad_missing_offsets", kJson,
        File(U8Header(R"("dtype":"U8","shape":[1])"), Zeros(1)),
        "no data_offsets");
  c.Bad("bad_tensor_empty_object", kJson, File(Object({Entry("w", "{}")})),
        "a tensor {}");
  c.Bad("bad_tensor_number", kJson, File(Object({Entry("w", "1")})),
        "a tensor that is a number");
  c.Bad("bad_tensor_null", kJson, File(Object({Entry("w", "null")})),
        "a tensor that is null");
  // serde builds a struct from a JSON array too, positionally.
  c.Deviates("valid_tensor_as_array", "ok", kJson,
             "this project reads a tensor only as a JSON object: the "
             "positional form is serde's, not the format's, and no writer "
             "makes it",
             File(Object({Entry("w", R"(["U8",[1],[0,1]])")}), Zeros(1)),
             "a tensor written as [dtype, shape, data_offsets]");
  c.Bad("bad_tensor_array_short", kJson,
        File(Object({Entry("w", R"(["U8",[1]])")}), Zeros(1)),
        "a tensor as an array of 2");
  c.Bad("bad_tensor_array_long", kJson,
        File(Object({Entry("w", R"(["U8",[1],[0,1],5])")}), Zeros(1)),
        "a tensor as an array of 4");
  c.Bad("bad_tensor_array_empty", kJson, File(Object({Entry("w", "[]")}), Zeros(1)),
        "a tensor as []");
  c.Bad("bad_tensor_string", kJson, File(Object({Entry("w", "\"U8\"")})),
        "a tensor that is a string");
  // Schema: __metadata__ is an optional map of strings.
  c.Bad("bad_metadata_number", kJson,
        File(Object({Entry("__metadata__", R"({"n":1})")})),
        "a metadata value 1 (issue #278)");
  c.Bad("bad_metadata_nested", kJson,
        File(Object({Entry("__metadata__", R"({"a":{"b":"c"}})")})),
        "a metadata value that is an object");
  c.Bad("bad_metadata_list_value", kJson,
        File(Object({Entry("__metadata__", R"({"a":["b"]})")})),
        "a metadata value that is a list");
  c.Bad("bad_metadata_null_value", kJson,
        File(Object({Entry("__metadata__", R"({"a":null})")})),
        "a metadata value null");
  c.Bad("bad_metadata_bool_value", kJson,
        File(Object({Entry("__metadata__", R"({"a":true})")})),
        "a metadata value true");
  c.Bad("bad_metadata_array", kJson,
        File(Object({Entry("__metadata__", R"(["a","b"])")})),
        "__metadata__ is an array");
  c.Bad("bad_metadata_string", kJson,
        File(Object({Entry("__metadata__", R"("pt")")})),
        "__metadata__ is a string");
  c.Bad("bad_metadata_named_tensor", kJson,
        File(Object({Entry("__metadata__", Tensor("U8", "[1]", 0, 1))}), Zeros(1)),
        "a tensor named __metadata__ (the writer makes it, issue #849)");
}

}  // namespace weightserver::conformance::internal
