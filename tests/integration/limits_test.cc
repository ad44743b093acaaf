// Copyright 2026 The Weightserver Authors.
//
// tests/integration/limits_test.cc: limits per client on a real server:
// concurrent streams per identity (or per peer address without a policy),
// bandwidth caps per identity and for the whole server (measured on the
// client side), and pacing that the stall watchdog does not mistake for a
// stalled client.
#include <grpcpp/create_channel.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/auth_policy.h"
#include "server/server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "wire/selection.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver {
namespace {

using format::DType;
using ::testing::HasSubstr;

constexpr uint32_t kChunk = 64 << 10;
constexpr uint64_t kBigBytes = 32 << 20;
constexpr uint64_t kSmallBytes = 256 << 10;
// "cols": a column slice of it is a span per row, so every chunk of one is
// gathered into a read-ahead buffer of the pool.
constexpr uint64_t kRows = 1024;
constexpr uint64_t kCols = 12288;

// One Fetch stream of tensor "w", opened and not yet read.
struct OpenStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::Chunk>> reader;

  // Payload bytes of the next message; false at the end of the stream.
  bool ReadOne(uint64_t* bytes) {
    v1::Chunk chunk;
    if (!reader->Read(&chunk)) return false;
    *bytes = chunk.data().size();
    return true;
  }
  // Cancels, drains and returns the final status.
  grpc::Status Close() {
    context.TryCancel();
    v1::Chunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish();
  }
};

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(repo_.path() + "/big",
                                      {{"w", DType::kU8, {kBigBytes}}});
    weightserver::testing::WriteModel(repo_.path() + "/small",
                                      {{"w", DType::kU8, {kSmallBytes}}});
    weightserver::testing::WriteModel(repo_.path() + "/cols",
                                      {{"w", DType::kU8, {kRows, kCols}}});
    std::string ids;
    for (const char* id : {"a", "b"}) {
      if (!ids.empty()) ids += ",";
      ids += std::string(R"({"name": ")") + id + R"(", "token_sha256": [")" +
             server::Sha256Hex(std::string("token-") + id) +
             R"("], "models": ["*"]})";
    }
    std::ofstream(policy_) << R"({"identities": [)" << ids << "]}";
  }

  void StartServer(server::ClientLimitOptions limits, bool with_policy = true,
                   absl::Duration stall_timeout = absl::Seconds(60)) {
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.service.client_limits = std::move(limits);
    o.service.stall_timeout = stall_timeout;
    if (with_policy) o.service.auth_file = policy_;
    auto s = server::Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = v1::WeightService::NewStub(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args));
  }

  std::unique_ptr<OpenStream> Open(const std::string& token,
                                   const std::string& model = "big") {
    auto s = std::make_unique<OpenStream>();
    if (!token.empty()) s->context.AddMetadata("authorization", "Bearer " + token);
    v1::FetchRequest r;
    r.set_model(model);
    r.add_tensors()->set_name("w");
    r.set_chunk_size_hint(kChunk);
    s->reader = stub_->Fetch(&s->context, r);
    return s;
  }

  // Columns [begin, end) of every row of "cols", in chunks of the server's
  // default size (1 MiB).
  std::unique_ptr<OpenStream> OpenColumns(const std::string& token,
                                          uint64_t begin, uint64_t end) {
    auto s = std::make_unique<OpenStream>();
    s->context.AddMetadata("authorization", "Bearer " + token);
    v1::FetchRequest r;
    r.set_model("cols");
    v1::TensorRequest* t = r.add_tensors();
    t->set_name("w");
    wire::SelectionToProto({{}, {{begin, end}}}, t);
    s->reader = stub_->Fetch(&s->context, r);
    return s;
  }

  // Reads each of `streams` on its own thread until `window` has passed;
  // returns the payload bytes each received meanwhile.
  static std::vector<uint64_t> ReadFor(
      const std::vector<OpenStream*>& streams, absl::Duration window) {
    std::vector<uint64_t> got(streams.size());
    std::vector<std::thread> threads;
    const auto end = std::chrono::steady_clock::now() +
                     absl::ToChronoNanoseconds(window);
    for (size_t i = 0; i < streams.size(); ++i) {
      threads.emplace_back([&, i] {
        uint64_t n = 0;
        while (streams[i]->ReadOne(&n) &&
               std::chrono::steady_clock::now() <= end) {
          got[i] += n;
        }
      });
    }
    for (auto& t : threads) t.join();
    return got;
  }

  weightserver::testing::TempDir dir_;
  weightserver::testing::TempDir repo_;
  const std::string policy_ = dir_.path() + "/auth.json";
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::WeightService::Stub> stub_;
};

// Within 10% of `rate` bytes per second over `window`.
void ExpectRate(uint64_t bytes, double rate, absl::Duration window,
                const std::string& who) {
  const double measured = static_cast<double>(bytes) /
                          absl::ToDoubleSeconds(window);
  std::printf("%s: %.0f bytes/s, cap %.0f (%.1f%%)\n", who.c_str(), measured,
              rate, 100 * measured / rate);
  EXPECT_GE(measured, 0.9 * rate) << who;
  EXPECT_LE(measured, 1.1 * rate) << who;
}

TEST_F(LimitsTest, TheExcessStreamOfOneIdentityIsRefusedAndOthersRun) {
  // Paced slowly, so the admitted streams stay open.
  StartServer({.max_streams_per_client = 2,
               .max_bytes_per_second_per_client = 1 << 20});
  uint64_t n = 0;
  auto a1 = Open("token-a");
  auto a2 = Open("token-a");
  ASSERT_TRUE(a1->ReadOne(&n));
  ASSERT_TRUE(a2->ReadOne(&n));
  auto a3 = Open("token-a");
  EXPECT_FALSE(a3->ReadOne(&n));
  const grpc::Status refused = a3->reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("identity 'a' already runs 2 streams"));
  EXPECT_THAT(refused.error_message(), HasSubstr("max_streams_per_client"));
  // Another identity opens its streams; a's keep running.
  auto b1 = Open("token-b");
  auto b2 = Open("token-b");
  EXPECT_TRUE(b1->ReadOne(&n));
  EXPECT_TRUE(b2->ReadOne(&n));
  EXPECT_TRUE(a1->ReadOne(&n));
  EXPECT_TRUE(a2->ReadOne(&n));
  EXPECT_EQ(server_->service().limit_stats().streams_refused_per_client, 1u);
  // Cancelled streams free their slots (the pacing timer is cut short).
  for (auto* s : {a1.get(), a2.get(), b1.get(), b2.get()}) s->Close();
  bool reopened = false;
  for (int i = 0; i < 100 && !reopened; ++i) {
    auto again = Open("token-a");
    reopened = again->ReadOne(&n);
    again->Close();
    if (!reopened) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(reopened);
}

TEST_F(LimitsTest, WithoutAPolicyTheClientIsItsAddress) {
  StartServer({.max_streams_per_client = 1,
               .max_bytes_per_second_per_client = 1 << 20},
              /*with_policy=*/false);
  uint64_t n = 0;
  auto first = Open("");
  ASSERT_TRUE(first->ReadOne(&n));
  auto second = Open("");
  EXPECT_FALSE(second->ReadOne(&n));
  const grpc::Status refused = second->reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("peer 127.0.0.1 already runs"));
  first->Close();
}

// a's two streams share a's cap; b, with one stream, gets its own cap.
TEST_F(LimitsTest, ThePerIdentityCapHoldsAndAnotherIdentityIsUnaffected) {
  const double cap = 4'000'000;
  StartServer({.max_bytes_per_second_per_client = 4'000'000});
  auto a1 = Open("token-a");
  auto a2 = Open("token-a");
  auto b1 = Open("token-b");
  const absl::Duration window = absl::Seconds(3);
  std::vector<uint64_t> got = ReadFor({a1.get(), a2.get(), b1.get()}, window);
  ExpectRate(got[0] + got[1], cap, window, "identity a (2 streams)");
  ExpectRate(got[2], cap, window, "identity b (1 stream)");
  for (auto* s : {a1.get(), a2.get(), b1.get()}) s->Close();
  const server::LimitStats stats = server_->service().limit_stats();
  EXPECT_GT(stats.paced_writes, 0u);
  EXPECT_GT(stats.pacing_wait, absl::ZeroDuration());
}

TEST_F(LimitsTest, TheServerWideCapHoldsOverAllIdentities) {
  const double cap = 6'000'000;
  StartServer({.max_bytes_per_second = 6'000'000});
  auto a = Open("token-a");
  auto b = Open("token-b");
  const absl::Duration window = absl::Seconds(3);
  std::vector<uint64_t> got = ReadFor({a.get(), b.get()}, window);
  ExpectRate(got[0] + got[1], cap, window, "server (a + b)");
  // Shared in the order the writes asked: neither starves.
  EXPECT_GT(got[0], (got[0] + got[1]) / 4);
  EXPECT_GT(got[1], (got[0] + got[1]) / 4);
  a->Close();
  b->Close();
}

// Each write waits ~650 ms for tokens, longer than the stall timeout: the
// stream is paced, not stalled, and ends OK.
TEST_F(LimitsTest, APacedStreamIsNotCancelledAsStalled) {
  StartServer({.max_bytes_per_second_per_client = 100'000},
              /*with_policy=*/true, /*stall_timeout=*/absl::Milliseconds(300));
  auto s = Open("token-a", "small");
  uint64_t total = 0, n = 0;
  while (s->ReadOne(&n)) total += n;
  EXPECT_TRUE(s->reader->Finish().ok());
  EXPECT_EQ(total, kSmallBytes);
  EXPECT_EQ(server_->service().stalled_streams(), 0u);
  EXPECT_GE(server_->service().limit_stats().paced_writes, 2u);
}

// 60 streams of a client capped at 100 KB/s: each fills a 1 MiB chunk into
// a read-ahead buffer and then waits seconds for its tokens, holding it, so
// together they hold the whole pool. Another client's 64 KiB column slice
// (which needs a buffer too) still comes within seconds: once it has
// starved for --busy_stall_timeout (1 s), the paced writes that hold
// buffers are cut. Without that it waited for a's next tokens (~10 s).
TEST_F(LimitsTest, ACappedClientsPacedWritesDoNotHoldThePoolFromAnother) {
  StartServer({.max_streams_per_client = 0,
               .max_bytes_per_second_per_client = 100'000});
  const server::WeightService& service = server_->service();
  std::vector<std::unique_ptr<OpenStream>> capped;
  for (int i = 0; i < 60; ++i) {
    capped.push_back(OpenColumns("token-a", 0, kCols / 2));
  }
  const size_t capacity = service.buffer_capacity_bytes();
  for (int i = 0; i < 2500 && service.buffer_bytes_in_use() + (1 << 20) < capacity;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_GE(service.buffer_bytes_in_use() + (1 << 20), capacity)
      << "the capped client's paced writes should hold the pool";
  const absl::Time start = absl::Now();
  auto b = OpenColumns("token-b", kCols - 64, kCols);
  uint64_t got = 0, n = 0;
  while (b->ReadOne(&n)) got += n;
  const grpc::Status st = b->reader->Finish();
  const absl::Duration took = absl::Now() - start;
  std::printf("b's 64 KiB column slice beside 60 paced streams: %s\n",
              absl::FormatDuration(took).c_str());
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(got, kRows * 64);
  EXPECT_LT(took, absl::Seconds(5));
  for (auto& s : capped) s->Close();
}

}  // namespace
}  // namespace weightserver
