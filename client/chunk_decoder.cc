// Copyright 2026 The Weightserver Authors.
//
// client/chunk_decoder.cc
#include "client/chunk_decoder.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace weightserver::client {
namespace {

using google::protobuf::internal::WireFormatLite;

absl::Status Malformed(const char* what) {
  return absl::DataLossError(absl::StrCat("malformed Chunk message: ", what));
}

}  // namespace

absl::StatusOr<ChunkHeader> DecodeChunk(
    grpc::ByteBuffer* buffer,
    absl::FunctionRef<absl::StatusOr<std::byte*>(const ChunkHeader&)> locate) {
  const size_t total = buffer->Length();
  grpc::ProtoBufferReader reader(buffer);
  google::protobuf::io::CodedInputStream in(&reader);
  ChunkHeader h;
  bool have_data = false;
  std::string staged;  // Only when fields follow the payload.
  while (uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const auto type = WireFormatLite::GetTagWireType(tag);
    if (field == 1 && type == WireFormatLite::WIRETYPE_VARINT) {
      if (!in.ReadVarint32(&h.entry)) return Malformed("entry");
    } else if (field == 2 && type == WireFormatLite::WIRETYPE_VARINT) {
      if (!in.ReadVarint64(&h.offset)) return Malformed("offset");
    } else if (field == 3 && type == WireFormatLite::WIRETYPE_FIXED32) {
      if (!in.ReadLittleEndian32(&h.crc32c)) return Malformed("crc32c");
    } else if (field == 15 &&
               type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (have_data) return Malformed("repeated data");
      uint32_t size;
      if (!in.ReadVarint32(&size)) return Malformed("data length");
      have_data = true;
      h.size = size;
      const size_t pos = static_cast<size_t>(in.CurrentPosition());
      if (pos > total || size > total - pos) return Malformed("data length");
      if (pos + size == total) {
        // The usual layout: the payload ends the message; the header is
        // complete, so the payload goes straight to its destination.
        absl::StatusOr<std::byte*> dest = locate(h);
        if (!dest.ok()) return dest.status();
        if (size > 0 && !in.ReadRaw(*dest, static_cast<int>(size))) {
          return Malformed("truncated data");
        }
        return h;
      }
      staged.resize(size);
      if (size > 0 && !in.ReadRaw(staged.data(), static_cast<int>(size))) {
        return Malformed("truncated data");
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return Malformed("unreadable field");
    }
  }
  if (!in.ConsumedEntireMessage() ||
      static_cast<size_t>(in.CurrentPosition()) != total) {
    return Malformed("trailing bytes");
  }
  if (!have_data) return Malformed("no data field");
  absl::StatusOr<std::byte*> dest = locate(h);
  if (!dest.ok()) return dest.status();
  if (!staged.empty()) std::memcpy(*dest, staged.data(), staged.size());
  return h;
}

}  // namespace weightserver::client
