// Copyright 2026 The Weightserver Authors.
//
// server/service_metrics.cc
#include "server/service_metrics.h"

#include <utility>
#include <vector>

namespace weightserver::server {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Counter(std::string name, std::string help, double value) {
  return SampledFamily(std::move(name), std::move(help), MetricType::Counter,
                       {{{}, value}});
}

MetricFamily Gauge(std::string name, std::string help, double value) {
  return SampledFamily(std::move(name), std::move(help), MetricType::Gauge,
                       {{{}, value}});
}

double D(uint64_t v) { return static_cast<double>(v); }

}  // namespace

void ExportServiceMetrics(const WeightService& service,
                          ServerMetrics* metrics) {
  metrics->AddSampler([&service] {
    const ReadPathStats read = service.read_path_stats();
    const CrcCacheStats crc = GetCrcCacheStats();
    const LimitStats limits = service.limit_stats();
    const uint64_t busy = service.busy_stalled_streams();
    const uint64_t stalled = service.stalled_streams();
    std::vector<MetricFamily> f;
    f.push_back(Gauge("weightserver_active_streams",
                      "Fetch and ReadFile streams running now",
                      service.active_streams()));
    f.push_back(SampledFamily(
        "weightserver_read_bytes_total",
        "Payload bytes the read-ahead stage filled, by read path: mapped "
        "(sent from the file mapping, zero copy), gather (small spans copied "
        "from the mapping), io_uring, pread",
        MetricType::Counter,
        {{{{"path", "mapped"}}, D(read.mapped)},
         {{{"path", "gather"}}, D(read.gather)},
         {{{"path", "io_uring"}}, D(read.uring)},
         {{{"path", "pread"}}, D(read.pread)}}));
    f.push_back(Gauge("weightserver_pool_bytes_in_use",
                      "Bytes of read-ahead buffers holding unsent data",
                      D(service.buffer_bytes_in_use())));
    f.push_back(Gauge("weightserver_pool_capacity_bytes",
                      "Capacity of the read-ahead buffer pool "
                      "(--max_inflight_bytes)",
                      D(service.buffer_capacity_bytes())));
    f.push_back(Counter("weightserver_pool_waits_total",
                        "Times a stream waited for a read-ahead buffer",
                        D(service.pool_waits())));
    f.push_back(Gauge("weightserver_request_memory_bytes",
                      "Bytes of --max_request_memory held by the requests "
                      "of the streams in progress",
                      D(service.request_memory_used())));
    f.push_back(SampledFamily(
        "weightserver_stalled_streams_total",
        "Streams cancelled because their client stopped reading: idle "
        "(--stall_timeout) or busy (held a buffer of a contended pool, "
        "--busy_stall_timeout)",
        MetricType::Counter,
        {{{{"reason", "idle"}}, D(stalled - busy)},
         {{{"reason", "busy"}}, D(busy)}}));
    f.push_back(SampledFamily(
        "weightserver_crc_cache_blocks_total",
        "64 KiB blocks whose CRC32C was taken from the per-file cache (hit) "
        "or computed (miss)",
        MetricType::Counter,
        {{{{"result", "hit"}}, D(crc.hits)},
         {{{"result", "miss"}}, D(crc.misses)}}));
    f.push_back(Counter("weightserver_client_streams_refused_total",
                        "Streams refused because their client ran "
                        "--max_streams_per_client",
                        D(limits.streams_refused_per_client)));
    f.push_back(Counter("weightserver_paced_writes_total",
                        "Writes delayed by the bandwidth limits",
                        D(limits.paced_writes)));
    f.push_back(Counter("weightserver_paced_bytes_total",
                        "Payload bytes of the writes delayed by the "
                        "bandwidth limits",
                        D(limits.paced_bytes)));
    f.push_back(Counter("weightserver_pacing_wait_seconds_total",
                        "Time the paced writes waited, in all",
                        absl::ToDoubleSeconds(limits.pacing_wait)));
    f.push_back(Gauge("weightserver_clients",
                      "Clients (identities, else peer hosts) with a stream "
                      "running or a bandwidth debt",
                      D(limits.clients)));
    f.push_back(Counter("weightserver_unauthenticated_calls_total",
                        "Calls refused for their credentials "
                        "(UNAUTHENTICATED)",
                        D(service.unauthenticated_calls())));
    f.push_back(Counter("weightserver_denied_calls_total",
                        "Calls for a model the caller may not read "
                        "(answered NOT_FOUND)",
                        D(service.denied_calls())));
    return f;
  });
}

void ExportRepositoryMetrics(std::shared_ptr<const LiveRepository> repository,
                             ServerMetrics* metrics) {
  metrics->AddSampler([repository = std::move(repository)] {
    const RepositoryStats s = repository->stats();
    std::vector<MetricFamily> f;
    f.push_back(SampledFamily(
        "weightserver_models",
        "Models of the repository: servable, or not (an error at the scan)",
        MetricType::Gauge,
        {{{{"state", "servable"}}, D(s.models_servable)},
         {{{"state", "unservable"}}, D(s.models_unservable)}}));
    f.push_back(Counter("weightserver_repository_scans_total",
                        "Scans of the repository", D(s.scans)));
    f.push_back(Counter("weightserver_repository_scan_errors_total",
                        "Scans of the repository that failed as a whole",
                        D(s.failed_scans)));
    f.push_back(Gauge("weightserver_repository_scan_duration_seconds",
                      "Duration of the last scan of the repository",
                      absl::ToDoubleSeconds(s.last_scan_duration)));
    return f;
  });
}

}  // namespace weightserver::server
