// Copyright 2026 The Weightserver Authors.
//
// tests/wire/chunk_codec_test.cc: the Chunk codec round trip (what the
// server encodes is what protobuf and the client decode), decoding from raw
// slices into place in any layout a protobuf encoder may choose, and
// malformed input.
#include "wire/chunk_codec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::wire {
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

TEST(ChunkCodecTest, EncodedHeaderPlusPayloadIsTheProtoChunk) {
  for (uint64_t size : {0ull, 1ull, 127ull, 128ull, 1ull << 20, 4ull << 20}) {
   for (uint64_t offset : {0ull, 300ull, 1ull << 40, ~0ull}) {
    const std::string payload(size, 'p');
    const std::string wire =
        EncodeChunkHeader(7, offset, 0xE3069283u, payload.size()) + payload;
    v1::Chunk parsed;
    ASSERT_TRUE(parsed.ParseFromString(wire)) << size << " " << offset;
    // The standard encoder produces the same bytes (it omits zero fields).
    if (size > 0 && offset > 0) {
      EXPECT_EQ(parsed.SerializeAsString(), wire);
    }
    EXPECT_EQ(parsed.entry(), 7u);
    EXPECT_EQ(parsed.offset(), offset);
    EXPECT_EQ(parsed.crc32c(), 0xE3069283u);
    EXPECT_EQ(parsed.data(), payload);
    // And back through the decoder, from slices of any size.
    grpc::ByteBuffer b = Buffer(wire, 4099);
    std::string dest(payload.size(), '.');
    ASSERT_OK_AND_ASSIGN(
        ChunkHeader h,
        DecodeChunk(&b, [&](const ChunkHeader&) -> absl::StatusOr<std::byte*> {
          return reinterpret_cast<std::byte*>(dest.data());
        }));
    EXPECT_EQ(h.entry, 7u);
    EXPECT_EQ(h.offset, offset);
    EXPECT_EQ(h.crc32c, 0xE3069283u);
    EXPECT_EQ(h.size, payload.size());
    EXPECT_EQ(dest, payload);
   }
  }
}

TEST(ChunkCodecTest, PayloadLandsInPlaceAcrossSlices) {
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

TEST(ChunkCodecTest, FieldsAfterThePayloadAreHonoured) {
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

TEST(ChunkCodecTest, LocateErrorStopsBeforeCopying) {
  grpc::ByteBuffer b = Buffer(Serialized(9, 0, 0, "zz"), 64);
  EXPECT_THAT(DecodeChunk(&b, [](const ChunkHeader&) -> absl::StatusOr<std::byte*> {
                return absl::InternalError("entry 9 of 2");
              }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("entry 9")));
}

TEST(ChunkCodecTest, MalformedMessagesAreDataLoss) {
  auto never = [](const ChunkHeader&) -> absl::StatusOr<std::byte*> {
    ADD_FAILURE() << "must not locate";
    return absl::InternalError("");
  };
  std::string full = Serialized(1, 2, 3, "payload");
  for (const std::string& bad :
       {full.substr(0, full.size() - 2),          // Truncated payload.
        std::string("\x08", 1),                    // Truncated varint.
        std::string("\x10\x01\x08\x01", 4),        // No data field.
        full + std::string("\x7a\x01z", 3),       // Repeated data.
        full + std::string("\x0b", 1),             // A group start (3).
        std::string("\x00\x01", 2) + full,        // Field number 0.
        std::string("\x7a\xff\xff\xff\xff\x0f", 6)}) {  // Length past end.
    grpc::ByteBuffer b = Buffer(bad, 3);
    EXPECT_THAT(DecodeChunk(&b, never), StatusIs(absl::StatusCode::kDataLoss));
  }
}

}  // namespace
}  // namespace weightserver::wire
