// Copyright 2026 The Weightserver Authors.
//
// tests/server/fetch_reactor_test.cc: the hand-encoded chunk header plus the
// payload is exactly the documented protobuf Chunk.
#include "server/fetch_reactor.h"

#include "gtest/gtest.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::server {
namespace {

TEST(EncodeChunkHeaderTest, HeaderPlusPayloadParsesAsChunk) {
  for (uint64_t size : {0ull, 1ull, 127ull, 128ull, 1ull << 20, 4ull << 20}) {
    for (uint64_t offset : {0ull, 300ull, 1ull << 40}) {
      std::string payload(size, 'p');
      std::string wire =
          EncodeChunkHeader(7, offset, 0xE3069283u, size) + payload;
      v1::Chunk chunk;
      ASSERT_TRUE(chunk.ParseFromString(wire)) << size << " " << offset;
      EXPECT_EQ(chunk.entry(), 7u);
      EXPECT_EQ(chunk.offset(), offset);
      EXPECT_EQ(chunk.crc32c(), 0xE3069283u);
      EXPECT_EQ(chunk.data().size(), size);
      // And the standard encoder produces the same bytes.
      if (size > 0 && offset > 0) {
        EXPECT_EQ(chunk.SerializeAsString(), wire);
      }
    }
  }
}

}  // namespace
}  // namespace weightserver::server
