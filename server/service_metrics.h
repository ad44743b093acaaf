// Copyright 2026 The Weightserver Authors.
//
// server/service_metrics.h: the samplers that export, at scrape time, what
// the service and the repository already count (metrics.h): active streams,
// the buffer pool, the read paths, the CRC cache, stalled streams, the
// client limits, access refusals, models and repository scans.
//
// Example:
//   ExportServiceMetrics(server.service(), metrics.get());
//   ExportRepositoryMetrics([repo] { return ...; }, metrics.get());
//
// Thread-safety: the samplers read atomics and accessors that are safe to
// call from the listener's threads.
#ifndef WEIGHTSERVER_SERVER_SERVICE_METRICS_H_
#define WEIGHTSERVER_SERVER_SERVICE_METRICS_H_

#include <cstdint>
#include <functional>

#include "absl/time/time.h"
#include "server/metrics.h"
#include "server/model_repository.h"
#include "server/weight_service.h"

namespace weightserver::server {

// What the repository's scans did, for weightserver_repository_* and
// weightserver_models. Today the one scan at start (StartupScanStats); a
// live repository (rescans) supplies its own: the fields are named as those
// of LiveRepository's RepositoryStats (wip-live), so the conversion is one
// aggregate initialization.
struct RepositoryScanStats {
  uint64_t scans = 0;
  // Scans that failed as a whole (the root could not be read).
  uint64_t failed_scans = 0;
  absl::Duration last_scan_duration;
  // Models of the last scan, servable or not (those with an error).
  uint64_t models_servable = 0;
  uint64_t models_unservable = 0;
};

// The stats of `repository` as scanned once, in `scan_duration`.
RepositoryScanStats StartupScanStats(const ModelRepository& repository,
                                 absl::Duration scan_duration);

// Adds the service's samplers to `metrics`. `service` must outlive every
// scrape (stop the MetricsListener first).
void ExportServiceMetrics(const WeightService& service, ServerMetrics* metrics);

// Adds the repository's sampler: `stats` is called at each scrape.
// The hook for a live repository: pass a function that reads its stats().
void ExportRepositoryMetrics(std::function<RepositoryScanStats()> stats,
                             ServerMetrics* metrics);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_SERVICE_METRICS_H_
