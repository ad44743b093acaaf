// Copyright 2026 The Weightserver Authors.
//
// weightserver/format/errors.h: the reference reader's error kinds, carried in absl::Status.
//
// A format error is an absl::Status whose message begins with
// "<source>: <Kind>: ..." (for example
// "llama/model.safetensors: InvalidOffset: tensor 'w': begins at 4, expected 0")
// and that carries the kind as a payload, so callers compare kinds, never
// message text: FormatErrorKind(status) == ErrorKind::kInvalidOffset.
//
// Reader errors use StatusCode::kDataLoss (the file is not a valid safetensors
// file); writer errors use kInvalidArgument (the caller's input is wrong).
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_FORMAT_ERRORS_H_
#define WEIGHTSERVER_FORMAT_ERRORS_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"

namespace weightserver::format {

// The names are those of the reference's SafeTensorError variants.
enum class ErrorKind {
  kHeaderTooSmall,
  kHeaderTooLarge,
  kInvalidHeaderLength,
  kInvalidHeader,
  kInvalidHeaderDeserialization,
  kInvalidOffset,
  kValidationOverflow,
  kMisalignedSlice,
  kTensorInvalidInfo,
  kMetadataIncompleteBuffer,
  kTensorNotFound,
  kInvalidTensorView,
};

// "HeaderTooSmall", "InvalidOffset", ...
absl::string_view ErrorKindName(ErrorKind kind);

// Builds a status with `code`, the message "<source>: <KindName>: <detail>"
// (just "<KindName>: <detail>" when source is empty) and the kind as payload.
absl::Status FormatError(absl::StatusCode code, ErrorKind kind,
                         absl::string_view source, absl::string_view detail);

// The kind carried by `status`, or nullopt when it is OK or not a format error.
std::optional<ErrorKind> FormatErrorKind(const absl::Status& status);

}  // namespace weightserver::format

#endif  // WEIGHTSERVER_FORMAT_ERRORS_H_
