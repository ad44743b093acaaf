// Copyright 2026 The Weightserver Authors.
//
// wire/chunk_codec.cc
#include "wire/chunk_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace weightserver::wire {
namespace {

// Field numbers of v1.Chunk and the protobuf wire types they use.
constexpr uint32_t kEntryField = 1;
constexpr uint32_t kOffsetField = 2;
constexpr uint32_t kCrc32cField = 3;
constexpr uint32_t kDataField = 15;
enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kFixed32 = 5,
};
constexpr uint32_t Tag(uint32_t field, WireType type) {
  return field << 3 | type;
}

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

absl::Status Malformed(const char* what) {
  return absl::DataLossError(absl::StrCat("malformed Chunk message: ", what));
}

// Skips a field of an unknown number. False for a group (deprecated, never
// sent by us) or a truncated field.
bool SkipField(google::protobuf::io::CodedInputStream* in, uint32_t tag) {
  switch (tag & 7) {
    case kVarint: {
      uint64_t v;
      return in->ReadVarint64(&v);
    }
    case kFixed64: {
      uint64_t v;
      return in->ReadLittleEndian64(&v);
    }
    case kLengthDelimited: {
      uint32_t n;
      return in->ReadVarint32(&n) && in->Skip(static_cast<int>(n));
    }
    case kFixed32: {
      uint32_t v;
      return in->ReadLittleEndian32(&v);
    }
    default:
      return false;
  }
}

}  // namespace

std::string EncodeChunkHeader(uint32_t entry, uint64_t offset, uint32_t crc32c,
                              uint64_t size) {
  std::string h;
  h.reserve(32);
  h.push_back(static_cast<char>(Tag(kEntryField, kVarint)));
  AppendVarint(entry, &h);
  h.push_back(static_cast<char>(Tag(kOffsetField, kVarint)));
  AppendVarint(offset, &h);
  h.push_back(static_cast<char>(Tag(kCrc32cField, kFixed32)));
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>(crc32c >> (8 * i)));
  h.push_back(static_cast<char>(Tag(kDataField, kLengthDelimited)));
  AppendVarint(size, &h);
  return h;
}

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
    if (tag == Tag(kEntryField, kVarint)) {
      if (!in.ReadVarint32(&h.entry)) return Malformed("entry");
    } else if (tag == Tag(kOffsetField, kVarint)) {
      if (!in.ReadVarint64(&h.offset)) return Malformed("offset");
    } else if (tag == Tag(kCrc32cField, kFixed32)) {
      if (!in.ReadLittleEndian32(&h.crc32c)) return Malformed("crc32c");
    } else if (tag == Tag(kDataField, kLengthDelimited)) {
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
    } else if ((tag >> 3) == 0 || !SkipField(&in, tag)) {
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

}  // namespace weightserver::wire
