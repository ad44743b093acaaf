// Copyright 2026 The Weightserver Authors.
//
// tests/util/crc32c_test.cc: CRC32C against the standard check values.
#include "util/crc32c.h"

#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace weightserver {
namespace {

TEST(Crc32cTest, StandardCheckValue) {
  EXPECT_EQ(Crc32c(absl::string_view("123456789")), 0xE3069283u);
}

TEST(Crc32cTest, EmptyIsZero) { EXPECT_EQ(Crc32c(absl::string_view("")), 0u); }

// RFC 3720 B.4 test vectors.
TEST(Crc32cTest, Rfc3720Vectors) {
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 7));
  for (size_t cut : {0ul, 1ul, 17ul, 4096ul, 99999ul, 100000ul}) {
    uint32_t a = Crc32c(absl::string_view(data).substr(0, cut));
    uint32_t b = Crc32cExtend(a, data.data() + cut, data.size() - cut);
    EXPECT_EQ(b, Crc32c(data)) << "cut at " << cut;
  }
}

TEST(Crc32cTest, CombineEqualsWholeForEverySuffixLength) {
  std::string data;
  for (int i = 0; i < 200000; ++i) {
    data.push_back(static_cast<char>((i * 2654435761u) >> 13));
  }
  const absl::string_view all(data);
  for (size_t suffix : {0ul, 1ul, 3ul, 64ul, 4096ul, 65536ul, 65537ul, 150001ul}) {
    const Crc32cCombiner combiner(suffix);
    for (size_t prefix : {0ul, 1ul, 1000ul, 49999ul}) {
      const absl::string_view a = all.substr(0, prefix);
      const absl::string_view b = all.substr(prefix, suffix);
      EXPECT_EQ(combiner.Combine(Crc32c(a), Crc32c(b)),
                Crc32c(all.substr(0, prefix + suffix)))
          << "prefix " << prefix << ", suffix " << suffix;
    }
  }
}

}  // namespace
}  // namespace weightserver
