// Copyright 2026 The Weightserver Authors.
//
// tests/integration/bad_request_test.cc: hostile and broken requests against a
// real server through the raw stub. Each gets a clear status, and the server
// goes on serving afterwards.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/health_check_service_interface.h>

#include <thread>

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

// Clients that stop reading hold at most readahead + 1 buffers each (the
// chunks read ahead and the one gRPC cannot send); the pool (the bound on
// bytes read ahead over all streams) is never exceeded, and while buffers
// remain, other clients are served. (How long they may hold them is bounded
// by the stall timeout: next test.)
TEST(BoundedMemoryTest, StalledClientsHoldOnlyTheirReadAhead) {
  weightserver::testing::TempDir repo;
  weightserver::testing::WriteModel(repo.path() + "/big",
                                    {{"w", DType::kU8, {96 << 20}}});
  server::ServerOptions o;
  o.repo = repo.path();
  o.listen = "127.0.0.1:0";
  o.service.send_from_mapping = false;  // Every chunk through the pool.
  o.service.readahead = 2;
  o.service.max_inflight_bytes = 8 * (4 << 20);  // 8 buffers.
  auto s = server::Server::Start(o);
  ASSERT_TRUE(s.ok()) << s.status();
  auto channel = grpc::CreateChannel((*s)->address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::WeightService::NewStub(channel);
  v1::FetchRequest r;
  r.set_model("big");
  r.add_tensors()->set_name("w");
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Chunk>>> readers;
  for (int i = 0; i < 2; ++i) {  // 2 x (2 + 1) = 6 of 8 buffers.
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stub->Fetch(contexts.back().get(), r));
    v1::Chunk c;
    ASSERT_TRUE(readers.back()->Read(&c));  // Then stop reading.
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_LE((*s)->service().buffers_in_use(), 6u);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A third client still gets the whole tensor.
  grpc::ClientContext ctx;
  auto reader = stub->Fetch(&ctx, r);
  v1::Chunk c;
  uint64_t n = 0;
  while (reader->Read(&c)) n += c.data().size();
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 96u << 20);
  for (size_t i = 0; i < readers.size(); ++i) {
    contexts[i]->TryCancel();
    readers[i]->Finish();
  }
}

// Clients that stop reading for longer than --stall_timeout lose their
// streams: the buffers they held return to the pool, the client gets
// CANCELLED when it reads again, and the server goes on serving.
TEST(BoundedMemoryTest, StalledStreamsAreCancelledAfterTheStallTimeout) {
  weightserver::testing::TempDir repo;
  weightserver::testing::WriteModel(repo.path() + "/big",
                                    {{"w", DType::kU8, {96 << 20}}});
  server::ServerOptions o;
  o.repo = repo.path();
  o.listen = "127.0.0.1:0";
  o.service.send_from_mapping = false;  // Every chunk through the pool.
  o.service.stall_timeout = absl::Seconds(1);
  auto s = server::Server::Start(o);
  ASSERT_TRUE(s.ok()) << s.status();
  const server::WeightService& service = (*s)->service();
  auto stub = v1::WeightService::NewStub(grpc::CreateChannel(
      (*s)->address(), grpc::InsecureChannelCredentials()));
  v1::FetchRequest r;
  r.set_model("big");
  r.add_tensors()->set_name("w");
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Chunk>>> readers;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stub->Fetch(contexts.back().get(), r));
    v1::Chunk c;
    ASSERT_TRUE(readers.back()->Read(&c));  // Then stop reading.
  }
  EXPECT_GT(service.buffers_in_use(), 0u);
  for (int i = 0; i < 250 && (service.active_streams() > 0 ||
                              service.buffers_in_use() > 0);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(service.active_streams(), 0);
  EXPECT_EQ(service.buffers_in_use(), 0u);
  EXPECT_EQ(service.stalled_streams(), 2u);
  for (auto& reader : readers) {
    v1::Chunk c;
    while (reader->Read(&c)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // A client that keeps reading is not cut off, however long its load
  // takes (here > 1 s: 96 chunks, 20 ms each).
  grpc::ClientContext ctx;
  auto reader = stub->Fetch(&ctx, r);
  v1::Chunk c;
  uint64_t n = 0;
  while (reader->Read(&c)) {
    n += c.data().size();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 96u << 20);
  EXPECT_EQ(service.stalled_streams(), 2u);
}

// Many more reading streams than pool buffers: each stream waits for buffers
// in turn, and none may hold one while it waits (the last message it sent
// used to stay referenced until its next write, so with every buffer held by
// a waiting stream nothing was ever released again). All clients finish, and
// afterwards the pool is whole.
TEST(BoundedMemoryTest, MoreStreamsThanBuffersAllFinish) {
  weightserver::testing::TempDir repo;
  weightserver::testing::WriteModel(repo.path() + "/m",
                                    {{"w", DType::kU8, {24 << 20}}});
  server::ServerOptions o;
  o.repo = repo.path();
  o.listen = "127.0.0.1:0";
  o.service.send_from_mapping = false;  // Every chunk through the pool.
  o.service.readahead = 2;
  o.service.limits.max_chunk_bytes = 1 << 20;
  o.service.max_inflight_bytes = 4 << 20;  // 4 buffers of 1 MiB, 12 streams.
  auto s = server::Server::Start(o);
  ASSERT_TRUE(s.ok()) << s.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  constexpr int kClients = 12;
  std::vector<std::thread> clients;
  std::vector<grpc::Status> statuses(kClients);
  std::vector<uint64_t> received(kClients, 0);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      // A channel each: separate connections, as separate ranks have.
      args.SetInt("weightserver.test.client", i);
      auto stub = v1::WeightService::NewStub(grpc::CreateCustomChannel(
          (*s)->address(), grpc::InsecureChannelCredentials(), args));
      v1::FetchRequest r;
      r.set_model("m");
      r.add_tensors()->set_name("w");
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(60));
      auto reader = stub->Fetch(&ctx, r);
      v1::Chunk c;
      while (reader->Read(&c)) received[i] += c.data().size();
      statuses[i] = reader->Finish();
    });
  }
  for (std::thread& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << "client " << i << ": "
                                  << statuses[i].error_message();
    EXPECT_EQ(received[i], 24u << 20) << "client " << i;
  }
  for (int i = 0; i < 250 && (*s)->service().buffers_in_use() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ((*s)->service().buffers_in_use(), 0u);
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
