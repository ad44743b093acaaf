// Copyright 2026 The Weightserver Authors.
//
// server/mapped_file.cc
#include "server/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/sigbus_guard.h"
#include "util/crc32c.h"
#include "util/log.h"

namespace weightserver::server {

FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{static_cast<uint64_t>(st.st_dev),
                      static_cast<uint64_t>(st.st_ino),
                      static_cast<uint64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                          st.st_mtim.tv_nsec,
                      static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 +
                          st.st_ctim.tv_nsec};
}

const char* ChangedTime(const FileIdentity& now, const FileIdentity& then) {
  if (now.mtime_ns != then.mtime_ns) return "mtime";
  if (now.ctime_ns != then.ctime_ns) return "ctime";
  return nullptr;
}

absl::StatusOr<FileIdentity> StatIdentity(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  return IdentityOf(st);
}

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO (or a device) would otherwise wait for a
  // writer, and hang the scan; a regular file's reads ignore the flag.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return ErrnoStatus(e, "fstat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a regular file"));
  }
  FileIdentity identity = IdentityOf(st);
  void* data = nullptr;
  if (identity.size > 0) {
    data = mmap(nullptr, identity.size, PROT_READ, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) {
      int e = errno;
      close(fd);
      return ErrnoStatus(e, "mmap", path);
    }
  }
  MappedFile file(path, fd, data, identity);
  if (data != nullptr) {
    file.registry_slot_ = RegisterMapping(data, identity.size);
    if (file.registry_slot_ < 0) {
      LOG(WARNING) << path << ": more than 4096 files mapped; a truncation of "
                   << "this one while a chunk of it is being sent is fatal";
    }
  }
  return file;
}

absl::StatusOr<MappedFile> MappedFile::OpenFilling(const std::string& path) {
  absl::StatusOr<MappedFile> file = Open(path);
  if (file.ok()) file->filling_ = true;
  return file;
}

MappedFile::MappedFile(std::string path, int fd, void* data,
                       FileIdentity identity)
    : path_(std::move(path)),
      fd_(fd),
      data_(data),
      identity_(identity),
      block_crcs_(new std::atomic<uint64_t>[identity.size / kCrcBlockBytes]()) {}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      identity_(other.identity_),
      block_crcs_(std::move(other.block_crcs_)),
      registry_slot_(std::exchange(other.registry_slot_, -1)),
      filling_(other.filling_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Reset();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    identity_ = other.identity_;
    block_crcs_ = std::move(other.block_crcs_);
    registry_slot_ = std::exchange(other.registry_slot_, -1);
    filling_ = other.filling_;
  }
  return *this;
}

bool MappedFile::Poisoned() const { return MappingPoisoned(registry_slot_); }

namespace {
std::atomic<uint64_t> crc_cache_hits{0};
std::atomic<uint64_t> crc_cache_misses{0};

// Adds one call's counts to the process's when it returns: two atomic adds
// per chunk, not per block.
struct CrcCacheCount {
  uint64_t hits = 0;
  uint64_t misses = 0;
  ~CrcCacheCount() {
    if (hits > 0) crc_cache_hits.fetch_add(hits, std::memory_order_relaxed);
    if (misses > 0) crc_cache_misses.fetch_add(misses, std::memory_order_relaxed);
  }
};
}  // namespace

CrcCacheStats GetCrcCacheStats() {
  return {.hits = crc_cache_hits.load(std::memory_order_relaxed),
          .misses = crc_cache_misses.load(std::memory_order_relaxed)};
}

bool MappedFile::CachedCrc32c(uint64_t offset, uint64_t length,
                              uint32_t* crc) const {
  static const Crc32cCombiner kBlock(kCrcBlockBytes);
  CrcCacheCount count;
  const std::byte* base = static_cast<const std::byte*>(data_);
  const uint64_t end = offset + length;
  uint64_t pos = offset;
  // The head, up to the first block boundary.
  const uint64_t aligned =
      std::min(end, (offset + kCrcBlockBytes - 1) / kCrcBlockBytes * kCrcBlockBytes);
  if (aligned > pos && !GuardedCrc32c(base + pos, aligned - pos, crc)) {
    return false;
  }
  pos = std::max(pos, aligned);
  // Whole blocks: all lie within the file, as end <= size().
  for (; pos + kCrcBlockBytes <= end; pos += kCrcBlockBytes) {
    std::atomic<uint64_t>& slot = block_crcs_[pos / kCrcBlockBytes];
    uint64_t cached = slot.load(std::memory_order_relaxed);
    if (cached == 0) {
      ++count.misses;
      uint32_t block = 0;
      if (!GuardedCrc32c(base + pos, kCrcBlockBytes, &block)) return false;
      cached = uint64_t{1} << 32 | block;
      // Zeros patched in for a page that could not be read are not the file.
      if (!Poisoned()) slot.store(cached, std::memory_order_relaxed);
    } else {
      ++count.hits;
      // Fault the pages in here, under the guard, not on a gRPC thread.
      if (!GuardedTouch(base + pos, kCrcBlockBytes)) return false;
    }
    *crc = kBlock.Combine(*crc, static_cast<uint32_t>(cached));
  }
  // The tail.
  return pos >= end || GuardedCrc32c(base + pos, end - pos, crc);
}

MappedFile::~MappedFile() { Reset(); }

void MappedFile::Reset() {
  if (data_ != nullptr) {
    UnregisterMapping(registry_slot_);
    registry_slot_ = -1;
    munmap(data_, identity_.size);
  }
  if (fd_ >= 0) close(fd_);
  data_ = nullptr;
  fd_ = -1;
}

bool MappedFile::Resident(uint64_t offset, uint64_t length) const {
  if (length == 0) return true;
  if (data_ == nullptr || offset > identity_.size ||
      length > identity_.size - offset) {
    return false;
  }
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t first = offset / page * page;
  const uint64_t end = offset + length;
  thread_local std::vector<unsigned char> pages;
  pages.resize((end - first + page - 1) / page);
  if (mincore(static_cast<char*>(data_) + first, end - first, pages.data()) != 0) {
    return false;
  }
  for (unsigned char p : pages) {
    if ((p & 1) == 0) return false;
  }
  return true;
}

absl::Status MappedFile::CheckUnchanged() const {
  struct stat st;
  if (fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", path_);
  FileIdentity now = IdentityOf(st);
  if (now.size != identity_.size) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": file changed while served (size was ",
                     identity_.size, ", now ", now.size, ")"));
  }
  // A cache's copy is replaced by the cache itself (an eviction), which
  // keeps serving the old one to the streams that hold it.
  if (filling_) return absl::OkStatus();
  absl::StatusOr<FileIdentity> by_path = StatIdentity(path_);
  if (!by_path.ok() || by_path->inode != identity_.inode ||
      by_path->device != identity_.device) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": file replaced or removed since it was scanned"));
  }
  // After the path check: unlinking the old file (a replacement) changes
  // its ctime too.
  if (const char* changed = filling_ ? nullptr : ChangedTime(now, identity_)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, ": file modified in place while served (", changed, " changed)"));
  }
  return absl::OkStatus();
}

}  // namespace weightserver::server
