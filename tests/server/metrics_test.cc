// Copyright 2026 The Weightserver Authors.
//
// tests/server/metrics_test.cc: the metric registry wrapper (ServerMetrics),
// its HTTP listener, and CallRecord, which feeds it and the access log.
#include "server/metrics.h"

#include <fstream>
#include <iterator>

#include "cli/metrics_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/access_log.h"
#include "server/call_record.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::server {
namespace {

using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

std::vector<cli::MetricSample> Parse(const ServerMetrics& metrics) {
  absl::StatusOr<std::vector<cli::MetricSample>> s =
      cli::ParseMetricsText(metrics.Scrape());
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : std::vector<cli::MetricSample>{};
}

TEST(ServerMetricsTest, CountsCallsByMethodAndCode) {
  ServerMetrics metrics;
  metrics.CountCall(Method::kFetch, absl::StatusCode::kOk);
  metrics.CountCall(Method::kFetch, absl::StatusCode::kOk);
  metrics.CountCall(Method::kFetch, absl::StatusCode::kNotFound);
  metrics.CountCall(Method::kGetModel, absl::StatusCode::kInvalidArgument);
  const auto s = Parse(metrics);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_calls_total",
                            {{"method", "Fetch"}, {"code", "OK"}}), 2);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_calls_total",
                            {{"method", "Fetch"}, {"code", "NOT_FOUND"}}), 1);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_calls_total",
                            {{"method", "GetModel"},
                             {"code", "INVALID_ARGUMENT"}}), 1);
  // Every method's OK series exists before its first call.
  EXPECT_THAT(cli::LabelValues(s, "weightserver_calls_total", "method"),
              ::testing::ElementsAre("Fetch", "GetModel", "ListModels",
                                     "ReadBytes", "ReadFile"));
}

TEST(ServerMetricsTest, SentBytesCounterIsOnePerMethodAndModel) {
  ServerMetrics metrics;
  prometheus::Counter* a = metrics.SentBytes(Method::kFetch, "org/a");
  EXPECT_EQ(a, metrics.SentBytes(Method::kFetch, "org/a"));
  EXPECT_NE(a, metrics.SentBytes(Method::kReadFile, "org/a"));
  a->Increment(1 << 20);
  a->Increment(5);
  const auto s = Parse(metrics);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_sent_bytes_total",
                            {{"method", "Fetch"}, {"model", "org/a"}}),
            (1 << 20) + 5);
}

TEST(ServerMetricsTest, IdentityCountersOnlyForIdentities) {
  ServerMetrics metrics;
  metrics.CountIdentityCall("alice", absl::StatusCode::kResourceExhausted);
  metrics.CountIdentityCall("", absl::StatusCode::kOk);  // No identity.
  EXPECT_EQ(metrics.IdentitySentBytes(""), nullptr);
  metrics.IdentitySentBytes("alice")->Increment(10);
  const auto s = Parse(metrics);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_identity_calls_total"), 1);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_identity_calls_total",
                            {{"identity", "alice"},
                             {"code", "RESOURCE_EXHAUSTED"}}), 1);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_identity_sent_bytes_total",
                            {{"identity", "alice"}}), 10);
}

TEST(ServerMetricsTest, IdentityThrottlingAddsUp) {
  ServerMetrics metrics;
  metrics.CountIdentityPacing("alice", 1 << 20, absl::Milliseconds(250));
  metrics.CountIdentityPacing("alice", 10, absl::Milliseconds(50));
  metrics.CountIdentityPacing("alice", 0, absl::ZeroDuration());  // Unpaced.
  metrics.CountIdentityPacing("", 99, absl::Seconds(1));  // No identity.
  metrics.CountIdentityStreamRefused("alice");
  metrics.CountIdentityStreamRefused("");
  const auto s = Parse(metrics);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_identity_paced_bytes_total"),
            (1 << 20) + 10);
  EXPECT_NEAR(cli::SumSamples(s, "weightserver_identity_pacing_wait_seconds_total",
                              {{"identity", "alice"}}), 0.3, 1e-9);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_identity_streams_refused_total"), 1);
}

TEST(ServerMetricsTest, StreamHistograms) {
  ServerMetrics metrics;
  metrics.ObserveStream(Method::kFetch, absl::Milliseconds(20),
                        absl::Milliseconds(1));
  metrics.ObserveStream(Method::kFetch, absl::Seconds(3),
                        -absl::Seconds(1));  // Sent nothing.
  metrics.ObserveStream(Method::kGetModel, absl::Seconds(1),
                        absl::Seconds(1));  // Unary: ignored.
  const auto s = Parse(metrics);
  const std::map<std::string, std::string> fetch = {{"method", "Fetch"}};
  EXPECT_EQ(cli::SumSamples(s, "weightserver_stream_duration_seconds_count",
                            fetch), 2);
  EXPECT_NEAR(cli::SumSamples(s, "weightserver_stream_duration_seconds_sum",
                              fetch), 3.02, 1e-9);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_stream_first_chunk_seconds_count",
                            fetch), 1);
  const double p50 =
      cli::HistogramQuantile(s, "weightserver_stream_duration_seconds", 0.5, fetch);
  EXPECT_GT(p50, 0.01);
  EXPECT_LE(p50, 0.025);
}

TEST(ServerMetricsTest, SamplersRunAtEachScrape) {
  ServerMetrics metrics;
  int value = 1;
  metrics.AddSampler([&value] {
    std::vector<prometheus::MetricFamily> f;
    f.push_back(SampledFamily("weightserver_test_things", "Things",
                              prometheus::MetricType::Gauge,
                              {{{{"kind", "a"}}, double(value)}}));
    return f;
  });
  EXPECT_EQ(cli::SumSamples(Parse(metrics), "weightserver_test_things",
                            {{"kind", "a"}}), 1);
  value = 7;
  EXPECT_EQ(cli::SumSamples(Parse(metrics), "weightserver_test_things"), 7);
  EXPECT_THAT(metrics.Scrape(), HasSubstr("# TYPE weightserver_test_things gauge"));
}

TEST(MetricsListenerTest, ServesTheScrapeOnPortZero) {
  auto metrics = std::make_shared<ServerMetrics>();
  metrics->CountCall(Method::kListModels, absl::StatusCode::kOk);
  absl::StatusOr<std::unique_ptr<MetricsListener>> listener =
      MetricsListener::Start("127.0.0.1:0", metrics);
  ASSERT_OK(listener);
  EXPECT_GT((*listener)->port(), 0);
  EXPECT_EQ((*listener)->address(),
            absl::StrCat("127.0.0.1:", (*listener)->port()));
  absl::StatusOr<std::string> body =
      cli::HttpGet((*listener)->address(), "/metrics");
  ASSERT_OK(body);
  auto s = cli::ParseMetricsText(*body);
  ASSERT_OK(s);
  EXPECT_EQ(cli::SumSamples(*s, "weightserver_calls_total",
                            {{"method", "ListModels"}}), 1);
}

TEST(MetricsListenerTest, RefusesAnAddressWithoutPortOrInUse) {
  auto metrics = std::make_shared<ServerMetrics>();
  EXPECT_THAT(MetricsListener::Start("127.0.0.1", metrics),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto first = MetricsListener::Start("127.0.0.1:0", metrics);
  ASSERT_OK(first);
  EXPECT_THAT(MetricsListener::Start((*first)->address(), metrics),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(CallRecordTest, NothingToRecordWithoutMetricsOrLog) {
  EXPECT_EQ(CallRecord::Start(Method::kFetch, nullptr, nullptr, "peer"),
            nullptr);
}

TEST(CallRecordTest, CountsBytesCallAndDurationOnce) {
  weightserver::testing::TempDir dir;
  ServerMetrics metrics;
  auto log = AccessLog::Open({.path = dir.path() + "/access.log",
                              .format = LogFormat::kJson});
  ASSERT_OK(log);
  auto record = CallRecord::Start(Method::kFetch, &metrics, log->get(),
                                  "ipv4:127.0.0.1:5000");
  ASSERT_NE(record, nullptr);
  record->SetRequest("m", "", 2);
  record->SetIdentity("alice");
  record->SetModel("m", "rev1");
  record->Sent(100);
  record->Sent(28);
  record->SetStatus(absl::OkStatus());
  record->SetStatus(absl::InternalError("later: ignored"));
  record->Done();
  record->Done();  // Once.
  const auto s = Parse(metrics);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_calls_total",
                            {{"method", "Fetch"}, {"code", "OK"}}), 1);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_sent_bytes_total",
                            {{"model", "m"}}), 128);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_stream_first_chunk_seconds_count"), 1);
  std::ifstream in(dir.path() + "/access.log");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["identity"], "alice");
  EXPECT_EQ(j["revision"], "rev1");
  EXPECT_EQ(j["entries"], 2);
  EXPECT_EQ(j["bytes"], 128);
  EXPECT_EQ(j["code"], "OK");
  EXPECT_FALSE(std::getline(in, line));
}

TEST(CallRecordTest, RefusedCallIsCountedButNoStream) {
  ServerMetrics metrics;
  auto record = CallRecord::Start(Method::kReadFile, &metrics, nullptr, "");
  record->Refuse(absl::NotFoundError("no model"));
  record->Done();
  const auto s = Parse(metrics);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_calls_total",
                            {{"method", "ReadFile"}, {"code", "NOT_FOUND"}}), 1);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_stream_duration_seconds_count"), 0);
}

TEST(CallRecordTest, EndedWithoutStatusIsCancelled) {
  ServerMetrics metrics;
  auto record = CallRecord::Start(Method::kFetch, &metrics, nullptr, "");
  record->Done();
  EXPECT_EQ(cli::SumSamples(Parse(metrics), "weightserver_calls_total",
                            {{"code", "CANCELLED"}}), 1);
}

}  // namespace
}  // namespace weightserver::server
