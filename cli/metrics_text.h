// Copyright 2026 The Weightserver Authors.
//
// cli/metrics_text.h: reading a Prometheus metrics endpoint: a plain
// HTTP/1.0 GET, a parser of the text exposition format (0.0.4), and the
// sums and histogram quantiles `weightctl stats` prints.
//
// The parser keeps samples (name, labels, value); comments, timestamps and
// blank lines are skipped. Quantiles are estimated from a histogram's
// cumulative `_bucket{le=...}` samples by linear interpolation within the
// bucket, as PromQL's histogram_quantile does.
//
// Example:
//   ASSIGN_OR_RETURN(std::string text, HttpGet("127.0.0.1:9464", "/metrics"));
//   ASSIGN_OR_RETURN(std::vector<MetricSample> s, ParseMetricsText(text));
//   double fetches = SumSamples(s, "weightserver_calls_total",
//                               {{"method", "Fetch"}});
//
// Thread-safety: pure functions, but for HttpGet's socket.
#ifndef WEIGHTSERVER_CLI_METRICS_TEXT_H_
#define WEIGHTSERVER_CLI_METRICS_TEXT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace weightserver::cli {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The body of `GET path` from http://host_port (HOST:PORT; [v6]:PORT).
// Errors: InvalidArgument for an address without a port; Unavailable when
// it cannot connect or the answer is not "200"; DeadlineExceeded after
// `timeout`.
absl::StatusOr<std::string> HttpGet(const std::string& host_port,
                                    const std::string& path,
                                    absl::Duration timeout = absl::Seconds(5));

// Errors: InvalidArgument naming the line that is not a sample.
absl::StatusOr<std::vector<MetricSample>> ParseMetricsText(
    absl::string_view text);

// The sum of the samples named `name` whose labels include all of `match`.
double SumSamples(const std::vector<MetricSample>& samples,
                  absl::string_view name,
                  const std::map<std::string, std::string>& match = {});

// The values of label `label` among the samples named `name`, sorted.
std::vector<std::string> LabelValues(const std::vector<MetricSample>& samples,
                                     absl::string_view name,
                                     absl::string_view label);

// The `q` quantile (0..1) of histogram `name` (its `name_bucket` samples
// matching `match`, summed over the other labels); -1 when it has no
// observations. Values in the last, +Inf, bucket are reported as its lower
// bound.
double HistogramQuantile(const std::vector<MetricSample>& samples,
                         absl::string_view name, double q,
                         const std::map<std::string, std::string>& match = {});

}  // namespace weightserver::cli

#endif  // WEIGHTSERVER_CLI_METRICS_TEXT_H_
