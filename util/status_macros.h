// Copyright 2026 The Weightserver Authors.
//
// util/status_macros.h: early-return helpers for absl::Status code.
//
// Abseil 20220623 (Debian bookworm) has no status macros; these are spelled like
// the ones in later Abseil / tensorstore so a future switch is a rename.
//
// Example:
//   absl::StatusOr<Header> Load(std::string_view path) {
//     RETURN_IF_ERROR(CheckPath(path));
//     ASSIGN_OR_RETURN(auto bytes, ReadAll(path));
//     return ParseHeader(bytes);
//   }
#ifndef WEIGHTSERVER_UTIL_STATUS_MACROS_H_
#define WEIGHTSERVER_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status); returns it from the caller when not OK.
#define RETURN_IF_ERROR(expr)                               \
  do {                                                      \
    ::absl::Status ws_status_ = (expr);                     \
    if (ABSL_PREDICT_FALSE(!ws_status_.ok())) return ws_status_; \
  } while (0)

#define WS_STATUS_CONCAT_INNER_(a, b) a##b
#define WS_STATUS_CONCAT_(a, b) WS_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from the
// caller, else move-assigns the value to `lhs` (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  WS_ASSIGN_OR_RETURN_IMPL_(WS_STATUS_CONCAT_(ws_statusor_, __LINE__), lhs, rexpr)

#define WS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {             \
    return std::move(statusor).status();                \
  }                                                     \
  lhs = *std::move(statusor)

#endif  // WEIGHTSERVER_UTIL_STATUS_MACROS_H_
