// Copyright 2026 The Weightserver Authors.
//
// tests/format/header_test.cc: the reader's steps 1-4, 6 and 7 (safetensors.md
// §4), the reference's test vectors (§9), every dtype and sub-byte sizes.
// The JSON schema rules (step 5) are in header_json_test.cc.
#include "format/header.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "weightserver/format/dtype.h"
#include "weightserver/format/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/safetensors_builder.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::format {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::AsBytes;
using ::weightserver::testing::HeaderJson;
using ::weightserver::testing::IsOk;
using ::weightserver::testing::LengthPrefix;
using ::weightserver::testing::ReadErrorIs;
using ::weightserver::testing::SafetensorsBytes;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TensorJson;

absl::StatusOr<Header> Parse(const std::string& file) {
  return ParseFile(AsBytes(file), "m.safetensors");
}

// --- Steps 1-3: the length prefix. ---

TEST(ParseHeaderLengthTest, EmptyFileIsHeaderTooSmall) {  // tensor.rs:1490
  EXPECT_THAT(Parse(""), ReadErrorIs(ErrorKind::kHeaderTooSmall));
}

TEST(ParseHeaderLengthTest, SevenBytesAreHeaderTooSmall) {
  EXPECT_THAT(Parse(std::string(7, '\0')),
              ReadErrorIs(ErrorKind::kHeaderTooSmall));
}

TEST(ParseHeaderLengthTest, HugeLengthIsHeaderTooLarge) {  // tensor.rs:1478
  const std::string file("\x3c\x00\x00\x00\x00\xff\xff\xff", 8);
  EXPECT_THAT(Parse(file), ReadErrorIs(ErrorKind::kHeaderTooLarge));
}

TEST(ParseHeaderLengthTest, LimitIsDecimalHundredMegabytes) {
  // Checked before the file size: a short file still gets HeaderTooLarge.
  EXPECT_THAT(Parse(LengthPrefix(100'000'001)),
              ReadErrorIs(ErrorKind::kHeaderTooLarge));
  EXPECT_THAT(Parse(LengthPrefix(UINT64_MAX)),
              ReadErrorIs(ErrorKind::kHeaderTooLarge));
  EXPECT_THAT(Parse(LengthPrefix(100'000'000)),
              ReadErrorIs(ErrorKind::kInvalidHeaderLength));
}

TEST(ParseHeaderLengthTest, HeaderPastEndIsInvalidHeaderLength) {
  // tensor.rs:1501: N=60 ('<') and nothing after it.
  EXPECT_THAT(Parse(LengthPrefix(60)),
              ReadErrorIs(ErrorKind::kInvalidHeaderLength));
  EXPECT_THAT(Parse(LengthPrefix(3) + "{}"),
              ReadErrorIs(ErrorKind::kInvalidHeaderLength));
}

TEST(ParseHeaderLengthTest, ReadsLittleEndianLength) {
  const std::string prefix = LengthPrefix(0x0102);
  ASSERT_OK_AND_ASSIGN(uint64_t n,
                       ParseHeaderLength(AsBytes(prefix), 0x0102 + 8, "f"));
  EXPECT_EQ(n, 0x0102u);
  EXPECT_THAT(ParseHeaderLength(AsBytes(prefix), 0x0102 + 7, "f"),
              ReadErrorIs(ErrorKind::kInvalidHeaderLength));
  EXPECT_THAT(ParseHeaderLength(AsBytes(prefix.substr(0, 5)), 5, "f"),
              ReadErrorIs(ErrorKind::kHeaderTooSmall));
}

TEST(ParseHeaderLengthTest, MessageNamesTheSource) {
  EXPECT_THAT(ParseFile(AsBytes(""), "dir/x.safetensors"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("dir/x.safetensors: HeaderTooSmall: ")));
}

// --- Step 4: UTF-8. ---

TEST(ParseHeaderTest, NonUtf8IsInvalidHeader) {  // tensor.rs:1512
  EXPECT_THAT(Parse(SafetensorsBytes("\xff", 0)),
              ReadErrorIs(ErrorKind::kInvalidHeader));
}

TEST(ParseHeaderTest, Utf8IsCheckedOverAllBytesBeforeJson) {
  // Bad bytes in the padding, in a name, or an overlong/surrogate sequence:
  // InvalidHeader even though the JSON is also broken.
  for (const std::string& header :
       {std::string("{}  \xc0\xaf"), std::string("{\"\xed\xa0\x80\":1"),
        std::string("{\"\xf4\x90\x80\x80\"}"), std::string("{} \x80")}) {
    EXPECT_THAT(Parse(SafetensorsBytes(header, 0)),
                ReadErrorIs(ErrorKind::kInvalidHeader));
  }
}

TEST(ParseHeaderTest, NonAsciiNamesAreAccepted) {
  const std::string name = "caf\xc3\xa9.\xf0\x9f\x98\x80";
  ASSERT_OK_AND_ASSIGN(
      Header h, Parse(SafetensorsBytes(
                    HeaderJson({TensorJson(name, "U8", {2}, 0, 2)}), 2)));
  ASSERT_NE(h.Find(name), nullptr);
}

// --- Step 6: offsets and sizes. ---

TEST(ParseHeaderTest, JsonAttackIsInvalidOffset) {  // tensor.rs:1413
  std::vector<std::string> members;
  for (int i = 0; i < 10; ++i) {
    members.push_back(
        TensorJson(absl::StrCat("weight_", i), "F32", {2, 2}, 0, 16));
  }
  EXPECT_THAT(Parse(SafetensorsBytes(HeaderJson(members), 16)),
              ReadErrorIs(ErrorKind::kInvalidOffset));
}

TEST(ParseHeaderTest, FirstTensorNotAtZeroIsInvalidOffset) {
  EXPECT_THAT(
      Parse(
          SafetensorsBytes(HeaderJson({TensorJson("w", "U8", {4}, 4, 8)}), 8)),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("m.safetensors: InvalidOffset: tensor 'w': "
                         "data_offsets [4, 8) begin at 4, expected 0")));
}

TEST(ParseHeaderTest, GapOverlapAndReversedAreInvalidOffset) {
  const std::vector<std::vector<std::string>> cases = {
      {TensorJson("a", "U8", {4}, 0, 4), TensorJson("b", "U8", {4}, 5, 9)},
      {TensorJson("a", "U8", {4}, 0, 4), TensorJson("b", "U8", {4}, 2, 6)},
      {TensorJson("a", "U8", {4}, 0, 4), TensorJson("b", "U8", {0}, 4, 0)},
      {TensorJson("a", "U8", {4}, 0, 4), TensorJson("b", "U8", {4}, 0, 4)},
  };
  for (const auto& members : cases) {
    SCOPED_TRACE(HeaderJson(members));
    EXPECT_THAT(Parse(SafetensorsBytes(HeaderJson(members), 9)),
                ReadErrorIs(ErrorKind::kInvalidOffset));
  }
}

TEST(ParseHeaderTest, ReversedRangeMessageNamesTheTensor) {
  const std::string header = HeaderJson(
      {TensorJson("a", "U8", {4}, 0, 4), TensorJson("b", "U8", {0}, 4, 1)});
  EXPECT_THAT(
      Parse(SafetensorsBytes(header, 4)),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("tensor 'b': data_offsets [4, 1) end before")));
}

TEST(ParseHeaderTest, ElementCountOverflowIsValidationOverflow) {
  // tensor.rs:1575, first vector.
  const std::string header =
      R"({"test":{"dtype":"I32","shape":[2,18446744073709551614],)"
      R"("data_offsets":[0,16]}})";
  EXPECT_EQ(header.size(), 79u);
  EXPECT_THAT(Parse(SafetensorsBytes(header, 16)),
              ReadErrorIs(ErrorKind::kValidationOverflow));
}

TEST(ParseHeaderTest, BitCountOverflowIsValidationOverflow) {
  // tensor.rs:1575, second vector: 2^64-2 elements fit, x32 bits do not.
  const std::string header =
      R"({"test":{"dtype":"I32","shape":[2,9223372036854775807],)"
      R"("data_offsets":[0,16]}})";
  EXPECT_EQ(header.size(), 78u);
  EXPECT_THAT(Parse(SafetensorsBytes(header, 16)),
              ReadErrorIs(ErrorKind::kValidationOverflow));
}

TEST(ParseHeaderTest, OverflowIsCheckedLeftToRight) {
  // A zero after an overflowing prefix does not rescue it (try_fold) ...
  const uint64_t big = uint64_t{1} << 33;
  EXPECT_THAT(Parse(SafetensorsBytes(
                  HeaderJson({TensorJson("w", "U8", {big, big, 0}, 0, 0)}), 0)),
              ReadErrorIs(ErrorKind::kValidationOverflow));
  // ... but a zero before it does.
  EXPECT_OK(Parse(SafetensorsBytes(
      HeaderJson({TensorJson("w", "U8", {0, big, big}, 0, 0)}), 0)));
  EXPECT_OK(Parse(SafetensorsBytes(
      HeaderJson({TensorJson("w", "U64", {0, UINT64_MAX}, 0, 0)}), 0)));
}

TEST(ParseHeaderTest, InvalidOffsetIsCheckedBeforeOverflow) {
  EXPECT_THAT(
      Parse(SafetensorsBytes(
          HeaderJson({TensorJson("w", "U8", {UINT64_MAX, 2}, 1, 2)}), 2)),
      ReadErrorIs(ErrorKind::kInvalidOffset));
}

TEST(ParseHeaderTest, SubByteSizes) {
  auto file = [](const char* dtype, std::vector<uint64_t> shape,
                 uint64_t size) {
    return SafetensorsBytes(
        HeaderJson({TensorJson("w", dtype, shape, 0, size)}), size);
  };
  EXPECT_OK(Parse(file("F4", {3, 2}, 3)));
  EXPECT_OK(Parse(file("F4", {1, 2}, 1)));
  EXPECT_OK(Parse(file("F6_E2M3", {4}, 3)));
  EXPECT_OK(Parse(file("F6_E3M2", {2, 2}, 3)));
  EXPECT_OK(Parse(file("F4", {0}, 0)));
  EXPECT_THAT(Parse(file("F4", {3}, 2)),
              ReadErrorIs(ErrorKind::kMisalignedSlice));
  EXPECT_THAT(Parse(file("F4", {}, 1)),
              ReadErrorIs(ErrorKind::kMisalignedSlice));
  EXPECT_THAT(Parse(file("F6_E2M3", {1}, 1)),
              ReadErrorIs(ErrorKind::kMisalignedSlice));
  EXPECT_THAT(Parse(file("F6_E3M2", {2}, 2)),
              ReadErrorIs(ErrorKind::kMisalignedSlice));
  EXPECT_THAT(Parse(file("F4", {3, 2}, 2)),
              ReadErrorIs(ErrorKind::kTensorInvalidInfo));
}

TEST(ParseHeaderTest, WrongSizeIsTensorInvalidInfo) {  // tensor.rs:1564
  const std::string header =
      R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0, 4]}})";
  EXPECT_EQ(header.size(), 60u);
  EXPECT_THAT(Parse(SafetensorsBytes(header, 0)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("TensorInvalidInfo: tensor 'test': "
                                 "data_offsets [0, 4) hold 4 bytes, but I32 "
                                 "[2, 2] needs 16")));
}

// --- Step 7: the file ends exactly where the data does. ---

constexpr char kTest16[] =
    R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})";

TEST(ParseHeaderTest, TrailingBytesAreMetadataIncompleteBuffer) {
  EXPECT_THAT(Parse(SafetensorsBytes(kTest16, std::string(16, '\0') +
                                                  "extra_bogus_data_for_"
                                                  "polyglot_file")),
              ReadErrorIs(ErrorKind::kMetadataIncompleteBuffer));
  EXPECT_THAT(Parse(SafetensorsBytes("{}", 1)),
              ReadErrorIs(ErrorKind::kMetadataIncompleteBuffer));
}

TEST(ParseHeaderTest, TruncatedDataIsMetadataIncompleteBuffer) {
  EXPECT_THAT(Parse(SafetensorsBytes(kTest16, 14)),
              ReadErrorIs(ErrorKind::kMetadataIncompleteBuffer));
}

TEST(ParseHeaderTest, HugeClaimedSizeFailsWithoutAllocating) {
  const uint64_t huge = uint64_t{1} << 60;  // x8 bits still fits.
  EXPECT_THAT(Parse(SafetensorsBytes(
                  HeaderJson({TensorJson("w", "U8", {huge}, 0, huge)}), 1)),
              ReadErrorIs(ErrorKind::kMetadataIncompleteBuffer));
  // test_pread_backend.py:136: F32 [1024,1024] with one data byte.
  EXPECT_THAT(
      Parse(SafetensorsBytes(
          HeaderJson({TensorJson("w", "F32", {1024, 1024}, 0, 4194304)}), 1)),
      ReadErrorIs(ErrorKind::kMetadataIncompleteBuffer));
}

TEST(ParseHeaderTest, ParseHeaderChecksTheGivenFileSize) {
  const std::string json = kTest16;
  EXPECT_OK(ParseHeader(AsBytes(json), 8 + json.size() + 16, "f"));
  EXPECT_THAT(ParseHeader(AsBytes(json), 8 + json.size() + 17, "f"),
              ReadErrorIs(ErrorKind::kMetadataIncompleteBuffer));
  EXPECT_THAT(ParseHeader(AsBytes(json), json.size(), "f"),
              ReadErrorIs(ErrorKind::kInvalidHeaderLength));
}

// --- Inputs the reference accepts (tensor.rs tests). ---

TEST(ParseHeaderTest, Deserialization) {  // tensor.rs:1383
  ASSERT_EQ(std::string(kTest16).size(), 60u);
  ASSERT_OK_AND_ASSIGN(Header h, Parse(SafetensorsBytes(kTest16, 16)));
  EXPECT_EQ(h.header_size, 60u);
  EXPECT_EQ(h.data_offset(), 68u);
  EXPECT_EQ(h.data_size(), 16u);
  EXPECT_FALSE(h.metadata.has_value());
  ASSERT_EQ(h.tensors.size(), 1u);
  const TensorInfo& t = h.tensors[0];
  EXPECT_EQ(t.name, "test");
  EXPECT_EQ(t.dtype, DType::kI32);
  EXPECT_EQ(t.shape, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(t.begin, 0u);
  EXPECT_EQ(t.end, 16u);
  EXPECT_EQ(t.size(), 16u);
  EXPECT_EQ(t.num_elements(), 4u);
  EXPECT_EQ(h.Find("test"), &h.tensors[0]);
  EXPECT_EQ(h.Find("nope"), nullptr);
}

TEST(ParseHeaderTest, EmptyShapeIsAScalar) {  // tensor.rs:1370
  const std::string header =
      R"({"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}})";
  ASSERT_EQ(header.size(), 56u);
  ASSERT_OK_AND_ASSIGN(Header h, Parse(SafetensorsBytes(header, 4)));
  EXPECT_TRUE(h.tensors[0].shape.empty());
  EXPECT_EQ(h.tensors[0].num_elements(), 1u);
}

TEST(ParseHeaderTest, ZeroSizedTensor) {  // tensor.rs:1552
  const std::string header =
      R"({"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}})";
  ASSERT_EQ(header.size(), 60u);
  ASSERT_OK_AND_ASSIGN(Header h, Parse(SafetensorsBytes(header, 0)));
  EXPECT_EQ(h.tensors[0].num_elements(), 0u);
}

TEST(ParseHeaderTest, ZeroSizedTensorsMayShareOffsetsAnywhere) {
  const std::string header = HeaderJson(
      {TensorJson("d", "U8", {0}, 4, 4), TensorJson("b", "U8", {4}, 0, 4),
       TensorJson("a", "F32", {0, 3}, 0, 0), TensorJson("c", "U8", {0}, 4, 4),
       TensorJson("e", "U8", {2}, 4, 6)});
  ASSERT_OK_AND_ASSIGN(Header h, Parse(SafetensorsBytes(header, 6)));
  std::vector<std::string> order;
  for (const TensorInfo& t : h.tensors) order.push_back(t.name);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  for (size_t i = 0; i < h.tensors.size(); ++i) {
    EXPECT_EQ(h.Find(h.tensors[i].name), &h.tensors[i]);
  }
}

TEST(ParseHeaderTest, WhitespaceAroundTheJsonIsAccepted) {
  // tensor.rs:1535 and 1545.
  EXPECT_OK(Parse(SafetensorsBytes("{}\r \t\n", 0)));
  EXPECT_OK(Parse(SafetensorsBytes("\t\n{}\r ", 0)));
  EXPECT_OK(Parse(SafetensorsBytes("{}      ", 0)));
}

TEST(ParseHeaderTest, LegacyNameOrderedUnalignedFileIsAccepted) {
  // Like PR #84's "overall": unpadded, name-ordered, U16 at offset 6.
  const std::string header = HeaderJson({TensorJson("B", "U8", {6}, 0, 6),
                                         TensorJson("H", "U16", {6}, 6, 18),
                                         TensorJson("d", "F64", {6}, 18, 66),
                                         TensorJson("f", "F32", {6}, 66, 90)});
  ASSERT_OK_AND_ASSIGN(
      Header h,
      Parse(SafetensorsBytes(
          "{\"__metadata__\":{\"test\":\"a\"}," + header.substr(1), 90)));
  EXPECT_EQ(h.tensors[1].name, "H");
  EXPECT_EQ(h.metadata->at("test"), "a");
}

TEST(ParseHeaderTest, TensorsAreSortedByOffsets) {
  const std::string header = HeaderJson({TensorJson("z", "U8", {1}, 0, 1),
                                         TensorJson("a", "U8", {2}, 3, 5),
                                         TensorJson("m", "U8", {2}, 1, 3)});
  ASSERT_OK_AND_ASSIGN(Header h, Parse(SafetensorsBytes(header, 5)));
  EXPECT_EQ(h.tensors[0].name, "z");
  EXPECT_EQ(h.tensors[1].name, "m");
  EXPECT_EQ(h.tensors[2].name, "a");
  EXPECT_EQ(h.Find("a")->begin, 3u);
}

// --- Every dtype. ---

TEST(ParseHeaderTest, ValidTensorOfEveryDType) {
  for (DType dtype : AllDTypes()) {
    SCOPED_TRACE(DTypeName(dtype));
    const uint64_t size = DTypeBits(dtype);  // 8 elements.
    const std::string file = SafetensorsBytes(
        HeaderJson({TensorJson("t", DTypeName(dtype), {2, 4}, 0, size)}), size);
    ASSERT_OK_AND_ASSIGN(Header h, Parse(file));
    EXPECT_EQ(h.tensors[0].dtype, dtype);
    EXPECT_EQ(h.tensors[0].size(), size);
    // One byte too many is TensorInvalidInfo for every dtype.
    EXPECT_THAT(
        Parse(SafetensorsBytes(HeaderJson({TensorJson("t", DTypeName(dtype),
                                                      {2, 4}, 0, size + 1)}),
                               size + 1)),
        ReadErrorIs(ErrorKind::kTensorInvalidInfo));
  }
}

TEST(ParseHeaderTest, AllDTypesInOneFile) {
  std::vector<std::string> members;
  uint64_t offset = 0;
  for (DType dtype : AllDTypes()) {
    const uint64_t size = DTypeBits(dtype) * 2;  // 16 elements.
    members.push_back(TensorJson(DTypeName(dtype), DTypeName(dtype), {16},
                                 offset, offset + size));
    offset += size;
  }
  ASSERT_OK_AND_ASSIGN(Header h,
                       Parse(SafetensorsBytes(HeaderJson(members), offset)));
  ASSERT_EQ(h.tensors.size(), static_cast<size_t>(kNumDTypes));
  for (DType dtype : AllDTypes()) {
    const TensorInfo* t = h.Find(DTypeName(dtype));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, dtype);
  }
}

// --- TensorByteSize. ---

TEST(TensorByteSizeTest, ComputesBytesWithTheReferenceChecks) {
  const std::vector<uint64_t> scalar, f4ok = {3, 2}, odd = {3}, big = {1, 0};
  EXPECT_EQ(*TensorByteSize(DType::kF64, scalar, "", "x"), 8u);
  EXPECT_EQ(*TensorByteSize(DType::kF4, f4ok, "", "x"), 3u);
  EXPECT_EQ(*TensorByteSize(DType::kC64, big, "", "x"), 0u);
  EXPECT_THAT(TensorByteSize(DType::kF4, odd, "src", "tensor 'x'"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("src: MisalignedSlice: tensor 'x'")));
  const std::vector<uint64_t> over = {uint64_t{1} << 60};
  EXPECT_EQ(*TensorByteSize(DType::kU8, over, "", "x"), uint64_t{1} << 60);
  EXPECT_THAT(TensorByteSize(DType::kU64, over, "", "x"),
              ReadErrorIs(ErrorKind::kValidationOverflow));
}

}  // namespace
}  // namespace weightserver::format
