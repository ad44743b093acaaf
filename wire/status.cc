// Copyright 2026 The Weightserver Authors.
//
// wire/status.cc
#include "wire/status.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"

namespace weightserver::wire {
namespace {

using google::protobuf::io::ArrayInputStream;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;

// google.rpc.Status: 1 code (int32), 2 message, 3 details (repeated Any);
// google.protobuf.Any: 1 type_url, 2 value. Tags for length-delimited fields.
constexpr uint32_t kCodeTag = 1 << 3 | 0;
constexpr uint32_t kMessageTag = 2 << 3 | 2;
constexpr uint32_t kDetailsTag = 3 << 3 | 2;
constexpr uint32_t kTypeUrlTag = 1 << 3 | 2;
constexpr uint32_t kValueTag = 2 << 3 | 2;

void WriteBytes(CodedOutputStream* out, uint32_t tag, const std::string& s) {
  out->WriteTag(tag);
  out->WriteVarint32(static_cast<uint32_t>(s.size()));
  out->WriteString(s);
}

// Reads a length-delimited field's bytes.
bool ReadBytes(CodedInputStream* in, std::string* out) {
  uint32_t n;
  return in->ReadVarint32(&n) && in->ReadString(out, static_cast<int>(n));
}

bool ParseAny(const std::string& bytes, std::string* url, std::string* value) {
  ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  CodedInputStream in(&stream);
  while (uint32_t tag = in.ReadTag()) {
    if (tag == kTypeUrlTag) {
      if (!ReadBytes(&in, url)) return false;
    } else if (tag == kValueTag) {
      if (!ReadBytes(&in, value)) return false;
    } else {
      return false;
    }
  }
  return in.ConsumedEntireMessage() && !url->empty();
}

// The (url, value) pairs of google.rpc.Status `details`; false when the
// bytes are not such a message.
bool ParseDetails(const std::string& bytes,
                  std::vector<std::pair<std::string, std::string>>* out) {
  ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  CodedInputStream in(&stream);
  while (uint32_t tag = in.ReadTag()) {
    std::string field;
    if (tag == kCodeTag) {
      uint32_t code;
      if (!in.ReadVarint32(&code)) return false;
    } else if (tag == kMessageTag) {
      if (!ReadBytes(&in, &field)) return false;
    } else if (tag == kDetailsTag) {
      std::string url, value;
      if (!ReadBytes(&in, &field) || !ParseAny(field, &url, &value)) {
        return false;
      }
      out->emplace_back(std::move(url), std::move(value));
    } else {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string details;
  {
    StringOutputStream stream(&details);
    CodedOutputStream out(&stream);
    bool any = false;
    status.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
      if (!any) {
        out.WriteTag(kCodeTag);
        out.WriteVarint32(static_cast<uint32_t>(status.code()));
        WriteBytes(&out, kMessageTag, std::string(status.message()));
        any = true;
      }
      std::string one;
      {
        StringOutputStream s(&one);
        CodedOutputStream o(&s);
        WriteBytes(&o, kTypeUrlTag, std::string(url));
        WriteBytes(&o, kValueTag, std::string(value));
      }
      WriteBytes(&out, kDetailsTag, one);
    });
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()), details);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  std::vector<std::pair<std::string, std::string>> payloads;
  if (!status.error_details().empty() &&
      ParseDetails(status.error_details(), &payloads)) {
    for (auto& [url, value] : payloads) out.SetPayload(url, absl::Cord(value));
  }
  return out;
}

bool IsRetryable(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

}  // namespace weightserver::wire
