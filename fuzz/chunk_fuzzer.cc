// Copyright 2026 The Weightserver Authors.
//
// fuzz/chunk_fuzzer.cc: libFuzzer target for the Chunk decoder.
//
// Input: the first byte cuts the rest into up to 4 slices of one
// grpc::ByteBuffer (a message arrives in pieces); the rest is a Chunk as a
// server might send it. Checks that decoding never writes past what `locate`
// handed out and that a decoded chunk's size is the length of its payload.
// Then the round trip: EncodeChunkHeader of fields taken from the input plus
// a payload decodes to exactly those fields and bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include "fuzz/check.h"
#include "wire/chunk_codec.h"

namespace weightserver::wire {
namespace {

void Check(bool ok, const char* what) {
  fuzz::Check(ok, "chunk_fuzzer", what);
}

constexpr uint64_t kMaxPayload = uint64_t{1} << 20;

grpc::ByteBuffer Buffer(const uint8_t* data, size_t size, uint8_t cuts) {
  std::vector<grpc::Slice> slices;
  size_t at = 0;
  for (int i = 0; i < 3 && size > 0; ++i) {
    size_t len = ((cuts >> (2 * i)) & 3) * size / 4;
    if (len == 0 || at + len > size) continue;
    slices.emplace_back(data + at, len);
    at += len;
  }
  slices.emplace_back(data + at, size - at);
  return grpc::ByteBuffer(slices.data(), slices.size());
}

// Decodes `buffer`; on success `payload` holds what was written.
absl::StatusOr<ChunkHeader> Decode(grpc::ByteBuffer* buffer,
                                   std::vector<std::byte>* payload) {
  return DecodeChunk(buffer, [&](const ChunkHeader& h) -> absl::StatusOr<std::byte*> {
    if (h.size > kMaxPayload) return absl::OutOfRangeError("payload too large");
    // Exactly h.size bytes: ASan reports any write past them.
    payload->assign(h.size, std::byte{0});
    return payload->data();
  });
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::vector<std::byte> payload;
  grpc::ByteBuffer buffer = Buffer(data + 1, size - 1, data[0]);
  absl::StatusOr<ChunkHeader> h = Decode(&buffer, &payload);
  if (h.ok()) {
    Check(h->size == payload.size(), "size is the payload's length");
    Check(h->size <= size, "payload no longer than the input");
  }

  // Round trip: fields from the input, the payload the input's tail.
  uint32_t entry = 0, crc = 0;
  uint64_t offset = 0;
  size_t n = size - 1;
  const uint8_t* p = data + 1;
  if (n >= 4) { std::memcpy(&entry, p, 4); p += 4; n -= 4; }
  if (n >= 8) { std::memcpy(&offset, p, 8); p += 8; n -= 8; }
  if (n >= 4) { std::memcpy(&crc, p, 4); p += 4; n -= 4; }
  if (n > kMaxPayload) n = kMaxPayload;
  std::string wire = EncodeChunkHeader(entry, offset, crc, n);
  wire.append(reinterpret_cast<const char*>(p), n);
  grpc::ByteBuffer encoded =
      Buffer(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), data[0]);
  absl::StatusOr<ChunkHeader> back = Decode(&encoded, &payload);
  Check(back.ok(), "an encoded chunk decodes");
  Check(back->entry == entry && back->offset == offset && back->crc32c == crc &&
            back->size == n,
        "decoded fields are the encoded ones");
  Check(n == 0 || std::memcmp(payload.data(), p, n) == 0,
        "decoded payload is the encoded one");
}

}  // namespace
}  // namespace weightserver::wire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  weightserver::wire::FuzzOne(data, size);
  return 0;
}
