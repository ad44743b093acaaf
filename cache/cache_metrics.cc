// Copyright 2026 The Weightserver Authors.
//
// cache/cache_metrics.cc
#include "cache/cache_metrics.h"

#include <string>
#include <utility>
#include <vector>

namespace weightserver::cache {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

double D(uint64_t v) { return static_cast<double>(v); }

MetricFamily One(std::string name, std::string help, MetricType type,
                 double value) {
  return server::SampledFamily(std::move(name), std::move(help), type,
                               {{{}, value}});
}

}  // namespace

void ExportCacheMetrics(std::shared_ptr<const CacheRepository> cache,
                        server::ServerMetrics* metrics) {
  metrics->AddSampler([cache = std::move(cache)] {
    const CacheStats s = cache->stats();
    std::vector<MetricFamily> f;
    f.push_back(One("weightserver_cache_upstream_bytes_total",
                    "Block bytes the cache fetched from its upstream",
                    MetricType::Counter, D(s.upstream_bytes)));
    f.push_back(server::SampledFamily(
        "weightserver_cache_blocks_total",
        "Blocks of the cache's copies: fetched from the upstream, verified "
        "(found on disk after a restart and checked), corrupt (failed that "
        "check, fetched again), failed (upstream or disk error)",
        MetricType::Counter,
        {{{{"result", "fetched"}}, D(s.fetched_blocks)},
         {{{"result", "verified"}}, D(s.verified_blocks)},
         {{{"result", "corrupt"}}, D(s.corrupt_blocks)},
         {{{"result", "failed"}}, D(s.failed_fetches)}}));
    f.push_back(One("weightserver_cache_waits_total",
                    "Chunks that waited for a block of the cache",
                    MetricType::Counter, D(s.waits)));
    f.push_back(One("weightserver_cache_disk_bytes",
                    "Bytes the cache's copies hold on disk", MetricType::Gauge,
                    D(s.disk_bytes)));
    f.push_back(One("weightserver_cache_max_disk_bytes",
                    "The cache's disk budget (--cache_size)", MetricType::Gauge,
                    D(cache->options().max_bytes)));
    f.push_back(One("weightserver_cache_revisions",
                    "Model revisions the cache holds on disk", MetricType::Gauge,
                    D(s.revisions)));
    f.push_back(One("weightserver_cache_evictions_total",
                    "Model revisions evicted to fit the disk budget",
                    MetricType::Counter, D(s.evicted_revisions)));
    f.push_back(server::SampledFamily(
        "weightserver_cache_refreshes_total",
        "Times the cache asked its upstream for its models",
        MetricType::Counter,
        {{{{"result", "ok"}}, D(s.refreshes)},
         {{{"result", "error"}}, D(s.failed_refreshes)}}));
    f.push_back(One("weightserver_cache_upstream_failovers_total",
                    "Calls the cache moved to another upstream after a failure",
                    MetricType::Counter, D(s.failovers)));
    return f;
  });
}

}  // namespace weightserver::cache
