// Copyright 2026 The Weightserver Authors.
//
// tests/cli/metrics_text_test.cc: the Prometheus text parser, sums and
// histogram quantiles behind `weightctl stats`.
#include "cli/metrics_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::cli {
namespace {

using ::weightserver::testing::StatusIs;

constexpr char kScrape[] = R"(# HELP weightserver_calls_total Calls
# TYPE weightserver_calls_total counter
weightserver_calls_total{code="OK",method="Fetch"} 3
weightserver_calls_total{code="NOT_FOUND",method="Fetch"} 1
weightserver_calls_total{method="GetModel",code="OK"} 2 1700000000000
weightserver_sent_bytes_total{method="Fetch",model="a \"q\"\\b"} 1.5e+06
weightserver_active_streams 2
h_bucket{method="Fetch",le="0.1"} 1
h_bucket{method="Fetch",le="1"} 3
h_bucket{method="Fetch",le="+Inf"} 4
h_bucket{method="ReadFile",le="0.1"} 0
h_bucket{method="ReadFile",le="1"} 0
h_bucket{method="ReadFile",le="+Inf"} 0
)";

TEST(MetricsTextTest, ParsesSamplesLabelsAndEscapes) {
  auto s = ParseMetricsText(kScrape);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 11u);
  EXPECT_EQ((*s)[3].labels.at("model"), "a \"q\"\\b");
  EXPECT_EQ((*s)[3].value, 1.5e6);
  EXPECT_EQ(SumSamples(*s, "weightserver_calls_total"), 6);
  EXPECT_EQ(SumSamples(*s, "weightserver_calls_total", {{"method", "Fetch"}}), 4);
  EXPECT_EQ(SumSamples(*s, "weightserver_calls_total",
                       {{"method", "Fetch"}, {"code", "OK"}}), 3);
  EXPECT_EQ(SumSamples(*s, "weightserver_active_streams"), 2);
  EXPECT_THAT(LabelValues(*s, "weightserver_calls_total", "method"),
              ::testing::ElementsAre("Fetch", "GetModel"));
}

TEST(MetricsTextTest, HistogramQuantileInterpolates) {
  auto s = ParseMetricsText(kScrape);
  ASSERT_TRUE(s.ok());
  const std::map<std::string, std::string> fetch = {{"method", "Fetch"}};
  // Rank 2 of 4 lies halfway through the (0.1, 1] bucket, which holds 2.
  EXPECT_DOUBLE_EQ(HistogramQuantile(*s, "h", 0.5, fetch), 0.55);
  EXPECT_DOUBLE_EQ(HistogramQuantile(*s, "h", 0.1, fetch), 0.04);
  // In the +Inf bucket: its lower bound.
  EXPECT_DOUBLE_EQ(HistogramQuantile(*s, "h", 0.99, fetch), 1);
  EXPECT_EQ(HistogramQuantile(*s, "h", 0.5, {{"method", "ReadFile"}}), -1);
}

TEST(MetricsTextTest, RejectsWhatIsNotASample) {
  EXPECT_THAT(ParseMetricsText("ok 1\nbroken{a=\"x\" 1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMetricsText("name notanumber\n"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MetricsTextTest, HttpGetNeedsAPortAndAListener) {
  EXPECT_THAT(HttpGet("127.0.0.1", "/metrics"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Port 1 on loopback: nothing listens (connection refused).
  EXPECT_THAT(HttpGet("127.0.0.1:1", "/metrics"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace weightserver::cli
