// Copyright 2026 The Weightserver Authors.
//
// wire/chunk_codec.h: the Fetch response (v1.Chunk) as bytes, both ways.
//
// A Chunk is never built as a protobuf message: the server sends a small
// header, encoded here, followed by the payload slices (pointing at a file
// mapping or a pool buffer); the client decodes the header fields with a
// public protobuf CodedInputStream over the received grpc::ByteBuffer and
// copies the payload once, straight to where it belongs. Field numbers live
// only in this file and in proto/weightserver/v1/weightserver.proto.
//
// Decoding accepts any field order (a payload that arrives before `offset`
// is staged once) and skips unknown fields; a missing or repeated payload, a
// truncated field, a group or trailing bytes are DATA_LOSS.
//
// Example:
//   // Server: the header, then the payload, is the serialized Chunk.
//   std::string h = EncodeChunkHeader(entry, offset, crc, payload.size());
//   // Client:
//   absl::StatusOr<ChunkHeader> c = DecodeChunk(&buffer,
//       [&](const ChunkHeader& h) -> absl::StatusOr<std::byte*> {
//         return dest + h.offset;   // after checking h against what is open
//       });
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_WIRE_CHUNK_CODEC_H_
#define WEIGHTSERVER_WIRE_CHUNK_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include <grpcpp/support/byte_buffer.h>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace weightserver::wire {

// The fields of a Chunk but its payload.
struct ChunkHeader {
  uint32_t entry = 0;   // Index of the request entry.
  uint64_t offset = 0;  // Of the payload in that entry's output.
  uint32_t crc32c = 0;  // Of the payload.
  uint64_t size = 0;    // Payload bytes.
};

// The serialized fields entry, offset, crc32c, then the tag and length of
// `data` (field 15): appending `size` payload bytes gives the whole Chunk.
std::string EncodeChunkHeader(uint32_t entry, uint64_t offset, uint32_t crc32c,
                              uint64_t size);

// Decodes `buffer` (consumed). `locate` gets the header (size set) and
// returns where the `size` payload bytes go, or an error that aborts
// decoding. Errors: DataLoss "malformed Chunk message: ..." for a malformed
// message; whatever `locate` returns.
absl::StatusOr<ChunkHeader> DecodeChunk(
    grpc::ByteBuffer* buffer,
    absl::FunctionRef<absl::StatusOr<std::byte*>(const ChunkHeader&)> locate);

}  // namespace weightserver::wire

#endif  // WEIGHTSERVER_WIRE_CHUNK_CODEC_H_
