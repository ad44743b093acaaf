// Copyright 2026 The Weightserver Authors.
//
// format/errors.cc: format errors as absl::Status with the kind as a payload.
//
// The payload (under kPayloadUrl) is the kind's name, so a status that crossed
// a process boundary as text can still be recognised by name.
#include "weightserver/format/errors.h"

#include <array>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace weightserver::format {
namespace {

constexpr absl::string_view kPayloadUrl =
    "type.googleapis.com/weightserver.format.ErrorKind";

constexpr std::array<absl::string_view, 12> kNames = {
    "HeaderTooSmall",
    "HeaderTooLarge",
    "InvalidHeaderLength",
    "InvalidHeader",
    "InvalidHeaderDeserialization",
    "InvalidOffset",
    "ValidationOverflow",
    "MisalignedSlice",
    "TensorInvalidInfo",
    "MetadataIncompleteBuffer",
    "TensorNotFound",
    "InvalidTensorView",
};
static_assert(static_cast<size_t>(ErrorKind::kInvalidTensorView) + 1 ==
              kNames.size());

}  // namespace

absl::string_view ErrorKindName(ErrorKind kind) {
  return kNames[static_cast<size_t>(kind)];
}

absl::Status FormatError(absl::StatusCode code, ErrorKind kind,
                         absl::string_view source, absl::string_view detail) {
  std::string message =
      source.empty()
          ? absl::StrCat(ErrorKindName(kind), ": ", detail)
          : absl::StrCat(source, ": ", ErrorKindName(kind), ": ", detail);
  absl::Status status(code, message);
  status.SetPayload(kPayloadUrl, absl::Cord(ErrorKindName(kind)));
  return status;
}

std::optional<ErrorKind> FormatErrorKind(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string name(*payload);
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ErrorKind>(i);
  }
  return std::nullopt;
}

}  // namespace weightserver::format
