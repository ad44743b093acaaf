// Copyright 2026 The Weightserver Authors.
//
// cache/cached_file.cc
#include "cache/cached_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "util/crc32c.h"
#include "util/errno_status.h"
#include "util/file_io.h"
#include "util/log.h"

namespace weightserver::cache {
namespace {

// The map: a header, then one record per region.
constexpr char kMagic[8] = {'W', 'S', 'C', 'M', 'A', 'P', '0', '1'};
constexpr uint64_t kMapHeaderBytes = 32;  // Magic, size, header_end, block_bytes.
constexpr uint32_t kPresentMark = 0x53455250;  // "PRES": a region on disk.

struct Record {
  uint32_t crc = 0;
  uint32_t mark = 0;
};
static_assert(sizeof(Record) == 8);

// A write that failed for lack of room (ErrnoStatus: ENOSPC, EDQUOT, EFBIG)
// says so: the caller may retry once the cache has evicted.
absl::Status Write(int fd, const void* buf, size_t n, uint64_t offset,
                   const std::string& path) {
  absl::Status s = PwriteFull(fd, buf, n, offset, path);
  if (s.code() == absl::StatusCode::kResourceExhausted) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the cache's disk is full: ", s.message()));
  }
  return s;
}

}  // namespace

struct CachedFile::Waiter {
  std::function<void(absl::Status)> ready;
  std::atomic<int> remaining{0};
  Mutex mu;
  absl::Status status ABSL_GUARDED_BY(mu);  // The first failure.
};

absl::StatusOr<std::shared_ptr<CachedFile>> CachedFile::Open(
    CachedFileSpec spec, TaskPool* pool, CacheCounters* counters) {
  if (spec.block_bytes == 0 || spec.header_end < 8 ||
      spec.header_end > spec.size || !spec.fetch) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec.path, ": a cached copy needs block_bytes > 0, 8 <= header_end (",
        spec.header_end, ") <= size (", spec.size, ") and a fetch function"));
  }
  const std::string map_path = spec.path + ".map";
  int fd = open(spec.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open", spec.path);
  int map_fd = open(map_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (map_fd < 0) {
    int e = errno;
    close(fd);
    return ErrnoStatus(e, "open", map_path);
  }
  std::shared_ptr<CachedFile> file(
      new CachedFile(std::move(spec), fd, map_fd, pool, counters));
  if (absl::Status s = file->LoadMap(); !s.ok()) return s;
  absl::StatusOr<server::MappedFile> mapped =
      server::MappedFile::OpenFilling(file->spec_.path);
  if (!mapped.ok()) return mapped.status();
  file->mapped_ =
      std::make_shared<const server::MappedFile>(*std::move(mapped));
  return file;
}

CachedFile::CachedFile(CachedFileSpec spec, int fd, int map_fd, TaskPool* pool,
                       CacheCounters* counters)
    : spec_(std::move(spec)),
      fd_(fd),
      map_fd_(map_fd),
      pool_(pool),
      counters_(counters) {
  const uint64_t data = spec_.size - spec_.header_end;
  regions_ = 1 + static_cast<size_t>((data + spec_.block_bytes - 1) /
                                     spec_.block_bytes);
  state_.reset(new std::atomic<uint8_t>[regions_]());
  stored_crc_.assign(regions_, 0);
  last_used_ns_ = absl::ToUnixNanos(absl::Now());
}

CachedFile::~CachedFile() {
  close(fd_);
  close(map_fd_);
}

uint64_t CachedFile::RegionBegin(size_t r) const {
  return r == 0 ? 0 : spec_.header_end + (r - 1) * spec_.block_bytes;
}

uint64_t CachedFile::RegionEnd(size_t r) const {
  return r == 0 ? spec_.header_end
                : std::min(spec_.size, spec_.header_end + r * spec_.block_bytes);
}

size_t CachedFile::RegionOf(uint64_t offset) const {
  if (offset < spec_.header_end) return 0;
  return std::min(regions_ - 1,
                  1 + static_cast<size_t>((offset - spec_.header_end) /
                                          spec_.block_bytes));
}

bool CachedFile::complete() const { return present_.load() == regions_; }

absl::Status CachedFile::LoadMap() {
  const std::string map_path = spec_.path + ".map";
  char header[kMapHeaderBytes];
  std::memcpy(header, kMagic, 8);
  std::memcpy(header + 8, &spec_.size, 8);
  std::memcpy(header + 16, &spec_.header_end, 8);
  std::memcpy(header + 24, &spec_.block_bytes, 8);
  char found[kMapHeaderBytes] = {};
  struct stat st;
  if (fstat(map_fd_, &st) != 0) return ErrnoStatus(errno, "fstat", map_path);
  const uint64_t map_bytes = kMapHeaderBytes + regions_ * sizeof(Record);
  bool reuse = static_cast<uint64_t>(st.st_size) == map_bytes &&
               PreadFull(map_fd_, found, sizeof(found), 0, map_path).ok() &&
               std::memcmp(found, header, sizeof(header)) == 0;
  if (reuse) {
    std::vector<Record> records(regions_);
    if (!PreadFull(map_fd_, records.data(), regions_ * sizeof(Record),
                   kMapHeaderBytes, map_path)
             .ok()) {
      reuse = false;
    } else {
      for (size_t r = 0; r < regions_; ++r) {
        if (records[r].mark != kPresentMark) continue;
        state_[r] = kOnDisk;
        stored_crc_[r] = records[r].crc;
        disk_bytes_ += RegionEnd(r) - RegionBegin(r);
      }
    }
  }
  if (!reuse) {
    // A new copy, or one whose map does not describe it: start empty (the
    // truncation frees what an old copy held).
    if (ftruncate(fd_, 0) != 0) return ErrnoStatus(errno, "truncate", spec_.path);
    if (ftruncate(map_fd_, 0) != 0 ||
        ftruncate(map_fd_, static_cast<off_t>(map_bytes)) != 0) {
      return ErrnoStatus(errno, "truncate", map_path);
    }
    if (absl::Status s = Write(map_fd_, header, sizeof(header), 0, map_path);
        !s.ok()) {
      return s;
    }
  }
  if (fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", spec_.path);
  if (static_cast<uint64_t>(st.st_size) != spec_.size &&
      ftruncate(fd_, static_cast<off_t>(spec_.size)) != 0) {
    return ErrnoStatus(errno, "size", spec_.path);
  }
  return absl::OkStatus();
}

std::pair<size_t, size_t> CachedFile::RegionsOf(
    absl::Span<const server::SourceSpan> spans) const {
  size_t first = regions_, last = 0;
  for (const server::SourceSpan& s : spans) {
    if (s.length == 0) continue;
    first = std::min(first, RegionOf(s.offset));
    last = std::max(last, RegionOf(s.offset + s.length - 1));
  }
  return {first, last};
}

bool CachedFile::Present(absl::Span<const server::SourceSpan> spans) {
  last_used_ns_.store(absl::ToUnixNanos(absl::Now()), std::memory_order_relaxed);
  if (complete()) return true;
  auto [first, last] = RegionsOf(spans);
  for (size_t r = first; r <= last && r < regions_; ++r) {
    if (state_[r].load(std::memory_order_acquire) != kPresent) return false;
  }
  return true;
}

void CachedFile::WhenPresent(std::vector<server::SourceSpan> spans,
                             std::function<void(absl::Status)> ready) {
  counters_->waits.fetch_add(1, std::memory_order_relaxed);
  Want(spans, std::move(ready), spec_.readahead, /*fill_here=*/false);
}

void CachedFile::Want(absl::Span<const server::SourceSpan> spans,
                      std::function<void(absl::Status)> ready, int readahead,
                      bool fill_here) {
  auto waiter = std::make_shared<Waiter>();
  waiter->ready = std::move(ready);
  auto [first, last] = RegionsOf(spans);
  if (first >= regions_) {  // Nothing asked.
    pool_->Post([waiter] { waiter->ready(absl::OkStatus()); });
    return;
  }
  Start(first, last, waiter, fill_here);
  if (readahead > 0 && last + 1 < regions_) {
    Start(last + 1, std::min(regions_ - 1, last + static_cast<size_t>(readahead)),
          nullptr, /*fill_here=*/false);
  }
}

void CachedFile::Start(size_t first, size_t last,
                       const std::shared_ptr<Waiter>& waiter, bool fill_here) {
  std::vector<std::pair<size_t, bool>> posts;  // Region, on disk.
  int count = 0;
  {
    MutexLock lock(&mu_);
    for (size_t r = first; r <= last; ++r) {
      const uint8_t st = state_[r].load();
      if (st == kPresent) continue;
      if (waiter != nullptr) {
        waiters_[r].push_back(waiter);
        ++count;
      }
      if (st == kMissing || st == kOnDisk) {
        state_[r].store(kFetching);
        posts.emplace_back(r, st == kOnDisk);
      }
    }
    // Before any Finish can take the waiter (it needs mu_).
    if (waiter != nullptr) waiter->remaining.store(count);
  }
  if (waiter != nullptr && count == 0) {
    if (fill_here) {
      waiter->ready(absl::OkStatus());
    } else {
      pool_->Post([waiter] { waiter->ready(absl::OkStatus()); });
    }
  }
  if (fill_here) {
    for (const auto& [r, on_disk] : posts) Fill(r, on_disk, /*pool_thread=*/false);
    return;
  }
  for (const auto& [r, on_disk] : posts) {
    pool_->Post([self = shared_from_this(), r = r, on_disk = on_disk] {
      self->Fill(r, on_disk, /*pool_thread=*/true);
    });
  }
}

void CachedFile::Fill(size_t r, bool on_disk, bool pool_thread) {
  const uint64_t begin = RegionBegin(r), length = RegionEnd(r) - begin;
  // A pool thread keeps one buffer of a block (the pool bounds them); a
  // header (up to 100 MB) and a fill on another thread get one of their own.
  thread_local std::vector<std::byte> block_buffer;
  std::vector<std::byte> own;
  std::vector<std::byte>& buffer =
      pool_thread && length <= spec_.block_bytes ? block_buffer : own;
  if (buffer.size() < length) buffer.resize(length);
  if (on_disk) {
    absl::Status read = PreadFull(fd_, buffer.data(), length, begin, spec_.path);
    if (read.ok() && Crc32c(absl::MakeConstSpan(buffer.data(), length)) ==
                         stored_crc_[r]) {
      counters_->verified_regions.fetch_add(1, std::memory_order_relaxed);
      Finish(r, absl::OkStatus());
      return;
    }
    counters_->corrupt_regions.fetch_add(1, std::memory_order_relaxed);
    LOG(WARNING) << spec_.label << ": bytes [" << begin << ", " << begin + length
                 << ") of the cached copy " << spec_.path
                 << " fail their checksum"
                 << (read.ok() ? "" : absl::StrCat(" (", read.message(), ")"))
                 << "; fetching them again";
    WriteRecord(r, 0, false).IgnoreError();
    disk_bytes_.fetch_sub(length);
  }
  absl::Status status = FetchAndWrite(r, buffer);
  if (!status.ok()) counters_->failed_fetches.fetch_add(1);
  Finish(r, std::move(status));
}

absl::Status CachedFile::FetchAndWrite(size_t r, std::vector<std::byte>& buffer) {
  const uint64_t begin = RegionBegin(r), length = RegionEnd(r) - begin;
  absl::Span<std::byte> bytes(buffer.data(), length);
  if (absl::Status s = spec_.fetch(begin, bytes); !s.ok()) return s;
  counters_->upstream_bytes.fetch_add(length, std::memory_order_relaxed);
  const uint32_t crc = Crc32c(absl::Span<const std::byte>(bytes));
  if (absl::Status s = Write(fd_, bytes.data(), length, begin, spec_.path);
      !s.ok()) {
    LOG(WARNING) << spec_.label << ": " << s.message();
    return s;
  }
  if (absl::Status s = WriteRecord(r, crc, true); !s.ok()) {
    LOG(WARNING) << spec_.label << ": " << s.message();
    return s;
  }
  counters_->fetched_regions.fetch_add(1, std::memory_order_relaxed);
  disk_bytes_.fetch_add(length);
  return absl::OkStatus();
}

absl::Status CachedFile::WriteRecord(size_t r, uint32_t crc, bool present) {
  const Record record{crc, present ? kPresentMark : 0};
  return Write(map_fd_, &record, sizeof(record),
                    kMapHeaderBytes + r * sizeof(Record), spec_.path + ".map");
}

void CachedFile::Finish(size_t r, absl::Status status) {
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    MutexLock lock(&mu_);
    state_[r].store(status.ok() ? kPresent : kMissing, std::memory_order_release);
    if (status.ok()) present_.fetch_add(1);
    auto it = waiters_.find(r);
    if (it != waiters_.end()) {
      waiters = std::move(it->second);
      waiters_.erase(it);
    }
  }
  for (const std::shared_ptr<Waiter>& w : waiters) {
    if (!status.ok()) {
      MutexLock lock(&w->mu);
      if (w->status.ok()) w->status = status;
    }
    if (w->remaining.fetch_sub(1) == 1) {
      absl::Status result;
      {
        MutexLock lock(&w->mu);
        result = w->status;
      }
      w->ready(std::move(result));
    }
  }
}

absl::Status CachedFile::MakePresent(uint64_t offset, uint64_t length) {
  Mutex mu;
  CondVar cv;
  bool done = false;
  absl::Status result;
  const server::SourceSpan span{offset, length};
  Want({&span, 1}, [&](absl::Status s) {
    MutexLock lock(&mu);
    result = std::move(s);
    done = true;
    cv.SignalAll();
  }, /*readahead=*/0, /*fill_here=*/true);
  MutexLock lock(&mu);
  while (!done) cv.Wait(&mu);
  return result;
}

}  // namespace weightserver::cache
