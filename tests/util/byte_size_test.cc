// Copyright 2026 The Weightserver Authors.
//
// tests/util/byte_size_test.cc
#include "util/byte_size.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace weightserver {
namespace {

TEST(ByteSizeTest, NumbersAndPowersOf1024) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("8M"), 8u << 20);
  EXPECT_EQ(*ParseByteSize("800G"), uint64_t{800} << 30);
  EXPECT_EQ(*ParseByteSize("2Ti"), uint64_t{2} << 40);
  EXPECT_EQ(*ParseByteSize("1.5GiB"), uint64_t{3} << 29);
  EXPECT_EQ(*ParseByteSize("64kb"), 64u << 10);
  EXPECT_EQ(*ParseByteSize(" 1P "), uint64_t{1} << 50);
}

TEST(ByteSizeTest, AnythingElseIsInvalidArgument) {
  for (const char* bad : {"", "G", "-1G", "+5", "12X", "1e400", "nan",
                          "16384P", "1..5G", "0x10"}) {
    absl::StatusOr<uint64_t> r = ParseByteSize(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseByteSize("12X").status().message().find("'12X'"),
            std::string::npos);
}

}  // namespace
}  // namespace weightserver
