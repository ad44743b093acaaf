// Copyright 2026 The Weightserver Authors.
//
// util/small_file.h: the whole contents of a small file (a certificate, a
// key, a policy), bounded.
//
// Example:
//   ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, 1 << 20));
//
// Thread-safety: pure function.
#ifndef WEIGHTSERVER_UTIL_SMALL_FILE_H_
#define WEIGHTSERVER_UTIL_SMALL_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace weightserver {

// Errors: ErrnoStatus's for open/read; InvalidArgument for a file larger
// than `max_bytes` (or not a regular file). Messages name the path.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          uint64_t max_bytes);

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_SMALL_FILE_H_
