// Copyright 2026 The Weightserver Authors.
//
// server/mapped_file.h: a read-only, shared memory mapping of a whole file.
//
// MappedFile is a move-only RAII owner of a mapping. The repository keeps each
// one in a std::shared_ptr<const MappedFile> so that a running Fetch stream
// keeps the mapping alive after the catalog drops it.
//
// The identity (device, inode, size, mtime, ctime) is captured when the file
// is opened; CheckUnchanged() re-stats it to tell whether the file was
// replaced or modified since, which the service checks before streaming from
// it. ctime catches an in-place write that restores the mtime (utimensat
// itself sets ctime). Its limit: a write that keeps every stat field (only
// possible by resetting the clock, or on file systems without ctime) is only
// caught by the CRC cache, for blocks that were checksummed before.
//
// Example:
//   ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open("/models/m/x.safetensors"));
//   absl::Span<const std::byte> bytes = f.bytes();
//
// Thread-safety: const methods are safe to call concurrently.
#ifndef WEIGHTSERVER_SERVER_MAPPED_FILE_H_
#define WEIGHTSERVER_SERVER_MAPPED_FILE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "util/errno_status.h"

namespace weightserver::server {

// Whole blocks CachedCrc32c took from the cache (hits) and checksummed
// (misses), over every file of the process since it started.
struct CrcCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
};
CrcCacheStats GetCrcCacheStats();

// What identifies one version of a file.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  bool operator==(const FileIdentity&) const = default;
};

// The identity of the file `st` describes.
FileIdentity IdentityOf(const struct stat& st);

// "mtime" or "ctime": which of the two differs between `now` and `then`, or
// nullptr when both are equal (the file's bytes are taken as unchanged).
const char* ChangedTime(const FileIdentity& now, const FileIdentity& then);

class MappedFile {
 public:
  // Opens and maps `path` read-only. An empty file is valid (no mapping).
  // Errors: NotFound / PermissionDenied / Internal from open, fstat or mmap,
  // with the path and errno text in the message.
  static absl::StatusOr<MappedFile> Open(const std::string& path);

  // The same for a cache's sparse copy (cache/), which the cache itself
  // writes while it is served, and replaces when it evicts it: CheckUnchanged
  // and the read stage then compare its size only (the open file's), not
  // its times nor what its path names now. Its bytes are guarded by the
  // cache's block checksums instead.
  static absl::StatusOr<MappedFile> OpenFilling(const std::string& path);
  bool filling() const { return filling_; }

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::string& path() const { return path_; }
  const FileIdentity& identity() const { return identity_; }
  uint64_t size() const { return identity_.size; }
  absl::Span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(data_), identity_.size};
  }
  // The open descriptor (for pread / io_uring read paths).
  int fd() const { return fd_; }

  // True when every page of bytes [offset, offset + length) is in the page
  // cache (mincore), so reading them through the mapping will not block.
  bool Resident(uint64_t offset, uint64_t length) const;

  // OK when the path still names the same, unmodified file; otherwise
  // FailedPrecondition naming what changed (or the stat error).
  absl::Status CheckUnchanged() const;

  // Extends *crc (CRC32C) over bytes [offset, offset + length) of the
  // mapping, which the caller has checked lie within size(). Whole 64 KiB
  // blocks (aligned in the file) are checksummed once and then taken from a
  // per-file cache and combined (Crc32cCombiner), so serving the same bytes
  // again costs no CRC pass; the unaligned head and tail are read each time.
  // Every read is under the SIGBUS guard: false when one was interrupted
  // (*crc is then unspecified).
  //
  // A cached block is as old as its first read. If the file is changed
  // without its identity changing, a stale CRC makes the client reject the
  // chunk: never bytes with a matching, wrong checksum.
  bool CachedCrc32c(uint64_t offset, uint64_t length, uint32_t* crc) const;

  static constexpr uint64_t kCrcBlockBytes = 64 << 10;

  // True once a page of the mapping could not be read outside a guard and
  // was replaced by zeros (sigbus_guard.h, RegisterMapping): every later read
  // of this file must fail.
  bool Poisoned() const;

 private:
  MappedFile(std::string path, int fd, void* data, FileIdentity identity);
  void Reset();

  std::string path_;
  int fd_ = -1;
  void* data_ = nullptr;
  FileIdentity identity_;
  // One per whole block of the file: 0 until computed, then 1 << 32 | crc.
  std::unique_ptr<std::atomic<uint64_t>[]> block_crcs_;
  int registry_slot_ = -1;  // In the SIGBUS handler's table; -1: none.
  bool filling_ = false;     // OpenFilling.
};

// The identity of the file at `path` now (stat, following symlinks).
absl::StatusOr<FileIdentity> StatIdentity(const std::string& path);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_MAPPED_FILE_H_
