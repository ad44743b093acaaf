// Copyright 2026 The Weightserver Authors.
//
// tests/integration/bad_request_test.cc: hostile and broken requests against a
// real server through the raw stub. Each gets a clear status, and the server
// goes on serving afterwards.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver {
namespace {

using format::DType;
using ::testing::HasSubstr;

class BadRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(repo_.path() + "/m",
                                      {{"w", DType::kU8, {4 << 20}}});
    // Far larger than any HTTP/2 flow-control window: a client that stops
    // reading really holds its stream open.
    weightserver::testing::WriteModel(repo_.path() + "/big",
                                      {{"w", DType::kU8, {96 << 20}}});
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.max_request_bytes = 1 << 20;
    o.service.max_streams = 2;
    auto s = server::Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args);
    stub_ = v1::WeightService::NewStub(channel_);
  }

  // Runs a Fetch to completion; returns its status and the bytes received.
  grpc::Status Fetch(const v1::FetchRequest& r, uint64_t* received = nullptr) {
    grpc::ClientContext ctx;
    auto reader = stub_->Fetch(&ctx, r);
    v1::Chunk c;
    uint64_t n = 0;
    while (reader->Read(&c)) n += c.data().size();
    if (received) *received = n;
    return reader->Finish();
  }

  // The server still answers, and serves the whole tensor correctly.
  void ExpectStillServing() {
    v1::FetchRequest r;
    r.set_model("m");
    r.add_tensors()->set_name("w");
    uint64_t n = 0;
    grpc::Status s = Fetch(r, &n);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(n, 4u << 20);
  }

  // Waits up to 5 s for the server to run at most `n` Fetch streams.
  void WaitForActiveStreamsAtMost(int n) {
    for (int i = 0; i < 250 && server_->service().active_streams() > n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  static v1::FetchRequest Request(std::string model, std::string tensor) {
    v1::FetchRequest r;
    r.set_model(std::move(model));
    r.add_tensors()->set_name(std::move(tensor));
    return r;
  }

  weightserver::testing::TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WeightService::Stub> stub_;
};

TEST_F(BadRequestTest, UnknownModel) {
  grpc::Status s = Fetch(Request("nope", "w"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("'nope'"));
  ExpectStillServing();
}

TEST_F(BadRequestTest, UnknownTensor) {
  grpc::Status s = Fetch(Request("m", "nope"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("model 'm': no tensor 'nope'"));
  ExpectStillServing();
}

TEST_F(BadRequestTest, EmptyNames) {
  EXPECT_EQ(Fetch(Request("", "w")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fetch(Request("m", "")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::FetchRequest none;
  none.set_model("m");
  EXPECT_EQ(Fetch(none).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ExpectStillServing();
}

TEST_F(BadRequestTest, PathLikeNames) {
  for (const char* name : {"../m", "/etc/passwd", "m/../m", "./m", "m/"}) {
    EXPECT_EQ(Fetch(Request(name, "w")).error_code(),
              grpc::StatusCode::NOT_FOUND)
        << name;
  }
  EXPECT_EQ(Fetch(Request("m", "../w")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ExpectStillServing();
}

// Issue 11, item 2: GetModel echoed the whole name, so a 20 KB name made the
// client fail on its metadata limit (or see a retryable RESOURCE_EXHAUSTED)
// instead of NOT_FOUND.
TEST_F(BadRequestTest, AHugeModelNameIsNotFoundWithAShortMessage) {
  const std::string huge(20000, 'x');
  grpc::ClientContext ctx;
  v1::GetModelRequest r;
  r.set_name(huge);
  v1::Model m;
  grpc::Status s = stub_->GetModel(&ctx, r, &m);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("...(20000 bytes)'"));
  EXPECT_LT(s.error_message().size(), 400u);
  grpc::Status f = Fetch(Request(huge, "w"));
  EXPECT_EQ(f.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(f.error_message().size(), 400u);
  grpc::ClientContext ctx2;
  v1::ReadFileRequest rf;
  rf.set_model(huge);
  rf.set_name(huge);
  auto reader = stub_->ReadFile(&ctx2, rf);
  v1::Chunk c;
  EXPECT_FALSE(reader->Read(&c));
  grpc::Status g = reader->Finish();
  EXPECT_EQ(g.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(g.error_message().size(), 400u);
  ExpectStillServing();
}

TEST_F(BadRequestTest, HugeRequestIsRefusedBeforeParsing) {
  v1::FetchRequest r = Request("m", std::string(2 << 20, 'x'));
  EXPECT_EQ(Fetch(r).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ExpectStillServing();
}

TEST_F(BadRequestTest, ManyEntriesUnderTheSizeLimitAreServed) {
  v1::FetchRequest r;
  r.set_model("m");
  for (int i = 0; i < 20000; ++i) {
    v1::TensorRequest* t = r.add_tensors();
    t->set_name("w");
    t->set_offset(i);
    t->set_limit(1);
  }
  uint64_t n = 0;
  grpc::Status s = Fetch(r, &n);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(n, 20000u);
}

TEST_F(BadRequestTest, ResumeOffsetPastEnd) {
  v1::FetchRequest r = Request("m", "w");
  r.mutable_tensors(0)->set_offset((4 << 20) + 1);
  grpc::Status s = Fetch(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(s.error_message(), HasSubstr("tensor 'w'"));
  ExpectStillServing();
}

TEST_F(BadRequestTest, VanishingClientFreesItsStream) {
  for (int i = 0; i < 5; ++i) {
    // A cancelled stream's slot is freed asynchronously (max_streams is 2).
    WaitForActiveStreamsAtMost(1);
    grpc::ClientContext ctx;
    auto reader = stub_->Fetch(&ctx, Request("m", "w"));
    v1::Chunk c;
    ASSERT_TRUE(reader->Read(&c));
    ctx.TryCancel();  // Walk away mid-stream.
    reader->Finish();
  }
  WaitForActiveStreamsAtMost(0);  // Every slot comes back.
  EXPECT_EQ(server_->service().active_streams(), 0);
  ExpectStillServing();
}

TEST_F(BadRequestTest, StreamsBeyondTheLimitAreResourceExhausted) {
  // Two clients that stop reading hold both stream slots.
  grpc::ClientContext c1, c2;
  auto r1 = stub_->Fetch(&c1, Request("big", "w"));
  auto r2 = stub_->Fetch(&c2, Request("big", "w"));
  v1::Chunk chunk;
  ASSERT_TRUE(r1->Read(&chunk));
  ASSERT_TRUE(r2->Read(&chunk));
  grpc::Status s = Fetch(Request("m", "w"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("retry later"));
  c1.TryCancel();
  c2.TryCancel();
  r1->Finish();
  r2->Finish();
}

// A server whose every chunk goes through the buffer pool, serving model
// "m" with one U8 tensor "w"; the tests tune the pool and read-ahead.
class BoundedMemoryTest : public ::testing::Test {
 protected:
  void StartServer(uint64_t tensor_bytes,
                   std::function<void(server::ServiceOptions&)> tune) {
    weightserver::testing::WriteModel(repo_.path() + "/m",
                                      {{"w", DType::kU8, {tensor_bytes}}});
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.service.send_from_mapping = false;  // Every chunk through the pool.
    tune(o.service);
    auto s = server::Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  // A stub on a channel of its own (its own connection, as a rank has).
  std::unique_ptr<v1::WeightService::Stub> NewStub(int id = 0) const {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetInt("weightserver.test.client", id);
    return v1::WeightService::NewStub(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args));
  }

  static v1::FetchRequest WholeTensor() {
    v1::FetchRequest r;
    r.set_model("m");
    r.add_tensors()->set_name("w");
    return r;
  }

  // Opens a Fetch of the whole tensor, reads one chunk, then stops reading.
  void OpenStalledStream(v1::WeightService::Stub* stub) {
    stalled_contexts_.push_back(std::make_unique<grpc::ClientContext>());
    stalled_.push_back(stub->Fetch(stalled_contexts_.back().get(), WholeTensor()));
    v1::Chunk c;
    ASSERT_TRUE(stalled_.back()->Read(&c));
  }

  // Reads a whole Fetch of the tensor; `pause` after each chunk.
  static grpc::Status ReadAll(v1::WeightService::Stub* stub, uint64_t* received,
                              absl::Duration pause = absl::ZeroDuration()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub->Fetch(&ctx, WholeTensor());
    v1::Chunk c;
    *received = 0;
    while (reader->Read(&c)) {
      *received += c.data().size();
      absl::SleepFor(pause);
    }
    return reader->Finish();
  }

  // Waits up to 5 s for `done`.
  static void WaitFor(std::function<bool()> done) {
    for (int i = 0; i < 250 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  const server::WeightService& service() const { return server_->service(); }

  weightserver::testing::TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::vector<std::unique_ptr<grpc::ClientContext>> stalled_contexts_;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Chunk>>> stalled_;
};

// Clients that stop reading hold at most readahead + 1 buffers each (the
// chunks read ahead and the one gRPC cannot send); the pool (the bound on
// bytes read ahead over all streams) is never exceeded, and while buffers
// remain, other clients are served. (How long they may hold them is bounded
// by the stall timeout: next test.)
TEST_F(BoundedMemoryTest, StalledClientsHoldOnlyTheirReadAhead) {
  StartServer(96 << 20, [](server::ServiceOptions& o) {
    o.readahead = 2;
    o.max_inflight_bytes = 8 << 20;  // 8 buffers of 1 MiB.
  });
  auto stub = NewStub();
  for (int i = 0; i < 2; ++i) OpenStalledStream(stub.get());  // 2 x (2 + 1).
  for (int i = 0; i < 20; ++i) {
    EXPECT_LE(service().buffers_in_use(), 6u);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A third client still gets the whole tensor.
  uint64_t n = 0;
  EXPECT_TRUE(ReadAll(stub.get(), &n).ok());
  EXPECT_EQ(n, 96u << 20);
  for (auto& ctx : stalled_contexts_) ctx->TryCancel();
  for (auto& reader : stalled_) reader->Finish();
}

// Clients that stop reading for longer than --stall_timeout lose their
// streams: the buffers they held return to the pool, the client gets
// CANCELLED when it reads again, and the server goes on serving.
TEST_F(BoundedMemoryTest, StalledStreamsAreCancelledAfterTheStallTimeout) {
  StartServer(96 << 20, [](server::ServiceOptions& o) {
    o.stall_timeout = absl::Seconds(1);
  });
  auto stub = NewStub();
  for (int i = 0; i < 2; ++i) OpenStalledStream(stub.get());
  EXPECT_GT(service().buffers_in_use(), 0u);
  WaitFor([&] {
    return service().active_streams() == 0 && service().buffers_in_use() == 0;
  });
  EXPECT_EQ(service().active_streams(), 0);
  EXPECT_EQ(service().buffers_in_use(), 0u);
  EXPECT_EQ(service().stalled_streams(), 2u);
  for (auto& reader : stalled_) {
    v1::Chunk c;
    while (reader->Read(&c)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // A client that keeps reading is not cut off, however long its load
  // takes (here > 1 s: 96 chunks, 20 ms each).
  uint64_t n = 0;
  EXPECT_TRUE(ReadAll(stub.get(), &n, absl::Milliseconds(20)).ok());
  EXPECT_EQ(n, 96u << 20);
  EXPECT_EQ(service().stalled_streams(), 2u);
}

// A stream that waits for a read-ahead buffer is as stalled as one whose
// client accepts nothing (issue 11, item 3: waiting streams were never cut,
// and kept their place for good). With every pool buffer held elsewhere
// (here by the test itself, so that no stream can be cut for holding one,
// and none is ever released), a client that reads gets CANCELLED, having
// received nothing, within about --stall_timeout (1 s, checked every 1/8 of
// it), not never; the server serves it once buffers come back.
TEST_F(BoundedMemoryTest, AStreamWaitingForABufferIsCancelledAtTheStallTimeout) {
  StartServer(8 << 20, [](server::ServiceOptions& o) {
    o.stall_timeout = absl::Seconds(1);
  });
  server::BufferPool* pool = service().pool_for_testing();
  std::vector<std::byte*> held;
  absl::Cleanup release = [&] {
    for (std::byte* b : held) pool->Release(b, 1 << 20);
  };
  while (std::byte* b = pool->TryAcquire(1 << 20)) held.push_back(b);
  ASSERT_EQ(held.size(), 48u);  // --max_inflight_bytes 48 MiB, 1 MiB chunks.
  auto stub = NewStub();
  uint64_t n = 0;
  const absl::Time start = absl::Now();
  const grpc::Status s = ReadAll(stub.get(), &n);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED) << s.error_message();
  EXPECT_EQ(n, 0u);
  EXPECT_GE(took, absl::Milliseconds(900));
  EXPECT_LT(took, absl::Seconds(3)) << "cancelled after " << took;
  // Counted just after the cancel, which the client may see first.
  WaitFor([&] { return service().stalled_streams() > 0; });
  EXPECT_EQ(service().stalled_streams(), 1u);
  EXPECT_EQ(service().busy_stalled_streams(), 0u);
  std::move(release).Invoke();
  EXPECT_TRUE(ReadAll(stub.get(), &n).ok());
  EXPECT_EQ(n, 8u << 20);
}

// Many more reading streams than pool buffers: each stream waits for buffers
// in turn, and none may hold one while it waits (the last message it sent
// used to stay referenced until its next write, so with every buffer held by
// a waiting stream nothing was ever released again). All clients finish, and
// afterwards the pool is whole.
TEST_F(BoundedMemoryTest, MoreStreamsThanBuffersAllFinish) {
  StartServer(24 << 20, [](server::ServiceOptions& o) {
    o.readahead = 2;
    o.limits.max_chunk_bytes = 1 << 20;
    o.max_inflight_bytes = 4 << 20;  // 4 buffers of 1 MiB, 12 streams.
  });
  constexpr int kClients = 12;
  std::vector<std::thread> clients;
  std::vector<grpc::Status> statuses(kClients);
  std::vector<uint64_t> received(kClients, 0);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      statuses[i] = ReadAll(NewStub(i).get(), &received[i]);
    });
  }
  for (std::thread& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << "client " << i << ": "
                                  << statuses[i].error_message();
    EXPECT_EQ(received[i], 24u << 20) << "client " << i;
  }
  WaitFor([&] { return service().buffers_in_use() == 0; });
  EXPECT_EQ(service().buffers_in_use(), 0u);
}

TEST_F(BadRequestTest, HealthServiceReportsServing) {
  grpc::ClientContext ctx;
  grpc::ByteBuffer request, response;
  // grpc.health.v1.HealthCheckRequest{} encodes as zero bytes.
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  grpc::GenericStub generic(channel_);
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> l(mu);
                      status = s;
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

}  // namespace
}  // namespace weightserver
