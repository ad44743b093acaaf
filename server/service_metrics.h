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
#include "server/live_repository.h"
#include "server/weight_service.h"

namespace weightserver::server {

// Adds the service's samplers to `metrics`. `service` must outlive every
// scrape (stop the MetricsListener first).
void ExportServiceMetrics(const WeightService& service, ServerMetrics* metrics);

// Adds the repository's sampler (weightserver_models and
// weightserver_repository_*): `repository`'s stats() at each scrape.
void ExportRepositoryMetrics(std::shared_ptr<const LiveRepository> repository,
                             ServerMetrics* metrics);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_SERVICE_METRICS_H_
