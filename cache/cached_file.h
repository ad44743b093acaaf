// Copyright 2026 The Weightserver Authors.
//
// cache/cached_file.h: a cache's sparse, durable copy of one upstream file.
//
// The copy is a file of the upstream file's size (sparse until filled) and
// a block map beside it (PATH.map). The file is cut into regions: region 0
// is the header (the 8-byte prefix and the JSON header, [0, header_end)),
// then blocks of `block_bytes` of the data section. The map records, per
// region, whether it is on disk and its CRC32C. A region is fetched from
// the upstream (`fetch`, one call per region however many streams wait for
// it), written to the copy, then recorded in the map; a stream asks for the
// regions its chunk spans (server/lazy_bytes.h) and is called back once
// they are present, while the next `readahead` regions of the file are
// fetched ahead of it.
//
// Durability: the map is written after the region's bytes, so a crash
// leaves at worst a region fetched but not recorded (fetched again). A
// region recorded by an earlier process is checked against its CRC32C
// before it is first served (read back from disk): one that fails is
// fetched again (counted in CacheCounters::corrupt_regions). A copy whose
// map does not match (size, header end, block size) starts empty.
//
// Disk full: a failed write (ENOSPC, EDQUOT, or EFBIG past a file size
// limit) fails the waiting streams with
// RESOURCE_EXHAUSTED naming the copy; the region stays missing and the map
// unchanged, so the copy stays consistent.
//
// Example:
//   ASSIGN_OR_RETURN(auto f, CachedFile::Open(spec, &pool, &counters));
//   RETURN_IF_ERROR(f->MakePresent(0, spec.header_end));  // Blocks.
//   const std::byte* header = f->mapped()->bytes().data();
//
// Thread-safety: all methods are safe to call concurrently. The copy lives
// as long as a task of the pool or a stream holds it (shared_ptr).
#ifndef WEIGHTSERVER_CACHE_CACHED_FILE_H_
#define WEIGHTSERVER_CACHE_CACHED_FILE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "cache/task_pool.h"
#include "server/lazy_bytes.h"
#include "server/mapped_file.h"
#include "util/mutex.h"

namespace weightserver::cache {

// What the cache's copies did, over all of them (metric-ready).
struct CacheCounters {
  std::atomic<uint64_t> upstream_bytes{0};    // Fetched from the upstream.
  std::atomic<uint64_t> fetched_regions{0};   // Fetched and written.
  std::atomic<uint64_t> verified_regions{0};  // Found on disk and checked.
  std::atomic<uint64_t> corrupt_regions{0};   // Failed that check.
  std::atomic<uint64_t> failed_fetches{0};    // Upstream or disk errors.
  std::atomic<uint64_t> waits{0};             // Streams that waited.
};

// Fills `destination` with the upstream file's bytes from `offset`.
using FetchRange =
    std::function<absl::Status(uint64_t offset, absl::Span<std::byte> destination)>;

struct CachedFileSpec {
  std::string path;   // The copy; its map is path + ".map".
  std::string label;  // Names the file in messages: "model 'm' file 'x'".
  uint64_t size = 0;
  uint64_t header_end = 0;  // 8 + N; at most size.
  uint64_t block_bytes = 8 << 20;
  int readahead = 2;  // Regions fetched ahead of the last one asked for.
  FetchRange fetch;
};

class CachedFile final : public server::LazyBytes,
                         public std::enable_shared_from_this<CachedFile> {
 public:
  // Opens the copy at spec.path (created, sparse, when missing) and its
  // map, and maps the copy (server::MappedFile::OpenFilling). `pool` runs
  // the fetches and checks; `counters` hears of them; both outlive the
  // copy. Errors: InvalidArgument for an inconsistent spec; file errors.
  static absl::StatusOr<std::shared_ptr<CachedFile>> Open(
      CachedFileSpec spec, TaskPool* pool, CacheCounters* counters);
  ~CachedFile() override;

  bool Present(absl::Span<const server::SourceSpan> spans) override;
  void WhenPresent(std::vector<server::SourceSpan> spans,
                   std::function<void(absl::Status)> ready) override;

  // Blocks until bytes [offset, offset + length) are present (nothing is
  // read ahead); their status. What no one is fetching yet is fetched on
  // the calling thread, not queued behind the pool's blocks (a cache
  // prepares a model's headers while other models' blocks stream).
  absl::Status MakePresent(uint64_t offset, uint64_t length);

  const std::shared_ptr<const server::MappedFile>& mapped() const {
    return mapped_;
  }
  const CachedFileSpec& spec() const { return spec_; }
  // Bytes of the regions on disk (checked or not).
  uint64_t disk_bytes() const { return disk_bytes_.load(); }
  // True when every region is present.
  bool complete() const;
  // When a stream last asked for bytes (absl::ToUnixNanos).
  int64_t last_used_ns() const { return last_used_ns_.load(); }

  size_t region_count() const { return regions_; }
  // For tests: the region holding byte `offset`.
  size_t RegionOf(uint64_t offset) const;

 private:
  enum State : uint8_t { kMissing = 0, kOnDisk = 1, kFetching = 2, kPresent = 3 };
  struct Waiter;

  CachedFile(CachedFileSpec spec, int fd, int map_fd, TaskPool* pool,
             CacheCounters* counters);
  uint64_t RegionBegin(size_t r) const;
  uint64_t RegionEnd(size_t r) const;
  // Loads the map, or writes an empty one.
  absl::Status LoadMap();
  // WhenPresent, reading `readahead` regions ahead; with `fill_here`, the
  // missing regions are filled on the calling thread.
  void Want(absl::Span<const server::SourceSpan> spans,
            std::function<void(absl::Status)> ready, int readahead,
            bool fill_here);
  // The regions [first, last] that `spans` touch.
  std::pair<size_t, size_t> RegionsOf(absl::Span<const server::SourceSpan> spans) const;
  // Marks missing regions of [first, last] fetching (under mu_) and posts
  // them to the pool, or with `fill_here` fills them on this thread.
  void Start(size_t first, size_t last, const std::shared_ptr<Waiter>& waiter,
             bool fill_here) ABSL_LOCKS_EXCLUDED(mu_);
  // Checks (when on disk) or fetches region r.
  // `pool_thread`: on a thread of the pool (its block buffer is reused).
  void Fill(size_t r, bool on_disk, bool pool_thread);
  absl::Status FetchAndWrite(size_t r, std::vector<std::byte>& buffer);
  void Finish(size_t r, absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WriteRecord(size_t r, uint32_t crc, bool present);

  const CachedFileSpec spec_;
  const int fd_;      // The copy, read-write.
  const int map_fd_;  // Its map.
  TaskPool* const pool_;
  CacheCounters* const counters_;
  size_t regions_ = 0;
  std::shared_ptr<const server::MappedFile> mapped_;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;  // State per region.
  std::vector<uint32_t> stored_crc_;  // From the map; for kOnDisk regions.
  std::atomic<uint64_t> disk_bytes_{0};
  std::atomic<size_t> present_{0};  // Regions kPresent.
  std::atomic<int64_t> last_used_ns_{0};
  Mutex mu_;  // State changes and the waiters.
  absl::flat_hash_map<size_t, std::vector<std::shared_ptr<Waiter>>> waiters_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace weightserver::cache

#endif  // WEIGHTSERVER_CACHE_CACHED_FILE_H_
