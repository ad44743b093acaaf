// Copyright 2026 The Weightserver Authors.
//
// cache/cache_repository.h: a cache's catalog: its upstream's models, served
// from durable, sparse local copies (README "Cache tier").
//
// CacheRepository is the catalog source (server/catalog_source.h) of a
// weightserver started with --upstream: the service serves its models with
// the same API and the same data path as an origin's.
//
// Catalog: the upstream's ListModels, asked every `refresh_interval`, and at
// once when a call names a model the catalog lacks (at most once a second,
// never while the last attempt failed less than refresh_interval ago). A
// model revision seen for the first time is prepared: its table of contents
// (GetModel) and the header bytes of its files are fetched, every header is
// validated by format/ as an origin's would be, and its extra files are
// copied whole (up to max_extra_file_bytes each); then the table is written
// to disk. Models the upstream lists as unservable are listed with its
// error. While the upstream cannot be reached the catalog is kept, and at
// start-up it is read from disk: fully cached models keep being served,
// missing bytes fail with UNAVAILABLE.
//
// Bytes: each file of a revision is a CachedFile (cached_file.h): blocks are
// fetched from the upstream once, however many streams wait for them, written
// to disk with their CRC32C, and streamed on as they arrive.
//
// Disk layout, under `dir`:
//   models/<model>/<revision>/toc.pb   the upstream's v1.Model
//   models/<model>/<revision>/f<i>     sparse copy of file i, and f<i>.map
//   models/<model>/<revision>/x<i>     extra file i
//   lock                               flock()ed by the daemon using it
// (names escaped: bytes other than [A-Za-z0-9._-], and a leading '.', as %XX).
//
// Size: when the copies hold more than max_bytes, whole revisions are
// evicted, least recently used first, revisions the upstream no longer lists
// before current ones; never a revision a stream holds or that was used in
// the last `evict_grace`. Of a model the upstream still lists only the
// weights are evicted, and an empty copy is prepared at once (its headers
// fetched again), so it stays listed and servable. The budget may be exceeded while every revision is in use.
//
// Example:
//   ASSIGN_OR_RETURN(auto cache, CacheRepository::Start({
//       .upstreams = {"origin:50051"}, .dir = "/var/cache/ws",
//       .max_bytes = uint64_t{500} << 30}));
//   ASSIGN_OR_RETURN(auto server, server::Server::Start(options, cache));
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef WEIGHTSERVER_CACHE_CACHE_REPOSITORY_H_
#define WEIGHTSERVER_CACHE_CACHE_REPOSITORY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/cached_file.h"
#include "cache/task_pool.h"
#include "cache/upstream.h"
#include "server/catalog_source.h"
#include "server/model_repository.h"
#include "util/mutex.h"

namespace weightserver::cache {

struct CacheOptions {
  // Upstream addresses (origins or caches), tried in turn (upstream.h).
  std::vector<std::string> upstreams;
  UpstreamOptions upstream;
  // Where the copies live (created if missing).
  std::string dir;
  // Disk budget of the copies, in bytes (required, > 0).
  uint64_t max_bytes = 0;
  // Bytes fetched from the upstream per request (one block), and so the
  // unit of coalescing, of the block map and of read-ahead.
  uint64_t block_bytes = 8 << 20;
  // Blocks fetched (or checked) at once; with block_bytes, the memory of
  // the block buffers.
  int fetch_threads = 8;
  // Blocks of a file fetched ahead of the last one a stream asked for.
  int readahead_blocks = 4;
  absl::Duration refresh_interval = absl::Seconds(10);
  uint64_t max_extra_file_bytes = 64 << 20;
  absl::Duration evict_grace = absl::Seconds(5);
};

struct CacheStats {
  uint64_t upstream_bytes = 0;    // Block bytes fetched from the upstream.
  uint64_t fetched_blocks = 0;
  uint64_t verified_blocks = 0;   // Found on disk after a restart, checked.
  uint64_t corrupt_blocks = 0;    // Failed that check; fetched again.
  uint64_t failed_fetches = 0;
  uint64_t waits = 0;             // Chunks that waited for a block.
  uint64_t disk_bytes = 0;        // Held by the copies now.
  size_t revisions = 0;           // On disk now.
  uint64_t evicted_revisions = 0;
  uint64_t refreshes = 0;
  uint64_t failed_refreshes = 0;
  std::string last_refresh_error;  // Empty after a good refresh.
  uint64_t failovers = 0;          // Calls moved to another upstream.
};

class CacheRepository final : public server::CatalogSource {
 public:
  // Locks the directory, connects the upstream (lazily), reads the copies
  // on disk, tries a first refresh (an unreachable upstream is logged, not
  // an error; it takes up to the failover timeout) and starts the refresh
  // thread. Errors: InvalidArgument for options; FailedPrecondition when
  // another daemon holds the directory; its errors; Upstream::Connect's.
  static absl::StatusOr<std::shared_ptr<CacheRepository>> Start(
      CacheOptions options);
  // Stops the refresh thread, then the fetches. Destroy the server that
  // serves it first (its streams wait for the fetches they need).
  ~CacheRepository() override;

  std::shared_ptr<const server::ModelRepository> Snapshot() const override
      ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<const server::Model> Find(absl::string_view name) override
      ABSL_LOCKS_EXCLUDED(refresh_mu_, mu_);

  // Asks the upstream for its models now and publishes the catalog.
  // Errors: the upstream's (the catalog is then kept).
  absl::Status RefreshNow() ABSL_LOCKS_EXCLUDED(refresh_mu_, mu_);
  // Evicts until the copies fit max_bytes (see above); how many revisions
  // went.
  size_t EvictNow() ABSL_LOCKS_EXCLUDED(refresh_mu_, mu_);

  CacheStats stats() const ABSL_LOCKS_EXCLUDED(mu_);
  const CacheOptions& options() const { return options_; }

 private:
  struct Revision;

  explicit CacheRepository(CacheOptions options, std::unique_ptr<Upstream> upstream);
  // Prepares (or reopens) the copy of `info` under `dir`.
  absl::StatusOr<std::shared_ptr<Revision>> OpenRevision(
      std::shared_ptr<const client::ModelInfo> info, const std::string& dir);
  void LoadFromDisk() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  size_t Evict() ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  void Publish(std::vector<std::shared_ptr<const server::Model>> models)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::string RevisionDir(const std::string& name,
                          const std::string& revision) const;
  void Run();  // The refresh thread.

  const CacheOptions options_;
  std::unique_ptr<Upstream> upstream_;
  CacheCounters counters_;
  std::unique_ptr<TaskPool> pool_;  // After counters_: its tasks use them.
  Mutex refresh_mu_;  // One refresh or eviction at a time.
  mutable Mutex mu_;
  // By RevisionDir.
  absl::flat_hash_map<std::string, std::shared_ptr<Revision>> revisions_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const server::Model>> current_models_
      ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const server::ModelRepository> current_ ABSL_GUARDED_BY(mu_);
  uint64_t refreshes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_refreshes_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_refresh_error_ ABSL_GUARDED_BY(mu_);
  absl::Time last_refresh_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_refresh_end_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t evicted_ ABSL_GUARDED_BY(mu_) = 0;
  int lock_fd_ = -1;  // flock()ed: one daemon per directory.
  Mutex stop_mu_;
  CondVar stop_cv_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;
};

// `text` with every byte other than [A-Za-z0-9._-], and a leading '.', as
// %XX: one path component, never hidden, never "..".
std::string EscapePathComponent(absl::string_view text);

}  // namespace weightserver::cache

#endif  // WEIGHTSERVER_CACHE_CACHE_REPOSITORY_H_
