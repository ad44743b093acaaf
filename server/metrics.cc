// Copyright 2026 The Weightserver Authors.
//
// server/metrics.cc
#include "server/metrics.h"

#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weightserver::server {
namespace {

constexpr std::array<Method, kMethodCount> kMethods = {
    Method::kListModels, Method::kGetModel, Method::kFetch, Method::kReadFile,
    Method::kReadBytes};

// From 1 ms to ~9 min, about x2.5 apart: a small model's stream on a LAN
// takes milliseconds, a 400 GB one minutes.
prometheus::Histogram::BucketBoundaries DurationBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1,     2.5,    5,     10,   25,    50,   100, 250, 500};
}

// From 100 us to 10 s: the first chunk waits for the plan, a read, a CRC.
prometheus::Histogram::BucketBoundaries FirstChunkBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
}

}  // namespace

const std::vector<std::string> kMetricNames = {
    "weightserver_calls_total",
    "weightserver_sent_bytes_total",
    "weightserver_identity_calls_total",
    "weightserver_identity_sent_bytes_total",
    "weightserver_identity_paced_bytes_total",
    "weightserver_identity_pacing_wait_seconds_total",
    "weightserver_identity_streams_refused_total",
    "weightserver_stream_duration_seconds",
    "weightserver_stream_first_chunk_seconds",
    "weightserver_active_streams",
    "weightserver_read_bytes_total",
    "weightserver_pool_bytes_in_use",
    "weightserver_pool_capacity_bytes",
    "weightserver_pool_waits_total",
    "weightserver_request_memory_bytes",
    "weightserver_stalled_streams_total",
    "weightserver_crc_cache_blocks_total",
    "weightserver_models",
    "weightserver_client_streams_refused_total",
    "weightserver_paced_writes_total",
    "weightserver_paced_bytes_total",
    "weightserver_pacing_wait_seconds_total",
    "weightserver_clients",
    "weightserver_unauthenticated_calls_total",
    "weightserver_denied_calls_total",
    "weightserver_repository_scans_total",
    "weightserver_repository_scan_errors_total",
    "weightserver_repository_scan_duration_seconds",
};

absl::string_view MethodName(Method method) {
  switch (method) {
    case Method::kListModels: return "ListModels";
    case Method::kGetModel: return "GetModel";
    case Method::kFetch: return "Fetch";
    case Method::kReadFile: return "ReadFile";
    case Method::kReadBytes: return "ReadBytes";
  }
  return "unknown";
}

prometheus::MetricFamily SampledFamily(std::string name, std::string help,
                                       prometheus::MetricType type,
                                       std::vector<Sample> samples) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  for (Sample& s : samples) {
    prometheus::ClientMetric m;
    for (auto& [k, v] : s.labels) {
      m.label.push_back({std::move(k), std::move(v)});
    }
    if (type == prometheus::MetricType::Counter) {
      m.counter.value = s.value;
    } else {
      m.gauge.value = s.value;
    }
    family.metric.push_back(std::move(m));
  }
  return family;
}

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      calls_(prometheus::BuildCounter()
                 .Name("weightserver_calls_total")
                 .Help("Finished calls by method and gRPC status code "
                       "(errors: code != OK)")
                 .Register(*registry_)),
      sent_bytes_(prometheus::BuildCounter()
                      .Name("weightserver_sent_bytes_total")
                      .Help("Payload bytes handed to gRPC, by method and model")
                      .Register(*registry_)),
      identity_calls_(
          prometheus::BuildCounter()
              .Name("weightserver_identity_calls_total")
              .Help("Finished Fetch and ReadFile calls of each identity of "
                    "the access policy, by gRPC status code "
                    "(RESOURCE_EXHAUSTED: refused by a limit)")
              .Register(*registry_)),
      identity_bytes_(
          prometheus::BuildCounter()
              .Name("weightserver_identity_sent_bytes_total")
              .Help("Payload bytes sent to each identity of the access policy")
              .Register(*registry_)),
      identity_paced_bytes_(
          prometheus::BuildCounter()
              .Name("weightserver_identity_paced_bytes_total")
              .Help("Payload bytes of each identity's writes that waited for "
                    "the bandwidth limits (counted when the stream is done)")
              .Register(*registry_)),
      identity_pacing_wait_(
          prometheus::BuildCounter()
              .Name("weightserver_identity_pacing_wait_seconds_total")
              .Help("Time each identity's writes waited for the bandwidth "
                    "limits (counted when the stream is done)")
              .Register(*registry_)),
      identity_refused_(
          prometheus::BuildCounter()
              .Name("weightserver_identity_streams_refused_total")
              .Help("Streams of each identity refused because it already "
                    "ran max_streams_per_client")
              .Register(*registry_)) {
  auto& duration = prometheus::BuildHistogram()
                       .Name("weightserver_stream_duration_seconds")
                       .Help("Duration of finished Fetch and ReadFile streams")
                       .Register(*registry_);
  auto& first_chunk =
      prometheus::BuildHistogram()
          .Name("weightserver_stream_first_chunk_seconds")
          .Help("Time from a stream's start to its first chunk handed to gRPC")
          .Register(*registry_);
  for (Method m : {Method::kFetch, Method::kReadFile, Method::kReadBytes}) {
    const std::string name(MethodName(m));
    duration_[static_cast<int>(m)] =
        &duration.Add({{"method", name}}, DurationBuckets());
    first_chunk_[static_cast<int>(m)] =
        &first_chunk.Add({{"method", name}}, FirstChunkBuckets());
  }
  // Every method's OK series exists from the start: rate() sees its first
  // call as an increase from zero.
  for (Method m : kMethods) CountCallsOf(m, absl::StatusCode::kOk, 0);
}

void ServerMetrics::CountCallsOf(Method method, absl::StatusCode code,
                                 double n) {
  calls_
      .Add({{"method", std::string(MethodName(method))},
            {"code", absl::StatusCodeToString(code)}})
      .Increment(n);
}

void ServerMetrics::CountCall(Method method, absl::StatusCode code) {
  CountCallsOf(method, code, 1);
}

prometheus::Counter* ServerMetrics::SentBytes(Method method,
                                              absl::string_view model) {
  return &sent_bytes_.Add({{"method", std::string(MethodName(method))},
                           {"model", std::string(model)}});
}

void ServerMetrics::CountIdentityCall(absl::string_view identity,
                                      absl::StatusCode code) {
  if (identity.empty()) return;
  identity_calls_
      .Add({{"identity", std::string(identity)},
            {"code", absl::StatusCodeToString(code)}})
      .Increment();
}

prometheus::Counter* ServerMetrics::IdentitySentBytes(
    absl::string_view identity) {
  if (identity.empty()) return nullptr;
  return &identity_bytes_.Add({{"identity", std::string(identity)}});
}

void ServerMetrics::CountIdentityPacing(absl::string_view identity,
                                        uint64_t bytes, absl::Duration wait) {
  if (identity.empty() || bytes == 0) return;
  const prometheus::Labels labels = {{"identity", std::string(identity)}};
  identity_paced_bytes_.Add(labels).Increment(static_cast<double>(bytes));
  identity_pacing_wait_.Add(labels).Increment(absl::ToDoubleSeconds(wait));
}

void ServerMetrics::CountIdentityStreamRefused(absl::string_view identity) {
  if (identity.empty()) return;
  identity_refused_.Add({{"identity", std::string(identity)}}).Increment();
}

void ServerMetrics::ObserveStream(Method method, absl::Duration duration,
                                  absl::Duration first_chunk) {
  const int i = static_cast<int>(method);
  if (duration_[i] == nullptr) return;  // Not a streaming method.
  duration_[i]->Observe(absl::ToDoubleSeconds(duration));
  if (first_chunk >= absl::ZeroDuration()) {
    first_chunk_[i]->Observe(absl::ToDoubleSeconds(first_chunk));
  }
}

void ServerMetrics::AddSampler(Sampler sampler) {
  MutexLock lock(&mu_);
  samplers_.push_back(std::move(sampler));
}

std::vector<prometheus::MetricFamily> ServerMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::vector<Sampler> samplers;
  {
    MutexLock lock(&mu_);
    samplers = samplers_;
  }
  for (const Sampler& sampler : samplers) {
    for (prometheus::MetricFamily& f : sampler()) {
      families.push_back(std::move(f));
    }
  }
  return families;
}

std::string ServerMetrics::Scrape() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

absl::StatusOr<std::unique_ptr<MetricsListener>> MetricsListener::Start(
    const std::string& listen, std::shared_ptr<ServerMetrics> metrics) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics_listen '", listen, "': want HOST:PORT (port 0: any free)"));
  }
  std::unique_ptr<MetricsListener> listener(new MetricsListener());
  try {  // civetweb's errors are exceptions; none leaves this function.
    listener->exposer_ = std::make_unique<prometheus::Exposer>(listen, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", listen, ": ", e.what()));
  }
  listener->exposer_->RegisterCollectable(metrics);
  const std::vector<int> ports = listener->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, ": no port bound"));
  }
  listener->port_ = ports.front();
  listener->address_ =
      absl::StrCat(listen.substr(0, colon), ":", listener->port_);
  return listener;
}

MetricsListener::~MetricsListener() = default;

}  // namespace weightserver::server
