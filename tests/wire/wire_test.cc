// Copyright 2026 The Weightserver Authors.
//
// tests/wire/wire_test.cc: the conversions of wire/ both ways: status
// (keeping a format error's kind across gRPC), selections and the table of
// contents.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "weightserver/format/errors.h"
#include "wire/model_info.h"
#include "wire/selection.h"
#include "wire/status.h"

namespace weightserver::wire {
namespace {

TEST(StatusTest, RetryableCodesAreTheTransientOnes) {
  for (auto c : {absl::StatusCode::kUnavailable, absl::StatusCode::kDataLoss,
                 absl::StatusCode::kResourceExhausted, absl::StatusCode::kAborted,
                 absl::StatusCode::kInternal, absl::StatusCode::kUnknown}) {
    EXPECT_TRUE(IsRetryable(c)) << absl::StatusCodeToString(c);
  }
  for (auto c : {absl::StatusCode::kNotFound, absl::StatusCode::kFailedPrecondition,
                 absl::StatusCode::kInvalidArgument, absl::StatusCode::kOutOfRange,
                 absl::StatusCode::kPermissionDenied, absl::StatusCode::kCancelled,
                 absl::StatusCode::kUnauthenticated, absl::StatusCode::kOk}) {
    EXPECT_FALSE(IsRetryable(c)) << absl::StatusCodeToString(c);
  }
}

TEST(StatusTest, OkIsOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusTest, CodeMessageAndFormatKindSurviveTheRoundTrip) {
  absl::Status s = format::FormatError(absl::StatusCode::kInvalidArgument,
                                       format::ErrorKind::kMisalignedSlice,
                                       "w", "cut inside a byte");
  grpc::Status g = ToGrpcStatus(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), s.message());
  EXPECT_FALSE(g.error_details().empty());
  absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), s.message());
  EXPECT_EQ(format::FormatErrorKind(back), format::ErrorKind::kMisalignedSlice);
}

TEST(StatusTest, PlainStatusHasNoDetails) {
  grpc::Status g = ToGrpcStatus(absl::NotFoundError("no model 'x'"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(g.error_details().empty());
  EXPECT_EQ(FromGrpcStatus(g), absl::NotFoundError("no model 'x'"));
}

TEST(StatusTest, GarbageDetailsAreIgnoredNotFatal) {
  grpc::Status g(grpc::StatusCode::DATA_LOSS, "bad", std::string("\xff\xff", 2));
  absl::Status s = FromGrpcStatus(g);
  EXPECT_EQ(s, absl::DataLossError("bad"));
  EXPECT_FALSE(format::FormatErrorKind(s).has_value());
}

TEST(SelectionTest, RoundTrip) {
  const std::vector<format::DimRanges> sel = {
      {}, {{0, 512}, {1024, 1088}}, {{3, 3}}};
  v1::TensorRequest entry;
  SelectionToProto(sel, &entry);
  ASSERT_EQ(entry.selection_size(), 3);
  EXPECT_EQ(entry.selection(1).ranges(1).stop(), 1088u);
  EXPECT_EQ(SelectionFromProto(entry), sel);
  SelectionToProto({}, &entry);  // Replaces: whole tensor.
  EXPECT_EQ(entry.selection_size(), 0);
  EXPECT_TRUE(SelectionFromProto(entry).empty());
}

TEST(ModelInfoTest, RoundTripKeepsEverythingAndIndexes) {
  format::ModelInfo m;
  m.name = "org/llama";
  m.revision = "r1";
  m.sharded = true;
  m.index_metadata_json = R"({"total_size":12})";
  m.files.push_back({"a.safetensors", 100, 40, std::nullopt});
  m.files.push_back({"b.safetensors", 200, 48,
                     std::map<std::string, std::string>{{"format", "pt"}}});
  m.tensors.push_back({std::string("w\0x", 3), "BF16", {2, 3}, 0, 48, 12});
  m.tensors.push_back({"s", "F32", {}, 1, 56, 4});
  m.extra_files.push_back({"config.json", 512});
  m.extra_files.push_back({"tokenizer.json", 9 << 20});
  format::ModelInfo back = ModelInfoFromProto(ModelInfoToProto(m));
  EXPECT_EQ(back.name, m.name);
  EXPECT_EQ(back.revision, m.revision);
  EXPECT_TRUE(back.sharded);
  EXPECT_EQ(back.index_metadata_json, m.index_metadata_json);
  ASSERT_EQ(back.files.size(), 2u);
  EXPECT_FALSE(back.files[0].metadata.has_value());
  EXPECT_EQ(back.files[1].metadata->at("format"), "pt");
  EXPECT_EQ(back.files[1].header_size, 48u);
  ASSERT_EQ(back.tensors.size(), 2u);
  const format::ModelTensor* w = back.Find(std::string("w\0x", 3));
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(w->offset, 48u);
  EXPECT_EQ(w->length, 12u);
  EXPECT_EQ(back.Find("s")->file_index, 1u);
  EXPECT_EQ(back.Find("w"), nullptr);  // Names are bytes, not C strings.
  ASSERT_EQ(back.extra_files.size(), 2u);
  EXPECT_EQ(back.extra_files[0].name, "config.json");
  EXPECT_EQ(back.extra_files[0].size, 512u);
  EXPECT_EQ(back.extra_files[1].name, "tokenizer.json");
  EXPECT_EQ(back.extra_files[1].size, 9u << 20);
}

TEST(ModelInfoTest, SummaryRoundTrip) {
  format::ModelSummary s{"m", "r", 2, 10, 1234, "bad file"};
  format::ModelSummary back = ModelSummaryFromProto(ModelSummaryToProto(s));
  EXPECT_EQ(back.name, "m");
  EXPECT_EQ(back.file_count, 2u);
  EXPECT_EQ(back.total_tensor_bytes, 1234u);
  EXPECT_EQ(back.error, "bad file");
}

}  // namespace
}  // namespace weightserver::wire
