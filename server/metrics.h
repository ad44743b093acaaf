// Copyright 2026 The Weightserver Authors.
//
// server/metrics.h: the daemon's Prometheus metrics (prometheus-cpp), and the
// HTTP listener that serves them.
//
// Two kinds of metric. Those counted where things happen (calls by method
// and gRPC code, payload bytes by method and model, stream durations and
// times to first chunk) live in a prometheus::Registry; their hot-path
// handles are looked up once per call (SentBytes) and then are plain atomics.
// Those the server already counts elsewhere (the buffer pool, the stall
// watchdog, the client limiter, the read paths, the repository) are read
// only when scraped, by samplers (AddSampler) that turn the owners' counters
// into metric families: no second count on the data path.
//
// Naming follows Prometheus: every name starts with `weightserver_`, units
// are in the name (`_bytes`, `_seconds`), counters end in `_total`. Labels
// have bounded values: method, code, model (names of the repository only,
// never a name a client asked for in vain), identity (names of the access
// policy, only under one), read path, reason. Never a peer address. kMetricNames lists every family the server exports; README
// "Metrics" documents them.
//
// Example:
//   auto metrics = std::make_shared<ServerMetrics>();
//   metrics->CountCall(Method::kGetModel, absl::StatusCode::kOk);
//   prometheus::Counter* sent = metrics->SentBytes(Method::kFetch, "org/llama");
//   sent->Increment(chunk_bytes);  // Per chunk: an atomic add.
//   ASSIGN_OR_RETURN(auto listener,
//                    MetricsListener::Start("127.0.0.1:0", metrics));
//   std::cout << "metrics on " << listener->address() << "\n";
//
// Thread-safety: every method may be called concurrently; samplers run on
// the listener's threads and must be thread-safe themselves.
#ifndef WEIGHTSERVER_SERVER_METRICS_H_
#define WEIGHTSERVER_SERVER_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace weightserver::server {

// The RPCs of weightserver.v1.WeightService, as the `method` label spells
// them.
enum class Method { kListModels, kGetModel, kFetch, kReadFile, kReadBytes };
inline constexpr int kMethodCount = 5;
absl::string_view MethodName(Method method);

// Every metric family the server exports (histograms by their base name).
// The Grafana dashboard may query these and no others (tests/deploy).
extern const std::vector<std::string> kMetricNames;

// One sampled value: a counter or gauge with its labels.
struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// A family of sampled values, built at scrape time.
// `type` is prometheus::MetricType::kCounter or kGauge.
prometheus::MetricFamily SampledFamily(std::string name, std::string help,
                                       prometheus::MetricType type,
                                       std::vector<Sample> samples);

class ServerMetrics final : public prometheus::Collectable {
 public:
  using Sampler = std::function<std::vector<prometheus::MetricFamily>()>;

  ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // A finished call of `method` with gRPC status `code` (OK included):
  // weightserver_calls_total{method, code}.
  void CountCall(Method method, absl::StatusCode code);
  // The counter of payload bytes `method` sends of `model` (a model of the
  // repository): weightserver_sent_bytes_total{method, model}. Look it up
  // once per stream; it lives as long as this object.
  prometheus::Counter* SentBytes(Method method, absl::string_view model);
  // Per identity of the access policy (never an empty one): its finished
  // Fetch and ReadFile calls by code (weightserver_identity_calls_total;
  // RESOURCE_EXHAUSTED: refused by a limit), and the payload bytes sent to
  // it (weightserver_identity_sent_bytes_total; look it up once per stream).
  void CountIdentityCall(absl::string_view identity, absl::StatusCode code);
  prometheus::Counter* IdentitySentBytes(absl::string_view identity);
  // Per identity (never an empty one): the payload bytes of one stream's
  // writes that waited for the bandwidth limits and how long they waited in
  // all (weightserver_identity_paced_bytes_total,
  // weightserver_identity_pacing_wait_seconds_total); counted when the
  // stream is done.
  void CountIdentityPacing(absl::string_view identity, uint64_t bytes,
                           absl::Duration wait);
  // A stream of `identity` refused because it already ran
  // max_streams_per_client (weightserver_identity_streams_refused_total).
  void CountIdentityStreamRefused(absl::string_view identity);
  // A finished stream: its duration, and its time to first chunk when it
  // sent one (negative: none).
  void ObserveStream(Method method, absl::Duration duration,
                     absl::Duration first_chunk);

  // Adds families computed at every scrape. Samplers run in the order
  // added; one must not call back into this object.
  void AddSampler(Sampler sampler);

  // The Prometheus text exposition (format 0.0.4) of every metric now.
  std::string Scrape() const;

  // prometheus::Collectable: the registry's families, then the samplers'.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void CountCallsOf(Method method, absl::StatusCode code, double n);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& sent_bytes_;
  prometheus::Family<prometheus::Counter>& identity_calls_;
  prometheus::Family<prometheus::Counter>& identity_bytes_;
  prometheus::Family<prometheus::Counter>& identity_paced_bytes_;
  prometheus::Family<prometheus::Counter>& identity_pacing_wait_;
  prometheus::Family<prometheus::Counter>& identity_refused_;
  std::array<prometheus::Histogram*, kMethodCount> duration_{};
  std::array<prometheus::Histogram*, kMethodCount> first_chunk_{};
  mutable Mutex mu_;
  std::vector<Sampler> samplers_ ABSL_GUARDED_BY(mu_);
};

// The HTTP listener that serves GET /metrics (prometheus-cpp's Exposer,
// civetweb, two threads).
class MetricsListener {
 public:
  // Listens on `listen` (HOST:PORT; port 0 picks a free one) and serves
  // `metrics` at /metrics; keeps only a weak reference to it, so destroy
  // the listener first.
  // Errors: InvalidArgument for an address without a port, Unavailable
  // when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsListener>> Start(
      const std::string& listen, std::shared_ptr<ServerMetrics> metrics);
  ~MetricsListener();

  // HOST:PORT with the bound port.
  const std::string& address() const { return address_; }
  int port() const { return port_; }

 private:
  MetricsListener() = default;

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
  int port_ = 0;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_METRICS_H_
