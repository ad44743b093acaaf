// Copyright 2026 The Weightserver Authors.
//
// cli/cmd_stats.cc: `weightctl stats --metrics HOST:PORT`: the daemon's
// Prometheus metrics (its --metrics_listen), read once and printed as tables:
// calls and errors by method, bytes by model, streams with p50/p99 of their
// duration and time to first chunk, read paths, the buffer pool, stalls,
// the client limits and the models.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/metrics_text.h"
#include "cli/text.h"

namespace weightserver::cli {
namespace {

using Samples = std::vector<MetricSample>;

std::string Count(double v) { return absl::StrCat(std::llround(v)); }
std::string Bytes(double v) {
  return HumanBytes(static_cast<uint64_t>(std::max(0.0, v)));
}
std::string Seconds(double v) {
  if (v < 0) return "-";
  if (v < 1) return absl::StrFormat("%.1f ms", v * 1000);
  return absl::StrFormat("%.2f s", v);
}

void PrintCalls(const Samples& s, std::ostream& out) {
  Table table({"method", "calls", "errors", "error codes"},
              {false, true, true, false});
  for (const std::string& method :
       LabelValues(s, "weightserver_calls_total", "method")) {
    const double calls =
        SumSamples(s, "weightserver_calls_total", {{"method", method}});
    double errors = 0;
    std::vector<std::string> codes;
    for (const MetricSample& m : s) {
      if (m.name != "weightserver_calls_total" ||
          m.labels.count("method") == 0 || m.labels.count("code") == 0 ||
          m.labels.at("method") != method ||
          m.labels.at("code") == "OK" || m.value == 0) {
        continue;
      }
      errors += m.value;
      codes.push_back(absl::StrCat(m.labels.at("code"), "=", Count(m.value)));
    }
    std::sort(codes.begin(), codes.end());
    table.AddRow({method, Count(calls), Count(errors), absl::StrJoin(codes, " ")});
  }
  table.Print(out);
}

void PrintBytes(const Samples& s, std::ostream& out) {
  Table table({"model", "method", "bytes sent"}, {false, false, true});
  for (const MetricSample& m : s) {
    if (m.name != "weightserver_sent_bytes_total") continue;
    table.AddRow({PrintableName(m.labels.count("model") ? m.labels.at("model") : ""),
                  m.labels.count("method") ? m.labels.at("method") : "",
                  Bytes(m.value)});
  }
  table.Print(out);
}

// Under an access policy only: calls and bytes per identity.
void PrintIdentities(const Samples& s, std::ostream& out) {
  const std::vector<std::string> ids =
      LabelValues(s, "weightserver_identity_calls_total", "identity");
  if (ids.empty()) return;
  Table table({"identity", "calls", "refused", "bytes sent"},
              {false, true, true, true});
  for (const std::string& id : ids) {
    const double calls = SumSamples(s, "weightserver_identity_calls_total",
                                    {{"identity", id}});
    const double ok = SumSamples(s, "weightserver_identity_calls_total",
                                 {{"identity", id}, {"code", "OK"}});
    table.AddRow({PrintableName(id), Count(calls), Count(calls - ok),
                  Bytes(SumSamples(s, "weightserver_identity_sent_bytes_total",
                                   {{"identity", id}}))});
  }
  out << "\n";
  table.Print(out);
}

void PrintStreams(const Samples& s, std::ostream& out) {
  out << "streams: " << Count(SumSamples(s, "weightserver_active_streams"))
      << " active\n";
  Table table({"method", "finished", "duration p50", "p99", "first chunk p50",
               "p99"},
              {false, true, true, true, true, true});
  for (const char* method : {"Fetch", "ReadFile"}) {
    const std::map<std::string, std::string> m = {{"method", method}};
    table.AddRow(
        {method,
         Count(SumSamples(s, "weightserver_stream_duration_seconds_count", m)),
         Seconds(HistogramQuantile(s, "weightserver_stream_duration_seconds", 0.5, m)),
         Seconds(HistogramQuantile(s, "weightserver_stream_duration_seconds", 0.99, m)),
         Seconds(HistogramQuantile(s, "weightserver_stream_first_chunk_seconds", 0.5, m)),
         Seconds(HistogramQuantile(s, "weightserver_stream_first_chunk_seconds", 0.99, m))});
  }
  table.Print(out, "  ");
}

void PrintServer(const Samples& s, std::ostream& out) {
  std::vector<std::string> paths;
  for (const char* path : {"mapped", "gather", "io_uring", "pread"}) {
    paths.push_back(absl::StrCat(
        path, " ",
        Bytes(SumSamples(s, "weightserver_read_bytes_total", {{"path", path}}))));
  }
  out << "read paths: " << absl::StrJoin(paths, ", ") << "\n";
  out << "pool: " << Bytes(SumSamples(s, "weightserver_pool_bytes_in_use"))
      << " of " << Bytes(SumSamples(s, "weightserver_pool_capacity_bytes"))
      << " in use, " << Count(SumSamples(s, "weightserver_pool_waits_total"))
      << " waits; request memory "
      << Bytes(SumSamples(s, "weightserver_request_memory_bytes")) << "\n";
  out << "crc cache: "
      << Count(SumSamples(s, "weightserver_crc_cache_blocks_total",
                          {{"result", "hit"}}))
      << " hits, "
      << Count(SumSamples(s, "weightserver_crc_cache_blocks_total",
                          {{"result", "miss"}}))
      << " misses (64 KiB blocks)\n";
  out << "stalled streams cancelled: "
      << Count(SumSamples(s, "weightserver_stalled_streams_total",
                          {{"reason", "idle"}}))
      << " idle, "
      << Count(SumSamples(s, "weightserver_stalled_streams_total",
                          {{"reason", "busy"}}))
      << " busy\n";
  out << "limits: "
      << Count(SumSamples(s, "weightserver_client_streams_refused_total"))
      << " streams refused per client, "
      << Count(SumSamples(s, "weightserver_paced_writes_total"))
      << " paced writes ("
      << Bytes(SumSamples(s, "weightserver_paced_bytes_total")) << ", waited "
      << Seconds(SumSamples(s, "weightserver_pacing_wait_seconds_total"))
      << "), " << Count(SumSamples(s, "weightserver_clients"))
      << " clients now; "
      << Count(SumSamples(s, "weightserver_unauthenticated_calls_total"))
      << " unauthenticated, "
      << Count(SumSamples(s, "weightserver_denied_calls_total"))
      << " denied calls\n";
  out << "models: "
      << Count(SumSamples(s, "weightserver_models", {{"state", "servable"}}))
      << " servable, "
      << Count(SumSamples(s, "weightserver_models", {{"state", "unservable"}}))
      << " unservable; last scan took "
      << Seconds(SumSamples(s, "weightserver_repository_scan_duration_seconds"))
      << "\n";
}

}  // namespace

absl::Status RunStats(const Context& ctx, const ParsedArgs& args) {
  const std::string address = args.Get("metrics").value_or("");
  if (address.empty()) {
    return UsageError("stats: --metrics HOST:PORT (the daemon's "
                      "--metrics_listen) is required");
  }
  absl::StatusOr<std::string> text = HttpGet(address, "/metrics");
  if (!text.ok()) return text.status();
  absl::StatusOr<Samples> samples = ParseMetricsText(*text);
  if (!samples.ok()) return samples.status();
  if (SumSamples(*samples, "weightserver_pool_capacity_bytes") == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "http://", address, "/metrics has no weightserver metrics"));
  }
  std::ostream& out = *ctx.out;
  PrintCalls(*samples, out);
  out << "\n";
  PrintBytes(*samples, out);
  PrintIdentities(*samples, out);
  out << "\n";
  PrintStreams(*samples, out);
  out << "\n";
  PrintServer(*samples, out);
  return absl::OkStatus();
}

}  // namespace weightserver::cli
