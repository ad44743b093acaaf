// Copyright 2026 The Weightserver Authors.
//
// tests/integration/admission_test.cc: what a request may cost the server
// (issue 11, item 1). A client that sends the largest requests it may and
// never reads holds at most --max_request_memory; a request that asks for
// bytes more than once (amplification) is refused; memory goes back to the
// kernel after the spike.
#include <grpcpp/create_channel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/daemon.h"
#include "tests/testing/sanitizers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver {
namespace {

using format::DType;
using ::weightserver::testing::kGlibcMalloc;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr uint64_t kBudget = 32 << 20;  // --max_request_memory of the test.

// The daemon runs as its own process: its memory is measured apart from the
// test's clients (whose copies of the requests are large too).
class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(repo_.path() + "/m",
                                      {{"w", DType::kU8, {16384, 4096}}});
    StartDaemon(kBudget);
  }

  void StartDaemon(uint64_t budget) {
    daemon_.reset();
    auto d = weightserver::testing::Daemon::Start(
        WS_DAEMON_BINARY, {"--repo", repo_.path(), "--max_request_memory",
                           std::to_string(budget)});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = *std::move(d);
    stub_ = NewStub(0);
  }

  // A stub on a channel of its own: connection `id`.
  std::unique_ptr<v1::WeightService::Stub> NewStub(int id) const {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    args.SetInt("weightserver.test.client", id);
    return v1::WeightService::NewStub(grpc::CreateCustomChannel(
        daemon_->address(), grpc::InsecureChannelCredentials(), args));
  }

  // Reads the whole stream (on stub_ when `stub` is null).
  grpc::Status Fetch(const v1::FetchRequest& r, uint64_t* received = nullptr,
                     v1::WeightService::Stub* stub = nullptr) {
    grpc::ClientContext ctx;
    auto reader = (stub != nullptr ? stub : stub_.get())->Fetch(&ctx, r);
    v1::Chunk c;
    uint64_t n = 0;
    while (reader->Read(&c)) n += c.data().size();
    if (received != nullptr) *received = n;
    return reader->Finish();
  }

  // `n` entries of tensor `name`, `bytes` each, one after the other.
  static v1::FetchRequest Entries(int n, uint64_t bytes = 1,
                                  const std::string& name = "w") {
    v1::FetchRequest r;
    r.set_model("m");
    for (int i = 0; i < n; ++i) {
      v1::TensorRequest* t = r.add_tensors();
      t->set_name(name);
      t->set_offset(i * bytes);
      t->set_limit(bytes);
    }
    return r;
  }

  template <typename Pred>
  static bool WaitFor(Pred pred) {
    for (int i = 0; i < 1000 && !pred(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }

  weightserver::testing::TempDir repo_;
  std::unique_ptr<weightserver::testing::Daemon> daemon_;
  std::unique_ptr<v1::WeightService::Stub> stub_;
};

// Before: 8 unread streams of 1e6 one-byte entries took the server from 0.6
// to 2.0 GB. Such a request (35 MB) is now over max_request_bytes (8 MiB).
TEST_F(AdmissionTest, MillionEntryRequestsAreRefusedBeforeParsing) {
  const uint64_t before = daemon_->RssAnon();
  const v1::FetchRequest r = Entries(1000000);
  ASSERT_GT(r.ByteSizeLong(), size_t{8} << 20);
  for (int i = 0; i < 8; ++i) {
    grpc::Status s = Fetch(r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << i;
  }
  // gRPC reads a message before refusing it; what it read goes back to the
  // kernel within the trim interval (2 s). (Under a sanitizer's allocator,
  // freed memory stays in its quarantine: see sanitizers.h.)
  if (!kGlibcMalloc) return;
  EXPECT_TRUE(WaitFor([&] { return daemon_->RssAnon() < before + (16 << 20); }))
      << "daemon RSS still " << ((daemon_->RssAnon() - before) >> 20)
      << " MiB above";
}

// The original attack: 8 such requests (~35 MB each) at once, on 8
// connections, none read; all are refused, and the server serves after.
// --max_request_bytes does not bound what a request costs while it is
// received: gRPC 1.51 does not refuse a message by its length prefix, its
// HTTP/2 transport opens the stream's window to the announced length and
// buffers the whole message, and only then does the size check refuse it
// (before it is parsed or planned). Measured: +105..233 MiB at peak for
// 8 x 34 MiB (release build, 2 loaded cores). The bound that holds is thus
// the budget plus one copy of each request in flight, and nothing per entry
// (unbounded, it was ~170 MB per stream for 1e6 entries); README, Limits.
TEST_F(AdmissionTest, EightConcurrentMillionEntryRequestsAreRefusedWithinBounds) {
  ASSERT_TRUE(Fetch(Entries(1000, 1024)).ok());  // Buffers and threads warm.
  // Names as long as a real model's: ~35 MB, as in the attack.
  const v1::FetchRequest r = Entries(1000000, 1, "layers.0.attention.wq.bias");
  const uint64_t request_bytes = r.ByteSizeLong();
  ASSERT_GT(request_bytes, uint64_t{32} << 20);
  constexpr int kStreams = 8;
  std::vector<std::unique_ptr<v1::WeightService::Stub>> stubs;
  for (int i = 0; i < kStreams; ++i) stubs.push_back(NewStub(1 + i));
  const uint64_t before = daemon_->RssAnon();
  std::vector<grpc::Status> statuses(kStreams);
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kStreams; ++i) {
    clients.emplace_back([&, i] {
      statuses[i] = Fetch(r, nullptr, stubs[i].get());
      done.fetch_add(1);
    });
  }
  // Sampled while they are in flight, as often as /proc allows.
  uint64_t peak = before;
  while (done.load() < kStreams) {
    peak = std::max(peak, daemon_->RssAnon());
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  for (std::thread& t : clients) t.join();
  std::cout << "8 concurrent requests of " << (request_bytes >> 20)
            << " MiB: daemon RSS " << (before >> 20) << " MiB before, peak +"
            << ((peak - before) >> 20) << " MiB\n";
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_THAT(statuses[i].error_code(),
                AnyOf(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      grpc::StatusCode::INVALID_ARGUMENT))
        << i << ": " << statuses[i].error_message();
  }
  if (kGlibcMalloc) {
    EXPECT_LT(peak, before + kBudget + kStreams * request_bytes)
        << "daemon RSS grew by " << ((peak - before) >> 20) << " MiB";
  }
  // And it serves a well-behaved request afterwards.
  uint64_t received = 0;
  EXPECT_TRUE(Fetch(Entries(10, 1024), &received).ok());
  EXPECT_EQ(received, 10u * 1024);
}

// The largest request the server takes (65,536 entries, of 1 KiB each: 64
// MiB that an unread stream cannot take), 8 times: the streams hold at most
// the budget; the rest are refused, retryably.
TEST_F(AdmissionTest, UnreadMaxSizedRequestsStayWithinTheBudget) {
  const v1::FetchRequest r = Entries(65536, 1024);
  // A well-behaved fetch first: the daemon's buffers and threads warm.
  ASSERT_TRUE(Fetch(Entries(1000, 1024)).ok());

  const uint64_t before = daemon_->RssAnon();
  constexpr int kStreams = 16;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Chunk>>> readers;
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stub_->Fetch(contexts.back().get(), r));
  }
  // Each read gets the first chunk (or the refusal): every request has been
  // planned and admitted or refused by then.
  std::vector<bool> open(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    v1::Chunk c;
    open[i] = readers[i]->Read(&c);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const uint64_t peak = daemon_->RssAnon();
  // Without the budget: ~170 MB per stream (for 1e6 entries), 16 x ~5 MB
  // here. The budget for requests: the read-ahead (48 MiB) and the requests.
  if (kGlibcMalloc) {
    EXPECT_LT(peak, before + kBudget + (48 << 20))
        << "daemon RSS grew by " << ((peak - before) >> 20) << " MiB";
  }
  int refused = 0;
  for (int i = 0; i < kStreams; ++i) {
    if (open[i]) contexts[i]->TryCancel();
    grpc::Status s = readers[i]->Finish();
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      EXPECT_FALSE(open[i]);
      EXPECT_THAT(s.error_message(), HasSubstr("max_request_memory"));
      EXPECT_THAT(s.error_message(), HasSubstr("retry later"));
    }
  }
  EXPECT_GE(refused, 1) << daemon_->Log();
  EXPECT_LT(refused, kStreams);
  // The plans' memory goes back to the kernel within the trim interval, not
  // only to malloc (which keeps up to 256 MiB of free heap otherwise).
  if (kGlibcMalloc) {
    EXPECT_TRUE(
        WaitFor([&] { return daemon_->RssAnon() < before + (16 << 20); }))
        << "daemon RSS still " << ((daemon_->RssAnon() - before) >> 20)
        << " MiB above";
  }
  // And it serves a well-behaved request afterwards.
  EXPECT_TRUE(Fetch(Entries(10)).ok());
}

TEST_F(AdmissionTest, ARequestLargerThanTheWholeBudgetIsInvalid) {
  StartDaemon(1 << 20);
  grpc::Status st = Fetch(Entries(65536));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("send fewer entries per request"));
}

// Before: a 3 MB selection repeating one row range 1e5 times made the
// server send 1.6 GB. A request may not ask for more bytes than the model's
// tensors hold.
TEST_F(AdmissionTest, RepeatedRangesAreRefusedNotAmplified) {
  v1::FetchRequest r;
  r.set_model("m");
  v1::TensorRequest* t = r.add_tensors();
  t->set_name("w");
  v1::DimSelection* rows = t->add_selection();
  for (int i = 0; i < 100000; ++i) {
    v1::Range* range = rows->add_ranges();
    range->set_start(7);
    range->set_stop(8);
  }
  t->add_selection();  // All columns.
  grpc::Status s = Fetch(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("bytes requested more than once"));
  // The same tensor twice, whole.
  v1::FetchRequest twice;
  twice.set_model("m");
  twice.add_tensors()->set_name("w");
  twice.add_tensors()->set_name("w");
  uint64_t received = 0;
  EXPECT_EQ(Fetch(twice, &received).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(received, 0u);
}

}  // namespace
}  // namespace weightserver
