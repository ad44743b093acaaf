// Copyright 2026 The Weightserver Authors.
//
// tests/format/dtype_test.cc: dtype names, widths and order; error kinds.
#include "weightserver/format/dtype.h"

#include <set>
#include <string>

#include "absl/status/status.h"
#include "weightserver/format/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightserver::format {
namespace {

struct Expected {
  DType dtype;
  const char* name;
  int bits;
};

// safetensors.md §3, in enum order.
constexpr Expected kTable[] = {
    {DType::kBool, "BOOL", 8},
    {DType::kF4, "F4", 4},
    {DType::kF6E2M3, "F6_E2M3", 6},
    {DType::kF6E3M2, "F6_E3M2", 6},
    {DType::kU8, "U8", 8},
    {DType::kI8, "I8", 8},
    {DType::kF8E5M2, "F8_E5M2", 8},
    {DType::kF8E4M3, "F8_E4M3", 8},
    {DType::kF8E8M0, "F8_E8M0", 8},
    {DType::kF8E4M3Fnuz, "F8_E4M3FNUZ", 8},
    {DType::kF8E5M2Fnuz, "F8_E5M2FNUZ", 8},
    {DType::kI16, "I16", 16},
    {DType::kU16, "U16", 16},
    {DType::kF16, "F16", 16},
    {DType::kBF16, "BF16", 16},
    {DType::kI32, "I32", 32},
    {DType::kU32, "U32", 32},
    {DType::kF32, "F32", 32},
    {DType::kC64, "C64", 64},
    {DType::kF64, "F64", 64},
    {DType::kI64, "I64", 64},
    {DType::kU64, "U64", 64},
};

TEST(DTypeTest, TableHasAllTwentyTwo) {
  EXPECT_EQ(std::size(kTable), 22u);
  EXPECT_EQ(kNumDTypes, 22);
}

TEST(DTypeTest, NamesAndBitsOfEveryDType) {
  for (const Expected& e : kTable) {
    SCOPED_TRACE(e.name);
    EXPECT_EQ(DTypeName(e.dtype), e.name);
    EXPECT_EQ(DTypeBits(e.dtype), e.bits);
  }
}

TEST(DTypeTest, ParseRoundTripsEveryDType) {
  for (const Expected& e : kTable) {
    SCOPED_TRACE(e.name);
    EXPECT_EQ(ParseDType(e.name), e.dtype);
    EXPECT_EQ(ParseDType(DTypeName(e.dtype)), e.dtype);
  }
}

TEST(DTypeTest, AllDTypesIsEnumOrder) {
  const auto& all = AllDTypes();
  ASSERT_EQ(all.size(), std::size(kTable));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], kTable[i].dtype);
    EXPECT_EQ(static_cast<size_t>(all[i]), i);
  }
}

TEST(DTypeTest, ParseIsCaseSensitiveAndExact) {
  EXPECT_EQ(ParseDType("f32"), std::nullopt);
  EXPECT_EQ(ParseDType("Bool"), std::nullopt);
  EXPECT_EQ(ParseDType("F8_E4M3fnuz"), std::nullopt);
  EXPECT_EQ(ParseDType("F32 "), std::nullopt);
  EXPECT_EQ(ParseDType(""), std::nullopt);
  EXPECT_EQ(ParseDType(std::string("F32\0", 4)), std::nullopt);
}

TEST(DTypeTest, TypesThatDoNotExistAreUnknown) {
  for (const char* name :
       {"C128", "I4", "U4", "F8_E3M4", "STR", "F6", "I128"}) {
    EXPECT_EQ(ParseDType(name), std::nullopt) << name;
  }
}

TEST(ErrorsTest, KindNamesAreTheReferenceVariants) {
  EXPECT_EQ(ErrorKindName(ErrorKind::kHeaderTooSmall), "HeaderTooSmall");
  EXPECT_EQ(ErrorKindName(ErrorKind::kHeaderTooLarge), "HeaderTooLarge");
  EXPECT_EQ(ErrorKindName(ErrorKind::kInvalidHeaderLength),
            "InvalidHeaderLength");
  EXPECT_EQ(ErrorKindName(ErrorKind::kInvalidHeader), "InvalidHeader");
  EXPECT_EQ(ErrorKindName(ErrorKind::kInvalidHeaderDeserialization),
            "InvalidHeaderDeserialization");
  EXPECT_EQ(ErrorKindName(ErrorKind::kInvalidOffset), "InvalidOffset");
  EXPECT_EQ(ErrorKindName(ErrorKind::kValidationOverflow),
            "ValidationOverflow");
  EXPECT_EQ(ErrorKindName(ErrorKind::kMisalignedSlice), "MisalignedSlice");
  EXPECT_EQ(ErrorKindName(ErrorKind::kTensorInvalidInfo), "TensorInvalidInfo");
  EXPECT_EQ(ErrorKindName(ErrorKind::kMetadataIncompleteBuffer),
            "MetadataIncompleteBuffer");
  EXPECT_EQ(ErrorKindName(ErrorKind::kTensorNotFound), "TensorNotFound");
  EXPECT_EQ(ErrorKindName(ErrorKind::kInvalidTensorView), "InvalidTensorView");
}

TEST(ErrorsTest, FormatErrorCarriesCodeMessageAndKind) {
  absl::Status s =
      FormatError(absl::StatusCode::kDataLoss, ErrorKind::kInvalidOffset,
                  "m.safetensors", "tensor 'w': begins at 4, expected 0");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      s.message(),
      "m.safetensors: InvalidOffset: tensor 'w': begins at 4, expected 0");
  EXPECT_EQ(FormatErrorKind(s), ErrorKind::kInvalidOffset);
}

TEST(ErrorsTest, EmptySourceIsLeftOut) {
  absl::Status s = FormatError(absl::StatusCode::kInvalidArgument,
                               ErrorKind::kHeaderTooLarge, "", "too big");
  EXPECT_EQ(s.message(), "HeaderTooLarge: too big");
  EXPECT_EQ(FormatErrorKind(s), ErrorKind::kHeaderTooLarge);
}

TEST(ErrorsTest, EveryKindRoundTripsThroughThePayload) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(ErrorKind::kInvalidTensorView); ++i) {
    const auto kind = static_cast<ErrorKind>(i);
    names.insert(std::string(ErrorKindName(kind)));
    EXPECT_EQ(FormatErrorKind(
                  FormatError(absl::StatusCode::kDataLoss, kind, "f", "d")),
              kind);
  }
  EXPECT_EQ(names.size(), 12u);
}

TEST(ErrorsTest, OtherStatusesHaveNoKind) {
  EXPECT_EQ(FormatErrorKind(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(FormatErrorKind(absl::DataLossError("InvalidOffset: x")),
            std::nullopt);
}

}  // namespace
}  // namespace weightserver::format
