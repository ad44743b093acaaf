// Copyright 2026 The Weightserver Authors.
//
// util/file_io.cc
#include "util/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "util/errno_status.h"

namespace weightserver {

absl::Status PreadFull(int fd, void* buf, size_t n, uint64_t offset,
                       const std::string& path) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t got = pread(fd, p, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (got == 0) {
      return absl::DataLossError(absl::StrCat(path, ": file shrank while read"));
    }
    p += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return absl::OkStatus();
}

absl::Status PwriteFull(int fd, const void* buf, size_t n, uint64_t offset,
                        const std::string& path) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t put = pwrite(fd, p, n, static_cast<off_t>(offset));
    if (put < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    p += put;
    n -= static_cast<size_t>(put);
    offset += static_cast<uint64_t>(put);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = absl::StrCat(dir, "/.", name, ".tmp-XXXXXX");
  int fd = mkstemp(tmp.data());
  if (fd < 0) return ErrnoStatus(errno, "create a temporary file in", dir);
  fchmod(fd, 0644);
  absl::Status status = PwriteFull(fd, bytes.data(), bytes.size(), 0, tmp);
  if (close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close", tmp);
  if (status.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "rename to", path);
  }
  if (!status.ok()) unlink(tmp.c_str());
  return status;
}

}  // namespace weightserver
