// Copyright 2026 The Weightserver Authors.
//
// tests/integration/drain_test.cc: what Server::Shutdown(grace) (the daemon's
// SIGTERM/SIGINT path) does to calls: a Fetch running when the drain starts
// completes when it fits in the grace period; new calls are refused; health
// watchers see NOT_SERVING; a stream longer than the grace period is cut and
// the server still stops on time.
#include <atomic>
#include <chrono>
#include <thread>

#include <grpcpp/create_channel.h>

#include "weightserver/client/client.h"
#include "gtest/gtest.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::TensorBytes;

// Fetches the whole of tensor "w" of model "m" in 64 KiB chunks, sleeping
// `per_chunk` after each, over a channel with a small fixed HTTP/2 window (no
// BDP probing), so that the server's side of the stream lasts about
// 64 * per_chunk instead of ending once the bytes sit in buffers.
grpc::Status SlowFetch(const std::string& address, absl::Duration per_chunk,
                       std::atomic<bool>* started, std::string* bytes) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 << 10);
  args.SetMaxReceiveMessageSize(-1);
  auto stub = v1::WeightService::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
  v1::FetchRequest request;
  request.set_model("m");
  request.add_tensors()->set_name("w");
  request.set_chunk_size_hint(64 << 10);
  grpc::ClientContext context;
  auto reader = stub->Fetch(&context, request);
  v1::Chunk chunk;
  while (reader->Read(&chunk)) {
    if (chunk.offset() != bytes->size()) {
      context.TryCancel();
      break;
    }
    bytes->append(chunk.data());
    started->store(true);
    absl::SleepFor(per_chunk);
  }
  return reader->Finish();
}

class DrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One 4 MiB tensor: 64 chunks of 64 KiB on one stream.
    weightserver::testing::WriteModel(repo_.path() + "/m",
                                      {{"w", format::DType::kU8, {4 << 20}}});
    server::ServerOptions options;
    options.repo = repo_.path();
    options.listen = "127.0.0.1:0";
    auto s = server::Server::Start(options);
    ASSERT_OK(s.status());
    server_ = *std::move(s);
  }

  void TearDown() override {
    if (fetch_.joinable()) {  // A failed assertion left it running.
      server_.reset();
      fetch_.join();
    }
  }

  // Starts SlowFetch on a thread; returns once its first chunk arrived.
  void StartSlowFetch(absl::Duration per_chunk) {
    fetch_ = std::thread([this, per_chunk] {
      status_ = SlowFetch(server_->address(), per_chunk, &started_, &bytes_);
    });
    for (int i = 0; i < 500 && !started_.load(); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_TRUE(started_.load()) << "the slow fetch never started";
  }

  TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::thread fetch_;
  std::atomic<bool> started_{false};
  grpc::Status status_;
  std::string bytes_;
};

TEST_F(DrainTest, RunningFetchFinishesNewCallsRefusedWatchersNotServing) {
  // A health watcher opened before the drain.
  auto hchannel = grpc::CreateChannel(server_->address(),
                                      grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(hchannel);
  grpc::ClientContext watch_context;
  grpc::health::v1::HealthCheckRequest hreq;
  auto watch = health->Watch(&watch_context, hreq);
  HealthCheckResponse hresp;
  ASSERT_TRUE(watch->Read(&hresp));
  EXPECT_EQ(hresp.status(), HealthCheckResponse::SERVING);

  StartSlowFetch(absl::Milliseconds(15));

  const absl::Time t0 = absl::Now();
  std::thread drain([&] { server_->Shutdown(absl::Seconds(20)); });

  // The watcher hears NOT_SERVING (or its stream ends with the drain).
  if (watch->Read(&hresp)) {
    EXPECT_EQ(hresp.status(), HealthCheckResponse::NOT_SERVING);
  }
  watch_context.TryCancel();
  // A new client is refused while the running stream goes on.
  absl::SleepFor(absl::Milliseconds(100));
  client::ClientOptions quick;
  quick.unary_timeout = absl::Seconds(2);
  ASSERT_OK_AND_ASSIGN(auto fresh,
                       client::Client::Connect(server_->address(), quick));
  EXPECT_FALSE(fresh->ListModels().ok());
  EXPECT_EQ(server_->service().active_streams(), 1);

  fetch_.join();
  drain.join();
  const absl::Duration took = absl::Now() - t0;
  ASSERT_TRUE(status_.ok()) << status_.error_message();
  EXPECT_TRUE(bytes_ == TensorBytes("w", 4 << 20));
  EXPECT_GT(took, absl::Milliseconds(300)) << "the drain did not wait";
  EXPECT_LT(took, absl::Seconds(10)) << "drain waited past the running stream";
  server_->Wait();
}

TEST_F(DrainTest, StreamLongerThanGracePeriodIsCutAndServerStopsOnTime) {
  StartSlowFetch(absl::Milliseconds(100));  // About 6 s.
  const absl::Time t0 = absl::Now();
  server_->Shutdown(absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - t0;
  server_->Wait();
  fetch_.join();
  EXPECT_FALSE(status_.ok()) << "a 6 s stream cannot finish in 0.3 s";
  EXPECT_LT(bytes_.size(), 4u << 20);
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(3));
}

}  // namespace
}  // namespace weightserver
