// Copyright 2026 The Weightserver Authors.
//
// tests/format/header_json_test.cc: step 5 of the reader, the header's JSON
// schema: syntax, types, numbers, duplicates, nesting, names and metadata.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "weightserver/format/errors.h"
#include "format/header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/safetensors_builder.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::format {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::AsBytes;
using ::weightserver::testing::HeaderJson;
using ::weightserver::testing::LengthPrefix;
using ::weightserver::testing::ReadErrorIs;
using ::weightserver::testing::SafetensorsBytes;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TensorJson;

absl::StatusOr<Header> ParseJson(const std::string& json, size_t data = 0) {
  return ParseFile(AsBytes(SafetensorsBytes(json, data)), "m.safetensors");
}

void ExpectDeserializationError(const std::string& json, size_t data = 0) {
  SCOPED_TRACE(json);
  EXPECT_THAT(ParseJson(json, data),
              ReadErrorIs(ErrorKind::kInvalidHeaderDeserialization));
}

// A tensor object whose members are `fields` (already JSON).
std::string Tensor(const std::string& fields) {
  return absl::StrCat(R"({"w":{)", fields, "}}");
}

TEST(HeaderJsonTest, EmptyHeaderIsRejected) {
  EXPECT_THAT(ParseFile(AsBytes(LengthPrefix(0)), "m"),
              ReadErrorIs(ErrorKind::kInvalidHeaderDeserialization));
}

TEST(HeaderJsonTest, SyntaxErrors) {
  for (const char* json : {"{",
                           "}",
                           "{\"a\"}",
                           "{\"a\":}",
                           "{,}",
                           "{\"w\":{},}",
                           "{}x",
                           "{}{}",
                           "{} {}",
                           "'{}'",
                           "/* c */{}",
                           "{}// c",
                           "{\"a\":1,}",
                           "{\"a\" 1}",
                           "{\"a\":tru}",
                           "{\"a\":NaN}",
                           "{\"a\":\"\\x\"}",
                           "{\"a\":\"\x01\"}",
                           "{\"a\":\"\\ud800\"}",
                           "{\"a\":\"\\udc00\"}",
                           "{\"\\u12\":1}",
                           " "}) {
    ExpectDeserializationError(json);
  }
}

TEST(HeaderJsonTest, NonObjectTopLevelIsRejected) {
  for (const char* json : {"[]", "null", "\"x\"", "1", "true", "[{}]"}) {
    ExpectDeserializationError(json);
  }
}

TEST(HeaderJsonTest, BomAndNulPaddingAreRejected) {
  ExpectDeserializationError("\xef\xbb\xbf{}");
  ExpectDeserializationError(std::string("{}\0\0\0\0\0\0", 8));
  ExpectDeserializationError(std::string("\0{}", 3));
  // nlohmann stops at a NUL; whatever follows must not be ignored.
  ExpectDeserializationError(std::string("{}\0garbage", 11));
  ExpectDeserializationError(std::string("{\"a\0\":1}", 8));
  ExpectDeserializationError("{}\f");  // Form feed is not JSON whitespace.
  ExpectDeserializationError("\v{}");
  ExpectDeserializationError("{}\xc2\xa0");  // Nor is U+00A0.
}

TEST(HeaderJsonTest, DTypeMustBeAKnownExactName) {
  ExpectDeserializationError(HeaderJson({TensorJson("w", "f32", {1}, 0, 4)}),
                             4);
  ExpectDeserializationError(HeaderJson({TensorJson("w", "C128", {1}, 0, 16)}),
                             16);
  ExpectDeserializationError(
      HeaderJson({TensorJson("w", "F32\\u0000", {1}, 0, 4)}), 4);
  ExpectDeserializationError(
      Tensor(R"("dtype":32,"shape":[1],"data_offsets":[0,4])"), 4);
  ExpectDeserializationError(
      Tensor(R"("dtype":null,"shape":[1],"data_offsets":[0,4])"), 4);
  // An escaped but equal name is fine.
  EXPECT_OK(ParseJson(
      Tensor(R"("dtype":"F\u0033\u0032","shape":[1],"data_offsets":[0,4])"),
      4));
}

TEST(HeaderJsonTest, MissingFieldsAreRejected) {
  ExpectDeserializationError(Tensor(R"("shape":[1],"data_offsets":[0,1])"), 1);
  ExpectDeserializationError(Tensor(R"("dtype":"U8","data_offsets":[0,1])"), 1);
  ExpectDeserializationError(Tensor(R"("dtype":"U8","shape":[1])"), 1);
  ExpectDeserializationError(R"({"w":{}})");
}

TEST(HeaderJsonTest, TensorMustBeAnObject) {
  for (const char* value :
       {"null", "1", "\"x\"", "[]", R"(["U8",[1],[0,1]])"}) {
    ExpectDeserializationError(absl::StrCat(R"({"w":)", value, "}"), 1);
  }
}

TEST(HeaderJsonTest, ShapeEntriesMustBeU64) {
  for (const char* shape :
       {"[2.0]", "[-1]", "[-0]", "[1e2]", "[1E0]", "[18446744073709551616]",
        "[99999999999999999999999]", "[\"2\"]", "[null]", "[[2]]", "[true]",
        "2", "null", "{}"}) {
    ExpectDeserializationError(
        Tensor(absl::StrCat(R"("dtype":"U8","shape":)", shape,
                            R"(,"data_offsets":[0,2])")),
        2);
  }
}

TEST(HeaderJsonTest, LargestU64IsAccepted) {
  EXPECT_OK(ParseJson(Tensor(R"("dtype":"U8","shape":[18446744073709551615,0],)"
                             R"("data_offsets":[0,0])")));
}

TEST(HeaderJsonTest, DataOffsetsMustBeTwoU64s) {
  for (const char* offsets :
       {"[]", "[0]", "[0,4,4]", "[0,4,4,4]", "[0.0,4]", "[0,-4]",
        "[0,18446744073709551616]", "[\"0\",4]", "{}", "null", "4"}) {
    ExpectDeserializationError(
        Tensor(absl::StrCat(R"("dtype":"U8","shape":[4],"data_offsets":)",
                            offsets)),
        4);
  }
}

TEST(HeaderJsonTest, UnknownTensorFieldsAreIgnored) {
  ASSERT_OK_AND_ASSIGN(
      Header h,
      ParseJson(Tensor(R"("extra":{"a":[1,-2,3.5,null,true,"s",{"b":{}}]},)"
                       R"("dtype":"U8","shape":[4],"data_offsets":[0,4],)"
                       R"("z":-1e300)"),
                4));
  EXPECT_EQ(h.tensors[0].size(), 4u);
}

TEST(HeaderJsonTest, OutOfRangeFloatsAreRejectedEvenWhenIgnored) {
  // serde_json fails on 1e999 ("number out of range"); so does nlohmann.
  ExpectDeserializationError(
      Tensor(R"("dtype":"U8","shape":[4],"data_offsets":[0,4],"z":1e999)"), 4);
}

TEST(HeaderJsonTest, KeyOrderInsideATensorDoesNotMatter) {
  EXPECT_OK(
      ParseJson(Tensor(R"("data_offsets":[0,4],"shape":[4],"dtype":"U8")"), 4));
}

// --- Duplicates: stricter than the reference. ---

TEST(HeaderJsonTest, DuplicateTensorNamesAreRejected) {
  const std::string w = TensorJson("w", "U8", {4}, 0, 4);
  // Even byte-identical duplicates, which the reference accepts.
  ExpectDeserializationError(HeaderJson({w, w}), 4);
  ExpectDeserializationError(HeaderJson({w, TensorJson("w", "U8", {4}, 4, 8)}),
                             8);
  EXPECT_THAT(
      ParseJson(HeaderJson({w, w}), 4),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("duplicate key 'w'")));
}

TEST(HeaderJsonTest, DuplicatesAreFoundAfterUnescaping) {
  ExpectDeserializationError(
      HeaderJson({TensorJson("caf\xc3\xa9", "U8", {0}, 0, 0),
                  R"("caf\u00e9":{"dtype":"U8","shape":[0],)"
                  R"("data_offsets":[0,0]})"}));
}

TEST(HeaderJsonTest, DuplicateMetadataIsRejected) {
  ExpectDeserializationError(R"({"__metadata__":{},"__metadata__":{}})");
  ExpectDeserializationError(R"({"__metadata__":null,"__metadata__":null})");
  ExpectDeserializationError(R"({"__metadata__":{"a":"1","a":"1"}})");
}

TEST(HeaderJsonTest, DuplicateFieldsInATensorAreRejected) {
  ExpectDeserializationError(
      Tensor(R"("dtype":"U8","dtype":"U8","shape":[4],"data_offsets":[0,4])"),
      4);
  ExpectDeserializationError(
      Tensor(R"("dtype":"U8","shape":[4],"data_offsets":[0,4],"x":1,"x":1)"),
      4);
  ExpectDeserializationError(
      Tensor(R"("dtype":"U8","shape":[4],"data_offsets":[0,4],)"
             R"("x":{"y":1,"y":2})"),
      4);
}

// --- Nesting. ---

std::string NestedIgnoredValue(int levels) {
  // Root object (1) + tensor object (2) + `levels` arrays.
  return Tensor(absl::StrCat(
      R"("dtype":"U8","shape":[0],"data_offsets":[0,0],)", R"("x":)",
      std::string(levels, '['), std::string(levels, ']')));
}

TEST(HeaderJsonTest, NestingUpToSerdesLimitIsAccepted) {
  EXPECT_OK(ParseJson(NestedIgnoredValue(125)));        // Depth 127.
  ExpectDeserializationError(NestedIgnoredValue(126));  // Depth 128.
}

TEST(HeaderJsonTest, HostileNestingFailsCleanly) {
  ExpectDeserializationError(NestedIgnoredValue(1'000'000));
  ExpectDeserializationError(std::string(1'000'000, '['));
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += R"({"a":)";
  ExpectDeserializationError(objects);
}

// --- Names. ---

TEST(HeaderJsonTest, NamesAreLengthDelimitedBytes) {
  const std::string header = HeaderJson(
      {R"("a\u0000b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]})",
       R"("a\u0000c":{"dtype":"U8","shape":[1],"data_offsets":[1,2]})",
       R"("a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]})"});
  ASSERT_OK_AND_ASSIGN(Header h, ParseJson(header, 3));
  ASSERT_EQ(h.tensors.size(), 3u);
  EXPECT_EQ(h.tensors[0].name, std::string("a\0b", 3));
  EXPECT_EQ(h.tensors[1].name, std::string("a\0c", 3));
  EXPECT_EQ(h.Find(std::string("a\0c", 3))->begin, 1u);
  EXPECT_EQ(h.Find("a")->begin, 2u);
}

TEST(HeaderJsonTest, EscapesInNamesAreDecoded) {
  ASSERT_OK_AND_ASSIGN(
      Header h,
      ParseJson(R"({"q\"\\\/\n\ud83d\ude00":{"dtype":"U8","shape":[0],)"
                R"("data_offsets":[0,0]},"":{"dtype":"U8","shape":[0],)"
                R"("data_offsets":[0,0]}})"));
  EXPECT_NE(h.Find("q\"\\/\n\xf0\x9f\x98\x80"), nullptr);
  EXPECT_NE(h.Find(""), nullptr);
}

TEST(HeaderJsonTest, MessagesEscapeNames) {
  EXPECT_THAT(
      ParseJson(HeaderJson({R"("a\u0000\n":{"dtype":"U8","shape":[1],)"
                            R"("data_offsets":[1,2]})"}),
                2),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tensor 'a\\x00\\n'")));
}

// --- __metadata__. ---

TEST(HeaderJsonTest, MetadataAbsentNullOrEmpty) {
  ASSERT_OK_AND_ASSIGN(Header absent, ParseJson("{}"));
  EXPECT_FALSE(absent.metadata.has_value());
  ASSERT_OK_AND_ASSIGN(Header null, ParseJson(R"({"__metadata__":null})"));
  EXPECT_FALSE(null.metadata.has_value());
  ASSERT_OK_AND_ASSIGN(Header empty, ParseJson(R"({"__metadata__":{}})"));
  ASSERT_TRUE(empty.metadata.has_value());
  EXPECT_TRUE(empty.metadata->empty());
}

TEST(HeaderJsonTest, MetadataIsAMapOfStrings) {
  ASSERT_OK_AND_ASSIGN(
      Header h, ParseJson(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":)"
                          R"([0,1]},"__metadata__":{"format":"pt","b":"",)"
                          R"("n\u0000":"x\ty"}})",
                          1));
  ASSERT_TRUE(h.metadata.has_value());
  EXPECT_EQ(h.metadata->size(), 3u);
  EXPECT_EQ(h.metadata->at("format"), "pt");
  EXPECT_EQ(h.metadata->at("b"), "");
  EXPECT_EQ(h.metadata->at(std::string("n\0", 2)), "x\ty");
  EXPECT_EQ(h.tensors.size(), 1u);
}

TEST(HeaderJsonTest, NonStringMetadataIsRejected) {  // Issue #278.
  for (const char* value :
       {"1", "-1", "1.5", "true", "null", "[]", "{}", "[\"a\"]"}) {
    ExpectDeserializationError(
        absl::StrCat(R"({"__metadata__":{"k":)", value, "}}"));
  }
  for (const char* metadata : {"1", "\"pt\"", "[]", "true", "[[]]"}) {
    ExpectDeserializationError(
        absl::StrCat(R"({"__metadata__":)", metadata, "}"));
  }
}

}  // namespace
}  // namespace weightserver::format
