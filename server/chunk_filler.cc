// Copyright 2026 The Weightserver Authors.
//
// server/chunk_filler.cc
#include "server/chunk_filler.h"

#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "absl/strings/str_cat.h"
#include "server/sigbus_guard.h"
#include "util/crc32c.h"
#include "util/log.h"

namespace weightserver::server {
namespace {

// One large read still to do: `length` bytes at file `offset` into `dest`.
struct BlockRead {
  uint64_t offset;
  uint64_t length;
  std::byte* dest;
};

absl::Status Truncated(const MappedFile& f, uint64_t offset, uint64_t length,
                       absl::string_view how) {
  return absl::DataLossError(absl::StrCat(
      f.path(), ": bytes [", offset, ", ", offset + length,
      ") could not be read: file truncated while served (", how, ")"));
}

absl::Status PreadAll(const MappedFile& f, const BlockRead& r) {
  uint64_t done = 0;
  while (done < r.length) {
    ssize_t n = pread(f.fd(), r.dest + done, r.length - done,
                      static_cast<off_t>(r.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "read", f.path());
    if (n == 0) return Truncated(f, r.offset, r.length, "short read");
    done += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

// Submits every read at once (in batches of the ring's depth) and waits for
// all; a short read is continued with a new submission. `reads` is a deque:
// in-flight submissions point at its elements, which appending must not move.
absl::Status UringAll(io_uring* ring, const MappedFile& f,
                      std::deque<BlockRead> reads) {
  size_t next = 0;
  unsigned pending = 0;
  absl::Status status;
  while (next < reads.size() || pending > 0) {
    while (next < reads.size()) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      if (sqe == nullptr) break;
      BlockRead& r = reads[next];
      io_uring_prep_read(sqe, f.fd(), r.dest, static_cast<unsigned>(r.length),
                         r.offset);
      io_uring_sqe_set_data(sqe, &r);
      ++next;
      ++pending;
    }
    int rc = io_uring_submit_and_wait(ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      // Not a transient refusal: submit no more, and do not return while
      // reads are in flight into the caller's buffer and `reads`. (Some of
      // the `pending` may never have been submitted: each wait is bounded.)
      LOG(ERROR) << "io_uring_submit: " << std::strerror(-rc)
                 << "; waiting for up to " << pending << " reads in flight";
      if (status.ok()) status = ErrnoStatus(-rc, "io_uring_submit", f.path());
      io_uring_cqe* cqe;
      __kernel_timespec wait{.tv_sec = 30, .tv_nsec = 0};
      while (pending > 0) {
        const int w = io_uring_wait_cqe_timeout(ring, &cqe, &wait);
        if (w == 0) {
          io_uring_cqe_seen(ring, cqe);
          --pending;
        } else if (w != -EINTR) {
          break;  // Nothing more will complete.
        }
      }
      return status;
    }
    io_uring_cqe* cqe;
    while (pending > 0 && io_uring_peek_cqe(ring, &cqe) == 0) {
      auto* r = static_cast<BlockRead*>(io_uring_cqe_get_data(cqe));
      int res = cqe->res;
      io_uring_cqe_seen(ring, cqe);
      --pending;
      if (!status.ok()) continue;
      if (res < 0) {
        status = ErrnoStatus(-res, "read", f.path());
      } else if (res == 0) {
        status = Truncated(f, r->offset, r->length, "short read");
      } else if (static_cast<uint64_t>(res) < r->length) {
        reads.push_back({r->offset + res, r->length - res, r->dest + res});
      }
    }
  }
  return status;
}

absl::Status CheckIdentity(const MappedFile& f) {
  if (f.Poisoned()) {
    return absl::DataLossError(absl::StrCat(
        f.path(), ": a page of the file could not be read while served (the "
        "file shrank, or its disk or network file system failed); it is not "
        "served again until it is replaced and the repository rescanned"));
  }
  struct stat st;
  if (fstat(f.fd(), &st) != 0) return ErrnoStatus(errno, "fstat", f.path());
  const FileIdentity& id = f.identity();
  if (static_cast<uint64_t>(st.st_size) != id.size) {
    return absl::DataLossError(absl::StrCat(f.path(), ": file changed size while served (was ",
                                            id.size, ", now ", st.st_size, ")"));
  }
  // Unlinking the file (a new version renamed over it, its model removed)
  // changes its ctime only: the bytes mapped are still those of the
  // revision the stream pinned, so the stream goes on.
  // A cache's copy is written while served (MappedFile::OpenFilling).
  const char* changed = f.filling() ? nullptr : ChangedTime(IdentityOf(st), id);
  const bool unlinked =
      st.st_nlink == 0 && changed != nullptr && std::string_view(changed) == "ctime";
  if (changed != nullptr && !unlinked) {
    return absl::FailedPreconditionError(absl::StrCat(
        f.path(), ": file modified in place while served (", changed,
        " changed)"));
  }
  return absl::OkStatus();
}

// Bytes of one job by read path (ReadPathStats).
struct PathBytes {
  uint64_t mapped = 0, gather = 0, block = 0;
};

absl::StatusOr<uint32_t> Fill(const FillJob& job, io_uring* ring,
                              uint64_t min_block_read, PathBytes* counted) {
  const MappedFile& f = *job.file;
  if (job.buffer == nullptr) {  // Mapped: checksum in place.
    for (const SourceSpan& s : job.spans) counted->mapped += s.length;
    uint32_t crc = 0;
    for (const SourceSpan& s : job.spans) {
      if (s.offset > f.size() || s.length > f.size() - s.offset) {
        return Truncated(f, s.offset, s.length, "past the end of the mapping");
      }
      if (!f.CachedCrc32c(s.offset, s.length, &crc)) {
        return Truncated(f, s.offset, s.length, "SIGBUS on the mapping: truncated, or an I/O error");
      }
    }
    absl::Status id = CheckIdentity(f);
    if (!id.ok()) return id;
    return crc;
  }
  std::deque<BlockRead> reads;
  std::vector<GatherPiece> small;  // Gathered from the mapping.
  uint64_t pos = 0;
  for (const SourceSpan& s : job.spans) {
    std::byte* dest = job.buffer + pos;
    if (s.offset > f.size() || s.length > f.size() - s.offset) {
      return Truncated(f, s.offset, s.length, "past the end of the mapping");
    }
    if (s.length >= min_block_read) {
      reads.push_back({s.offset, s.length, dest});
      counted->block += s.length;
    } else {
      small.push_back({f.bytes().data() + s.offset, s.length, dest});
      counted->gather += s.length;
    }
    pos += s.length;
  }
  size_t failed = 0;
  if (!GuardedGather(small.data(), small.size(), &failed)) {
    const uint64_t offset =
        static_cast<uint64_t>(small[failed].src - f.bytes().data());
    return Truncated(f, offset, small[failed].length, "SIGBUS on the mapping: truncated, or an I/O error");
  }
  if (!reads.empty()) {
    absl::Status s;
    if (ring != nullptr) {
      s = UringAll(ring, f, std::move(reads));
    } else {
      for (const BlockRead& r : reads) {
        s = PreadAll(f, r);
        if (!s.ok()) break;
      }
    }
    if (!s.ok()) return s;
  }
  absl::Status id = CheckIdentity(f);
  if (!id.ok()) return id;
  return Crc32cExtend(0, job.buffer, pos);
}

}  // namespace

absl::StatusOr<IoMode> ParseIoMode(absl::string_view text) {
  if (text == "auto") return IoMode::kAuto;
  if (text == "uring") return IoMode::kUring;
  if (text == "pread") return IoMode::kPread;
  return absl::InvalidArgumentError(
      absl::StrCat("--io: '", text, "' is not one of auto, uring, pread"));
}

absl::string_view IoModeName(IoMode mode) {
  switch (mode) {
    case IoMode::kAuto: return "auto";
    case IoMode::kUring: return "uring";
    case IoMode::kPread: return "pread";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<ChunkFiller>> ChunkFiller::Create(
    const Options& options) {
  IoMode mode = options.mode;
  if (mode != IoMode::kPread) {
    io_uring probe;
    int rc = io_uring_queue_init(options.ring_depth, &probe, 0);
    if (rc == 0) {
      io_uring_queue_exit(&probe);
      mode = IoMode::kUring;
    } else if (mode == IoMode::kUring) {
      return absl::UnavailableError(absl::StrCat(
          "--io=uring: io_uring is not available here (", std::strerror(-rc),
          "); use --io=auto or --io=pread"));
    } else {
      LOG(WARNING) << "io_uring unavailable (" << std::strerror(-rc)
                   << "), reading with pread";
      mode = IoMode::kPread;
    }
  }
  return std::unique_ptr<ChunkFiller>(new ChunkFiller(options, mode));
}

ChunkFiller::ChunkFiller(const Options& options, IoMode mode)
    : options_(options), mode_(mode) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ChunkFiller::~ChunkFiller() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (std::thread& t : workers_) t.join();
}

ReadPathStats ChunkFiller::stats() const {
  return {.mapped = mapped_bytes_.load(std::memory_order_relaxed),
          .gather = gather_bytes_.load(std::memory_order_relaxed),
          .uring = uring_bytes_.load(std::memory_order_relaxed),
          .pread = pread_bytes_.load(std::memory_order_relaxed)};
}

void ChunkFiller::Submit(FillJob job) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(job));
  }
  cv_.Signal();
}

void ChunkFiller::WorkerLoop() {
  io_uring ring;
  io_uring* ring_ptr = nullptr;
  if (mode_ == IoMode::kUring &&
      io_uring_queue_init(options_.ring_depth, &ring, 0) == 0) {
    ring_ptr = &ring;
  }
  while (true) {
    FillJob job;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) break;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    PathBytes counted;
    absl::StatusOr<uint32_t> crc =
        Fill(job, ring_ptr, options_.min_block_read, &counted);
    if (counted.mapped > 0) mapped_bytes_.fetch_add(counted.mapped, std::memory_order_relaxed);
    if (counted.gather > 0) gather_bytes_.fetch_add(counted.gather, std::memory_order_relaxed);
    if (counted.block > 0) {
      (ring_ptr != nullptr ? uring_bytes_ : pread_bytes_)
          .fetch_add(counted.block, std::memory_order_relaxed);
    }
    job.done(std::move(crc));
  }
  if (ring_ptr != nullptr) io_uring_queue_exit(ring_ptr);
}

}  // namespace weightserver::server
