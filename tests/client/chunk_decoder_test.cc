// Copyright 2026 The Weightserver Authors.
//
// tests/client/chunk_decoder_test.cc: decoding a Chunk from raw slices into
// place, in the usual layout and in any other a protobuf encoder may choose.
#include "client/chunk_decoder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::client {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

// `wire` split into slices of `piece` bytes, as gRPC may deliver it.
grpc::ByteBuffer Buffer(const std::string& wire, size_t piece) {
  std::vector<grpc::Slice> slices;
  for (size_t i = 0; i < wire.size(); i += piece) {
    slices.emplace_back(wire.substr(i, piece));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

std::string Serialized(uint32_t entry, uint64_t offset, uint32_t crc,
                       const std::string& data) {
  v1::Chunk c;
  c.set_entry(entry);
  c.set_offset(offset);
  c.set_crc32c(crc);
  c.set_data(data);
  return c.SerializeAsString();
}

TEST(ChunkDecoderTest, PayloadLandsInPlaceAcrossSlices) {
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i);
  for (size_t piece : {1ul, 7ul, 4096ul, 1ul << 20}) {
    grpc::ByteBuffer b = Buffer(Serialized(3, 4242, 99, data), piece);
    std::string dest(data.size(), 'x');
    ChunkHeader seen;
    ASSERT_OK_AND_ASSIGN(
        ChunkHeader h,
        DecodeChunk(&b, [&](const ChunkHeader& h) -> absl::StatusOr<std::byte*> {
          seen = h;
          return reinterpret_cast<std::byte*>(dest.data());
        }));
    EXPECT_EQ(h.entry, 3u);
    EXPECT_EQ(h.offset, 4242u);
    EXPECT_EQ(h.crc32c, 99u);
    EXPECT_EQ(h.size, data.size());
    EXPECT_EQ(seen.offset, 4242u);  // Header complete before the copy.
    EXPECT_TRUE(dest == data) << piece;
  }
}

TEST(ChunkDecoderTest, FieldsAfterThePayloadAreHonoured) {
  // data (15) first, then offset and entry, plus an unknown field (9).
  std::string wire = std::string("\x7a\x03" "abc", 5) +
                     std::string("\x10\x05\x08\x02\x48\x01", 6);
  grpc::ByteBuffer b = Buffer(wire, 2);
  std::string dest(3, '.');
  ASSERT_OK_AND_ASSIGN(
      ChunkHeader h,
      DecodeChunk(&b, [&](const ChunkHeader& h) -> absl::StatusOr<std::byte*> {
        EXPECT_EQ(h.offset, 5u);
        return reinterpret_cast<std::byte*>(dest.data());
      }));
  EXPECT_EQ(h.entry, 2u);
  EXPECT_EQ(dest, "abc");
}

TEST(ChunkDecoderTest, LocateErrorStopsBeforeCopying) {
  grpc::ByteBuffer b = Buffer(Serialized(9, 0, 0, "zz"), 64);
  EXPECT_THAT(DecodeChunk(&b, [](const ChunkHeader&) -> absl::StatusOr<std::byte*> {
                return absl::InternalError("entry 9 of 2");
              }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("entry 9")));
}

TEST(ChunkDecoderTest, MalformedMessagesAreDataLoss) {
  auto never = [](const ChunkHeader&) -> absl::StatusOr<std::byte*> {
    ADD_FAILURE() << "must not locate";
    return absl::InternalError("");
  };
  std::string full = Serialized(1, 2, 3, "payload");
  for (const std::string& bad :
       {full.substr(0, full.size() - 2),          // Truncated payload.
        std::string("\x08", 1),                    // Truncated varint.
        std::string("\x10\x01\x08\x01", 4),        // No data field.
        full + std::string("\x7a\x01z", 3)}) {     // Repeated data.
    grpc::ByteBuffer b = Buffer(bad, 3);
    EXPECT_THAT(DecodeChunk(&b, never), StatusIs(absl::StatusCode::kDataLoss));
  }
}

}  // namespace
}  // namespace weightserver::client
