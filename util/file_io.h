// Copyright 2026 The Weightserver Authors.
//
// util/file_io.h: whole reads and writes at an offset, and a file replaced
// atomically.
//
// PreadFull and PwriteFull loop over short transfers and EINTR, so that a
// caller sees all the bytes or an error naming the path. WriteFileAtomically
// writes through a fresh temporary file beside the target (mkstemp: never
// through a symlink planted there, never shared by two writers) and renames
// it into place, so a reader sees the old bytes or the new ones.
//
// Example:
//   RETURN_IF_ERROR(PreadFull(fd, buf, n, offset, path));
//   RETURN_IF_ERROR(WriteFileAtomically(dir + "/config.json", bytes));
//
// Thread-safety: pure functions over the descriptors and paths given.
#ifndef WEIGHTSERVER_UTIL_FILE_IO_H_
#define WEIGHTSERVER_UTIL_FILE_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weightserver {

// Reads exactly `n` bytes at `offset`. Errors: ErrnoStatus's ("read PATH");
// DataLoss when the file ends first ("PATH: file shrank while read").
absl::Status PreadFull(int fd, void* buf, size_t n, uint64_t offset,
                       const std::string& path);

// Writes exactly `n` bytes at `offset`. Errors: ErrnoStatus's ("write
// PATH"): ResourceExhausted when there is no room (ENOSPC, EDQUOT, EFBIG).
absl::Status PwriteFull(int fd, const void* buf, size_t n, uint64_t offset,
                        const std::string& path);

// Replaces (or creates) `path` with `bytes`, mode 0644. Errors:
// ErrnoStatus's for the temporary file, its write, close or rename (the
// temporary file is removed).
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_FILE_IO_H_
