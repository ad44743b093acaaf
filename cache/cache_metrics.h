// Copyright 2026 The Weightserver Authors.
//
// cache/cache_metrics.h: a cache's counters on the daemon's /metrics.
//
//   weightserver_cache_upstream_bytes_total     block bytes fetched upstream
//   weightserver_cache_blocks_total{result}     fetched | verified (found on
//                                               disk after a restart, checked)
//                                               | corrupt (failed that check)
//                                               | failed (upstream or disk)
//   weightserver_cache_waits_total              chunks that waited for a block
//   weightserver_cache_disk_bytes               held by the copies now
//   weightserver_cache_max_disk_bytes           --cache_size
//   weightserver_cache_revisions                model revisions on disk
//   weightserver_cache_evictions_total          revisions evicted
//   weightserver_cache_refreshes_total{result}  ok | error
//   weightserver_cache_upstream_failovers_total calls moved to another upstream
//
// A cache's hit ratio over an interval: 1 - upstream bytes / bytes sent.
//
// Example:
//   ExportCacheMetrics(cache, server->metrics());
//
// Thread-safety: the sampler runs on scrapes, concurrently with everything.
#ifndef WEIGHTSERVER_CACHE_CACHE_METRICS_H_
#define WEIGHTSERVER_CACHE_CACHE_METRICS_H_

#include <memory>

#include "cache/cache_repository.h"
#include "server/metrics.h"

namespace weightserver::cache {

void ExportCacheMetrics(std::shared_ptr<const CacheRepository> cache,
                        server::ServerMetrics* metrics);

}  // namespace weightserver::cache

#endif  // WEIGHTSERVER_CACHE_CACHE_METRICS_H_
