// Copyright 2026 The Weightserver Authors.
//
// util/errno_status.h: an absl::Status from a failed system call.
//
// Example:
//   if (fd < 0) return ErrnoStatus(errno, "open", path);
//   // NotFound: "open /x/y: No such file or directory"
//
// Thread-safety: pure function.
#ifndef WEIGHTSERVER_UTIL_ERRNO_STATUS_H_
#define WEIGHTSERVER_UTIL_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weightserver {

// "<operation> <path>: <strerror>" with the code: NotFound (ENOENT, ENOTDIR),
// PermissionDenied (EACCES, EPERM), ResourceExhausted (ENOMEM, EMFILE,
// ENFILE, ENOSPC, EDQUOT, EFBIG), Internal otherwise.
absl::Status ErrnoStatus(int errno_value, absl::string_view operation,
                         absl::string_view path);

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_ERRNO_STATUS_H_
