// Copyright 2026 The Weightserver Authors.
//
// util/byte_size.h: sizes on command lines ("800G", "1.5Ti", "4096").
//
// A number (decimal point allowed) and an optional unit: K, M, G, T, P (or
// Ki, Mi, ...; with or without a trailing B), each a power of 1024, as df
// and Kubernetes' Gi read them; no unit means bytes.
//
// Example:
//   ASSIGN_OR_RETURN(uint64_t bytes, ParseByteSize("800G"));
//
// Thread-safety: a pure function.
#ifndef WEIGHTSERVER_UTIL_BYTE_SIZE_H_
#define WEIGHTSERVER_UTIL_BYTE_SIZE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weightserver {

// Errors: InvalidArgument naming the text for anything else, or a size
// over 2^64 - 1.
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text);

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_BYTE_SIZE_H_
