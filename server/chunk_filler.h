// Copyright 2026 The Weightserver Authors.
//
// server/chunk_filler.h: the read-ahead stage: fills chunk buffers from files,
// off the gRPC threads, and checksums them while they are hot.
//
// A FillJob names a file and the source spans whose concatenation is one
// chunk's payload. A mapped job (no buffer: its pages are resident, so the
// payload is sent straight from the mapping) is only checksummed, under the
// SIGBUS guard, with the file's cache of block checksums
// (MappedFile::CachedCrc32c). Otherwise a worker thread copies the spans into
// the job's buffer: spans of
// at least `min_block_read` bytes are read with io_uring (one ring per worker;
// the reads of a chunk are submitted together) or pread, smaller ones (the
// rows of a fragmented slice) are gathered from the file's mapping under a
// SIGBUS guard. Then the file is re-checked against its identity, the CRC32C
// is computed, and `done` runs on the worker thread.
//
// A file truncated under the server gives DATA_LOSS (short read or SIGBUS),
// a file modified in place or replaced gives FAILED_PRECONDITION; neither
// disturbs other jobs.
//
// IoMode::kAuto uses io_uring when the kernel allows it (Docker's default
// seccomp profile refuses it) and pread otherwise.
//
// Example:
//   ASSIGN_OR_RETURN(auto filler, ChunkFiller::Create({.mode = IoMode::kAuto}));
//   filler->Submit({.file = &f, .spans = {{off, n}}, .buffer = buf,
//                   .done = [](absl::StatusOr<uint32_t> crc) { ... }});
//
// Thread-safety: Submit may be called from any thread.
#ifndef WEIGHTSERVER_SERVER_CHUNK_FILLER_H_
#define WEIGHTSERVER_SERVER_CHUNK_FILLER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/fetch_plan.h"
#include "server/lazy_bytes.h"
#include "server/mapped_file.h"

namespace weightserver::server {

enum class IoMode { kAuto, kUring, kPread };

// "auto", "uring", "pread"; InvalidArgument otherwise.
absl::StatusOr<IoMode> ParseIoMode(absl::string_view text);
absl::string_view IoModeName(IoMode mode);

// Payload bytes the read-ahead stage filled, by read path (metric-ready).
struct ReadPathStats {
  uint64_t mapped = 0;  // Sent from the mapping (zero copy), checksummed.
  uint64_t gather = 0;  // Small spans copied from the mapping into a buffer.
  uint64_t uring = 0;   // Read into a buffer with io_uring.
  uint64_t pread = 0;   // Read into a buffer with pread.
};

struct FillJob {
  const MappedFile* file = nullptr;  // Kept alive by the caller until done.
  std::vector<SourceSpan> spans;     // File offsets; concatenated in order.
  // The file's ServedFile::lazy: the stream waits for the spans to be
  // present before it submits the job (the filler does not look at it).
  LazyBytes* lazy = nullptr;
  // At least the spans' total length; nullptr for a mapped job, whose bytes
  // are sent from the mapping and only checksummed here.
  std::byte* buffer = nullptr;
  // The CRC32C of the filled bytes, or why they could not be read.
  std::function<void(absl::StatusOr<uint32_t>)> done;
};

class ChunkFiller {
 public:
  struct Options {
    IoMode mode = IoMode::kAuto;
    int threads = 4;
    uint64_t min_block_read = 64 << 10;
    unsigned ring_depth = 64;
  };

  // Errors: Unavailable when mode is kUring and io_uring is refused.
  static absl::StatusOr<std::unique_ptr<ChunkFiller>> Create(
      const Options& options);
  ChunkFiller(const ChunkFiller&) = delete;
  ChunkFiller& operator=(const ChunkFiller&) = delete;
  // Finishes queued jobs, then joins the workers.
  ~ChunkFiller();

  void Submit(FillJob job);

  // kUring or kPread: what actually runs.
  IoMode mode() const { return mode_; }
  // The bytes of the jobs filled so far (failed ones included), by path.
  ReadPathStats stats() const;

 private:
  ChunkFiller(const Options& options, IoMode mode);
  void WorkerLoop();

  const Options options_;
  const IoMode mode_;
  // ReadPathStats' fields, counted once per job.
  std::atomic<uint64_t> mapped_bytes_{0};
  std::atomic<uint64_t> gather_bytes_{0};
  std::atomic<uint64_t> uring_bytes_{0};
  std::atomic<uint64_t> pread_bytes_{0};
  Mutex mu_;
  CondVar cv_;  // The queue grew, or stopping_ was set.
  std::deque<FillJob> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_CHUNK_FILLER_H_
