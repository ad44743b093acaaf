// Copyright 2026 The Weightserver Authors.
//
// client/chunk_decoder.h: decode a serialized Chunk straight into place.
//
// The client receives Fetch responses as raw grpc::ByteBuffers (a list of
// slices as they came off the socket). DecodeChunk reads the header fields
// with a CodedInputStream over those slices, asks `locate` where the payload
// belongs, and copies it there: one copy, no std::string in between. The
// caller then checks the CRC32C on the destination bytes while they are hot.
//
// Any field order is accepted (a payload that arrives before `offset` is
// staged once); unknown fields are skipped; a missing or repeated payload is
// an error.
//
// Example:
//   absl::StatusOr<ChunkHeader> h = DecodeChunk(&buffer,
//       [&](const ChunkHeader& h) -> absl::StatusOr<std::byte*> {
//         return dest + h.offset;   // after checking h against what's open
//       });
//
// Thread-safety: pure function.
#ifndef WEIGHTSERVER_CLIENT_CHUNK_DECODER_H_
#define WEIGHTSERVER_CLIENT_CHUNK_DECODER_H_

#include <cstddef>
#include <cstdint>

#include <grpcpp/support/byte_buffer.h>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace weightserver::client {

struct ChunkHeader {
  uint32_t entry = 0;
  uint64_t offset = 0;
  uint32_t crc32c = 0;
  uint64_t size = 0;  // Payload bytes.
};

// Decodes `buffer` (consumed). `locate` gets the header (size set) and
// returns where the `size` payload bytes go, or an error that aborts decoding.
// Errors: DataLoss for a malformed message; whatever `locate` returns.
absl::StatusOr<ChunkHeader> DecodeChunk(
    grpc::ByteBuffer* buffer,
    absl::FunctionRef<absl::StatusOr<std::byte*>(const ChunkHeader&)> locate);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_CHUNK_DECODER_H_
