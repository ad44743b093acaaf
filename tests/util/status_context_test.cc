// Copyright 2026 The Weightserver Authors.
//
// tests/util/status_context_test.cc
#include "util/status_context.h"

#include <gtest/gtest.h>

namespace weightserver {
namespace {

TEST(WithContextTest, PrefixesTheMessageAndKeepsCodeAndPayloads) {
  absl::Status s = absl::DataLossError("bad header");
  s.SetPayload("type.example/kind", absl::Cord("HeaderTooLarge"));
  absl::Status out = WithContext("model 'm'", s);
  EXPECT_EQ(out.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(out.message(), "model 'm': bad header");
  ASSERT_TRUE(out.GetPayload("type.example/kind").has_value());
  EXPECT_EQ(*out.GetPayload("type.example/kind"), "HeaderTooLarge");
}

TEST(WithContextTest, OkStaysOk) {
  EXPECT_TRUE(WithContext("anything", absl::OkStatus()).ok());
}

}  // namespace
}  // namespace weightserver
