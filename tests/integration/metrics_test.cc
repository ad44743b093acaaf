// Copyright 2026 The Weightserver Authors.
//
// tests/integration/metrics_test.cc: a real server on 127.0.0.1:0 with its
// metrics listener on port 0 and an access log: a known workload (fetches of
// known bytes, a ReadFile, a NOT_FOUND, a malformed request), then every
// counter of the scrape is what the workload did, every line of the access
// log (JSON and text) says it, and `weightctl stats` prints it.
#include <grpcpp/create_channel.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/metrics_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/auth_policy.h"
#include "server/client_limits.h"
#include "server/metrics.h"
#include "server/server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver {
namespace {

using cli::SumSamples;
using format::DType;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint64_t kTensorBytes = 3 << 20;  // Three 1 MiB chunks.
constexpr int kFetches = 3;
constexpr char kConfig[] = R"({"model_type":"llama"})";

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class MetricsTest : public ::testing::Test {
 protected:
  void Start(server::LogFormat format, const std::string& auth_file = "",
             server::ClientLimitOptions limits = {}) {
    weightserver::testing::WriteModel(repo_.path() + "/m",
                                      {{"w", DType::kU8, {kTensorBytes}}});
    weightserver::testing::WriteBytes(repo_.path() + "/m/config.json", kConfig);
    weightserver::testing::WriteBytes(repo_.path() + "/broken/model.safetensors",
                                      std::string("\x10\0\0\0\0\0\0\0{}", 10));
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.metrics_listen = "127.0.0.1:0";
    o.access_log = {.path = log_path_, .format = format};
    o.service.auth_file = auth_file;
    o.service.client_limits = limits;
    auto s = server::Server::Start(o);
    ASSERT_OK(s);
    server_ = *std::move(s);
    ASSERT_THAT(server_->metrics_address(), StartsWith("127.0.0.1:"));
    stub_ = v1::WeightService::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Fetch(const std::string& model, uint64_t* received,
                     const std::string& token = "") {
    v1::FetchRequest r;
    r.set_model(model);
    r.add_tensors()->set_name("w");
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    auto reader = stub_->Fetch(&ctx, r);
    v1::Chunk c;
    *received = 0;
    while (reader->Read(&c)) *received += c.data().size();
    return reader->Finish();
  }

  // The workload; returns once the server has counted its calls (a stream
  // is counted when it is done, just after its client saw the end).
  void RunWorkload() {
    for (int i = 0; i < kFetches; ++i) {
      uint64_t n = 0;
      ASSERT_TRUE(Fetch("m", &n).ok());
      ASSERT_EQ(n, kTensorBytes);
    }
    uint64_t n = 0;
    EXPECT_EQ(Fetch("nosuch", &n).error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Fetch("", &n).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    {
      v1::ReadFileRequest r;
      r.set_model("m");
      r.set_name("config.json");
      grpc::ClientContext ctx;
      auto reader = stub_->ReadFile(&ctx, r);
      v1::Chunk c;
      std::string got;
      while (reader->Read(&c)) got += c.data();
      ASSERT_TRUE(reader->Finish().ok());
      ASSERT_EQ(got, kConfig);
    }
    {
      v1::GetModelRequest r;
      r.set_name("m");
      v1::Model m;
      grpc::ClientContext ctx;
      ASSERT_TRUE(stub_->GetModel(&ctx, r, &m).ok());
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      samples_ = Scrape();
      if (SumSamples(samples_, "weightserver_calls_total",
                     {{"method", "Fetch"}}) == kFetches + 2 &&
          SumSamples(samples_, "weightserver_calls_total",
                     {{"method", "ReadFile"}}) == 1) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    FAIL() << "the calls were not counted within 10 s";
  }

  // Scrapes until the server has counted `fetches` Fetch calls (a stream
  // is counted when it is done, just after its client saw the end), or
  // 10 s have passed; returns the last scrape.
  std::vector<cli::MetricSample> ScrapeOnceCounted(int fetches) {
    std::vector<cli::MetricSample> s;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      s = Scrape();
      if (SumSamples(s, "weightserver_calls_total", {{"method", "Fetch"}}) ==
          fetches) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return s;
  }

  std::vector<cli::MetricSample> Scrape() {
    absl::StatusOr<std::string> text =
        cli::HttpGet(server_->metrics_address(), "/metrics");
    EXPECT_OK(text);
    if (!text.ok()) return {};
    auto samples = cli::ParseMetricsText(*text);
    EXPECT_OK(samples);
    return samples.ok() ? *samples : std::vector<cli::MetricSample>{};
  }

  weightserver::testing::TempDir repo_;
  weightserver::testing::TempDir logs_;
  const std::string log_path_ = logs_.path() + "/access.log";
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::WeightService::Stub> stub_;
  std::vector<cli::MetricSample> samples_;
};

TEST_F(MetricsTest, CountersAreWhatTheWorkloadDid) {
  Start(server::LogFormat::kJson);
  RunWorkload();
  const auto& s = samples_;
  auto calls = [&](const char* method, const char* code) {
    return SumSamples(s, "weightserver_calls_total",
                      {{"method", method}, {"code", code}});
  };
  EXPECT_EQ(calls("Fetch", "OK"), kFetches);
  EXPECT_EQ(calls("Fetch", "NOT_FOUND"), 1);
  EXPECT_EQ(calls("Fetch", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(calls("ReadFile", "OK"), 1);
  EXPECT_EQ(calls("GetModel", "OK"), 1);
  EXPECT_EQ(SumSamples(s, "weightserver_calls_total"), kFetches + 2 + 1 + 1);
  EXPECT_EQ(SumSamples(s, "weightserver_sent_bytes_total",
                       {{"method", "Fetch"}, {"model", "m"}}),
            kFetches * kTensorBytes);
  EXPECT_EQ(SumSamples(s, "weightserver_sent_bytes_total",
                       {{"method", "ReadFile"}, {"model", "m"}}),
            std::string(kConfig).size());
  // No series for the names clients asked for in vain.
  EXPECT_THAT(cli::LabelValues(s, "weightserver_sent_bytes_total", "model"),
              ::testing::ElementsAre("m"));
  // Refused calls are no streams.
  EXPECT_EQ(SumSamples(s, "weightserver_stream_duration_seconds_count",
                       {{"method", "Fetch"}}), kFetches);
  EXPECT_EQ(SumSamples(s, "weightserver_stream_first_chunk_seconds_count",
                       {{"method", "Fetch"}}), kFetches);
  EXPECT_EQ(SumSamples(s, "weightserver_stream_duration_seconds_count",
                       {{"method", "ReadFile"}}), 1);
  // Every byte of a Fetch went through one read path.
  EXPECT_EQ(SumSamples(s, "weightserver_read_bytes_total"),
            kFetches * kTensorBytes);
  EXPECT_EQ(SumSamples(s, "weightserver_active_streams"), 0);
  EXPECT_EQ(SumSamples(s, "weightserver_pool_capacity_bytes"),
            server_->service().buffer_capacity_bytes());
  EXPECT_EQ(SumSamples(s, "weightserver_models", {{"state", "servable"}}), 1);
  EXPECT_EQ(SumSamples(s, "weightserver_models", {{"state", "unservable"}}), 1);
  EXPECT_EQ(SumSamples(s, "weightserver_repository_scans_total"), 1);
  EXPECT_EQ(SumSamples(s, "weightserver_stalled_streams_total"), 0);
  // The CRC of every whole 64 KiB block: computed once, then cached.
  const double blocks = static_cast<double>(kTensorBytes / (64 << 10));
  EXPECT_GE(SumSamples(s, "weightserver_crc_cache_blocks_total"),
            (kFetches - 1) * blocks);
  // Every family the server declares is exported (those of identities
  // only under an access policy: IdentityCountersUnderAPolicy).
  std::set<std::string> names;
  for (const auto& m : s) names.insert(m.name);
  for (const std::string& name : server::kMetricNames) {
    if (name.find("identity") != std::string::npos) continue;
    EXPECT_TRUE(names.count(name) || names.count(name + "_count"))
        << name << " missing from the scrape";
  }
}

TEST_F(MetricsTest, JsonAccessLogHasALinePerStream) {
  Start(server::LogFormat::kJson);
  RunWorkload();
  std::vector<nlohmann::json> lines;
  for (const std::string& line : Lines(log_path_)) {
    lines.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(lines.size(), kFetches + 3u);  // Fetches, refusals, ReadFile.
  int ok = 0;
  for (const nlohmann::json& j : lines) {
    EXPECT_EQ(j["type"], "access");
    EXPECT_THAT(j["peer"].get<std::string>(), StartsWith("ipv4:127.0.0.1:"));
    EXPECT_EQ(j["identity"], "");
    if (j["method"] == "Fetch" && j["code"] == "OK") {
      ++ok;
      EXPECT_EQ(j["model"], "m");
      EXPECT_EQ(j["revision"].get<std::string>().size(), 16u);
      EXPECT_EQ(j["entries"], 1);
      EXPECT_EQ(j["bytes"], kTensorBytes);
      EXPECT_GT(j["duration_s"].get<double>(), 0);
      EXPECT_LE(j["first_chunk_s"].get<double>(), j["duration_s"].get<double>());
    }
  }
  EXPECT_EQ(ok, kFetches);
  auto find = [&](const char* code) {
    for (const nlohmann::json& j : lines) {
      if (j["code"] == code) return j;
    }
    return nlohmann::json();
  };
  EXPECT_EQ(find("NOT_FOUND")["model"], "nosuch");
  EXPECT_THAT(find("NOT_FOUND")["error"].get<std::string>(),
              HasSubstr("no model 'nosuch'"));
  EXPECT_EQ(find("NOT_FOUND")["bytes"], 0);
  EXPECT_EQ(find("INVALID_ARGUMENT")["model"], "");
  nlohmann::json read_file;
  for (const nlohmann::json& j : lines) {
    if (j["method"] == "ReadFile") read_file = j;
  }
  EXPECT_EQ(read_file["file"], "config.json");
  EXPECT_EQ(read_file["bytes"], std::string(kConfig).size());
  EXPECT_EQ(read_file["code"], "OK");
}

TEST_F(MetricsTest, TextAccessLogHasALinePerStream) {
  Start(server::LogFormat::kText);
  RunWorkload();
  const std::vector<std::string> lines = Lines(log_path_);
  ASSERT_EQ(lines.size(), kFetches + 3u);
  int ok = 0;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, StartsWith("access: "));
    std::map<std::string, std::string> f;
    for (absl::string_view word : absl::StrSplit(line, ' ')) {
      std::vector<std::string> kv = absl::StrSplit(word, absl::MaxSplits('=', 1));
      if (kv.size() == 2) f[kv[0]] = kv[1];
    }
    if (f["method"] == "Fetch" && f["code"] == "OK") {
      ++ok;
      EXPECT_EQ(f["model"], "m");
      EXPECT_EQ(f["identity"], "-");
      EXPECT_EQ(f["entries"], "1");
      EXPECT_EQ(f["bytes"], std::to_string(kTensorBytes));
      EXPECT_THAT(f["peer"], StartsWith("ipv4:127.0.0.1:"));
    }
  }
  EXPECT_EQ(ok, kFetches);
}

TEST_F(MetricsTest, IdentityCountersUnderAPolicy) {
  const std::string policy = logs_.path() + "/policy.json";
  std::ofstream(policy) << R"({"identities": [{"name": "trainer", "token_sha256": [")"
                        << server::Sha256Hex("token-t") << R"("], "models": ["m"]}]})";
  Start(server::LogFormat::kJson, policy);
  uint64_t n = 0;
  ASSERT_TRUE(Fetch("m", &n, "token-t").ok());
  ASSERT_TRUE(Fetch("m", &n, "token-t").ok());
  EXPECT_EQ(Fetch("broken", &n, "token-t").error_code(),
            grpc::StatusCode::NOT_FOUND);  // Not the trainer's to read.
  EXPECT_EQ(Fetch("m", &n, "wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::vector<cli::MetricSample> s = ScrapeOnceCounted(4);
  EXPECT_EQ(SumSamples(s, "weightserver_identity_calls_total",
                       {{"identity", "trainer"}, {"code", "OK"}}), 2);
  EXPECT_EQ(SumSamples(s, "weightserver_identity_calls_total",
                       {{"identity", "trainer"}, {"code", "NOT_FOUND"}}), 1);
  // The unauthenticated call has no identity to count under.
  EXPECT_EQ(SumSamples(s, "weightserver_identity_calls_total"), 3);
  EXPECT_EQ(SumSamples(s, "weightserver_identity_sent_bytes_total",
                       {{"identity", "trainer"}}), 2 * kTensorBytes);
  EXPECT_EQ(SumSamples(s, "weightserver_unauthenticated_calls_total"), 1);
  EXPECT_EQ(SumSamples(s, "weightserver_denied_calls_total"), 1);
  for (const std::string& line : Lines(log_path_)) {
    nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["identity"], j["code"] == "UNAUTHENTICATED" ? "" : "trainer");
  }
  std::ostringstream out, err;
  ASSERT_EQ(cli::RunWeightctl({"stats", "--metrics", server_->metrics_address()},
                              cli::CliEnvironment{}, out, err),
            0)
      << err.str();
  EXPECT_THAT(out.str(), ::testing::ContainsRegex("trainer +3 +1 +6.0 MiB"));
}

TEST_F(MetricsTest, ThrottlingCountersPerIdentity) {
  const std::string policy = logs_.path() + "/policy.json";
  std::ofstream(policy) << R"({"identities": [{"name": "trainer", "token_sha256": [")"
                        << server::Sha256Hex("token-t") << R"("], "models": ["m"]}]})";
  // One stream at a time, 4 MB/s: a 3 MiB fetch must wait for most of it.
  Start(server::LogFormat::kText, policy,
        {.max_streams_per_client = 1,
         .max_bytes_per_second_per_client = 4'000'000});
  v1::FetchRequest r;
  r.set_model("m");
  r.add_tensors()->set_name("w");
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer token-t");
  auto reader = stub_->Fetch(&ctx, r);
  v1::Chunk c;
  ASSERT_TRUE(reader->Read(&c));  // The stream runs: the next one is refused.
  uint64_t n = 0;
  EXPECT_EQ(Fetch("m", &n, "token-t").error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  uint64_t received = c.data().size();
  while (reader->Read(&c)) received += c.data().size();
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(received, kTensorBytes);

  const std::vector<cli::MetricSample> s = ScrapeOnceCounted(2);
  EXPECT_EQ(SumSamples(s, "weightserver_identity_streams_refused_total",
                       {{"identity", "trainer"}}), 1);
  EXPECT_EQ(SumSamples(s, "weightserver_client_streams_refused_total"), 1);
  // trainer is the only client: its paced bytes and waits are the server's.
  const double paced =
      SumSamples(s, "weightserver_identity_paced_bytes_total", {{"identity", "trainer"}});
  EXPECT_GE(paced, 1 << 20);  // At least one 1 MiB chunk waited.
  EXPECT_LE(paced, kTensorBytes);
  EXPECT_EQ(paced, SumSamples(s, "weightserver_paced_bytes_total"));
  const double wait = SumSamples(s, "weightserver_identity_pacing_wait_seconds_total",
                                 {{"identity", "trainer"}});
  EXPECT_GT(wait, 0.1);
  EXPECT_NEAR(wait, SumSamples(s, "weightserver_pacing_wait_seconds_total"), 1e-6);
}

TEST_F(MetricsTest, WeightctlStatsPrintsTheWorkload) {
  Start(server::LogFormat::kText);
  RunWorkload();
  std::ostringstream out, err;
  const int rc = cli::RunWeightctl(
      {"stats", "--metrics", server_->metrics_address()}, cli::CliEnvironment{},
      out, err);
  ASSERT_EQ(rc, 0) << err.str();
  const std::string text = out.str();
  EXPECT_THAT(text, ::testing::ContainsRegex(
                        "Fetch +5 +2 +INVALID_ARGUMENT=1 NOT_FOUND=1"));
  EXPECT_THAT(text, ::testing::ContainsRegex("m +Fetch +9.0 MiB"));
  EXPECT_THAT(text, HasSubstr("streams: 0 active"));
  EXPECT_THAT(text, HasSubstr("models: 1 servable, 1 unservable"));
  EXPECT_THAT(text, HasSubstr("stalled streams cancelled: 0 idle, 0 busy"));

  std::ostringstream out2, err2;
  EXPECT_EQ(cli::RunWeightctl({"stats"}, cli::CliEnvironment{}, out2, err2), 2);
  EXPECT_EQ(cli::RunWeightctl({"stats", "--metrics", server_->address()},
                              cli::CliEnvironment{}, out2, err2),
            1);  // The gRPC port speaks no HTTP/1.0.
}

}  // namespace
}  // namespace weightserver
