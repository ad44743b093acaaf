// Copyright 2026 The Weightserver Authors.
//
// server/live_repository.h: the model catalog, kept up to date while served.
//
// LiveRepository owns the current ModelRepository snapshot and replaces it
// after each rescan of the root, so that models copied in, replaced or
// removed are served without a restart. A rescan runs on the repository's
// own thread and is triggered by:
//   - inotify: a change under the root (a file created, closed after
//     writing, renamed, removed, its attributes changed) starts a rescan
//     once no change came for `debounce` (at most `max_delay` after the
//     first one). Every directory that is not hidden is watched, the
//     Hugging Face cache's refs/, snapshots/ and blobs/ included;
//   - a timer, every `rescan_interval`: the safety net for what inotify
//     misses (network file systems, a full watch table);
//   - RequestRescan() (the daemon calls it on SIGHUP).
// A rescan reuses every unchanged model (model_repository.h), so it costs
// one directory listing and a stat per file, then swaps the snapshot under a
// mutex held for a pointer copy: serving never waits for a scan.
//
// Revisions: a model whose files changed is loaded anew with a new revision;
// a stream that pinned the old one keeps its std::shared_ptr<const Model>,
// so the old mappings live until the last such stream ends. A model is
// published once every file of it validates; until then it is listed with
// its error, not servable. The safe way to publish is to copy the model into
// a hidden directory of the root and rename it into place: hidden entries
// are never scanned.
//
// Example:
//   ASSIGN_OR_RETURN(auto live, LiveRepository::Start({.repository = {.root = "/models"}}));
//   std::shared_ptr<const ModelRepository> now = live->Snapshot();
//   std::shared_ptr<const Model> m = now->Find("org/name");
//
// Thread-safety: all methods are safe to call concurrently; RequestRescan
// is also async-signal-safe.
#ifndef WEIGHTSERVER_SERVER_LIVE_REPOSITORY_H_
#define WEIGHTSERVER_SERVER_LIVE_REPOSITORY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"
#include "absl/time/time.h"
#include "server/catalog_source.h"
#include "server/model_repository.h"

namespace weightserver::server {

struct LiveRepositoryOptions {
  RepositoryOptions repository;
  // Watch the root with inotify. Where inotify is refused, only the timer
  // and RequestRescan trigger rescans (logged).
  bool watch = true;
  // Rescan this often whatever happened. Zero or infinite: never.
  absl::Duration rescan_interval = absl::Seconds(60);
  // After a change, wait until none came for `debounce`, but no more than
  // `max_delay` after the first, so a long copy does not rescan per file.
  absl::Duration debounce = absl::Milliseconds(200);
  absl::Duration max_delay = absl::Seconds(2);
};

// For a metrics exporter: what the rescans did.
struct RepositoryStats {
  uint64_t scans = 0;        // Completed, the initial one included.
  uint64_t failed_scans = 0; // The root could not be read; catalog kept.
  absl::Duration last_scan_duration;
  absl::Time last_scan_end;
  std::string last_scan_error;  // Empty when the last scan succeeded.
  size_t last_scan_reused = 0;  // Models taken over unchanged.
  size_t last_scan_loaded = 0;  // Models validated and mapped anew.
  size_t models_servable = 0;   // In the current snapshot.
  size_t models_unservable = 0;
  bool watching = false;  // inotify in use.
};

class LiveRepository final : public CatalogSource {
 public:
  // Scans the root once (its errors: ModelRepository::Scan's), then starts
  // the rescan thread when any trigger but RequestRescan is on.
  static absl::StatusOr<std::unique_ptr<LiveRepository>> Start(
      const LiveRepositoryOptions& options);
  LiveRepository(const LiveRepository&) = delete;
  LiveRepository& operator=(const LiveRepository&) = delete;
  // Stops and joins the rescan thread.
  ~LiveRepository() override;

  // The current catalog; it stays valid (and its mappings mapped) as long
  // as the caller holds it.
  std::shared_ptr<const ModelRepository> Snapshot() const override
      ABSL_LOCKS_EXCLUDED(mu_);

  // Asks the rescan thread for a rescan now and returns at once.
  void RequestRescan();

  // Rescans on the calling thread and publishes the result. Errors: the
  // scan's (the current catalog is then kept). Scans never overlap.
  absl::Status RescanNow() ABSL_LOCKS_EXCLUDED(scan_mu_, mu_);

  RepositoryStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  LiveRepository(LiveRepositoryOptions options,
                 std::shared_ptr<const ModelRepository> initial);
  void Publish(std::shared_ptr<const ModelRepository> repo,
               absl::Duration took) ABSL_LOCKS_EXCLUDED(mu_);
  void Run();  // The rescan thread.

  const LiveRepositoryOptions options_;
  Mutex scan_mu_;  // Held for a whole scan: one at a time.
  mutable Mutex mu_;
  std::shared_ptr<const ModelRepository> current_ ABSL_GUARDED_BY(mu_);
  RepositoryStats stats_ ABSL_GUARDED_BY(mu_);
  int wake_fd_ = -1;  // eventfd: RequestRescan and the destructor.
  std::atomic<bool> stop_{false};
  std::atomic<bool> requested_{false};
  std::thread thread_;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_LIVE_REPOSITORY_H_
