// Copyright 2026 The Weightserver Authors.
//
// tests/client/fetch_test.cc: the client's checks against a fake server that
// corrupts chunks, drops streams and breaks the protocol. Nothing wrong may
// reach the caller silently: it is either repaired by a resumed stream or an
// error.
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "weightserver/client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "util/crc32c.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver::client {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

constexpr uint64_t kSize = 10 * 1000;
constexpr uint32_t kChunk = 1000;

// Serves one tensor "t" of kSize bytes in kChunk chunks; `fault` decides, per
// call and chunk index, what goes wrong.
class FakeService final : public v1::WeightService::Service {
 public:
  enum class Fault {
    kNone, kCorrupt, kDrop, kWrongOffset, kWrongEntry, kEndEarly,
    kHang  // Sends nothing more until the client gives up on the call.
  };
  std::function<Fault(int call, int chunk)> fault = [](int, int) {
    return Fault::kNone;
  };

  std::string data = [] {
    std::string d(kSize, '\0');
    for (uint64_t i = 0; i < kSize; ++i) d[i] = static_cast<char>(i * 31 + 7);
    return d;
  }();

  std::vector<v1::FetchRequest> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  // When each call arrived.
  std::vector<absl::Time> arrivals() {
    std::lock_guard<std::mutex> l(mu_);
    return arrivals_;
  }

  grpc::Status Fetch(grpc::ServerContext* context,
                     const v1::FetchRequest* request,
                     grpc::ServerWriter<v1::Chunk>* writer) override {
    int call;
    {
      std::lock_guard<std::mutex> l(mu_);
      call = static_cast<int>(requests_.size());
      requests_.push_back(*request);
      arrivals_.push_back(absl::Now());
    }
    int index = 0;
    for (int e = 0; e < request->tensors_size(); ++e) {
      const v1::TensorRequest& t = request->tensors(e);
      uint64_t end = t.limit() ? t.offset() + t.limit() : kSize;
      for (uint64_t pos = t.offset(); pos < end; pos += kChunk, ++index) {
        uint64_t n = std::min<uint64_t>(kChunk, end - pos);
        v1::Chunk c;
        c.set_entry(e);
        c.set_offset(pos);
        c.set_data(data.substr(pos, n));
        c.set_crc32c(Crc32c(c.data()));
        switch (fault(call, index)) {
          case Fault::kNone: break;
          case Fault::kCorrupt: (*c.mutable_data())[n / 2] ^= 0x40; break;
          case Fault::kDrop:
            return grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped");
          case Fault::kWrongOffset: c.set_offset(pos + 1); break;
          case Fault::kWrongEntry: c.set_entry(e + 1); break;
          case Fault::kEndEarly: return grpc::Status::OK;
          case Fault::kHang:
            while (!context->IsCancelled()) {
              absl::SleepFor(absl::Milliseconds(5));
            }
            return grpc::Status::CANCELLED;
        }
        if (!writer->Write(c)) return grpc::Status::CANCELLED;
      }
    }
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::vector<v1::FetchRequest> requests_;
  std::vector<absl::Time> arrivals_;
};

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    ASSERT_GT(port, 0);
    address_ = "127.0.0.1:" + std::to_string(port);
    toc_.name = "m";
    toc_.revision = "r1";
    toc_.tensors.push_back({"t", "U8", {kSize}, 0, 0, kSize});
    toc_.Reindex();
    dest_.resize(kSize);
  }
  void TearDown() override { server_->Shutdown(); }

  absl::Status Run(ClientOptions o = {}) {
    o.streams = 1;
    auto c = Client::Connect(address_, o);
    if (!c.ok()) return c.status();
    return (*c)->Fetch(toc_, {{"t", absl::MakeSpan(dest_), {}}});
  }
  std::string Received() const {
    return std::string(reinterpret_cast<const char*>(dest_.data()), dest_.size());
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  ModelInfo toc_;
  std::vector<std::byte> dest_;
};

using Fault = FakeService::Fault;

TEST_F(FetchTest, CleanFetchPinsRevisionAndMatches) {
  ASSERT_OK(Run());
  EXPECT_EQ(Received(), service_.data);
  ASSERT_EQ(service_.requests().size(), 1u);
  EXPECT_EQ(service_.requests()[0].revision(), "r1");
  EXPECT_EQ(service_.requests()[0].model(), "m");
}

TEST_F(FetchTest, CorruptChunkIsRefetchedFromLastVerifiedByte) {
  service_.fault = [](int call, int chunk) {
    return call == 0 && chunk == 3 ? Fault::kCorrupt : Fault::kNone;
  };
  ASSERT_OK(Run());
  EXPECT_EQ(Received(), service_.data);
  auto reqs = service_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].tensors(0).offset(), 3 * kChunk);  // Chunks 0-2 verified.
  EXPECT_EQ(reqs[1].tensors(0).limit(), kSize - 3 * kChunk);
}

TEST_F(FetchTest, PersistentCorruptionIsDataLoss) {
  service_.fault = [](int, int chunk) {
    return chunk == 0 ? Fault::kCorrupt : Fault::kNone;
  };
  ClientOptions o;
  o.max_attempts = 3;
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr("tensor 't': CRC32C mismatch in bytes [0, 1000)")));
  EXPECT_EQ(service_.requests().size(), 3u);
}

TEST_F(FetchTest, DroppedStreamResumes) {
  service_.fault = [](int call, int chunk) {
    return call < 2 && chunk == 4 ? Fault::kDrop : Fault::kNone;
  };
  ASSERT_OK(Run());
  EXPECT_EQ(Received(), service_.data);
  auto reqs = service_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].tensors(0).offset(), 4 * kChunk);
  EXPECT_EQ(reqs[2].tensors(0).offset(), 8 * kChunk);
}

// The CRC covers the payload, not the header: a damaged entry or offset
// field is retried on a new stream like a damaged payload.
TEST_F(FetchTest, WrongOffsetIsRetriedOnAFreshStream) {
  service_.fault = [](int call, int chunk) {
    return call == 0 && chunk == 2 ? Fault::kWrongOffset : Fault::kNone;
  };
  ASSERT_OK(Run());
  EXPECT_EQ(Received(), service_.data);
  auto reqs = service_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].tensors(0).offset(), 2 * kChunk);
}

TEST_F(FetchTest, WrongEntryIsRetriedOnAFreshStream) {
  service_.fault = [](int call, int chunk) {
    return call == 0 && chunk == 2 ? Fault::kWrongEntry : Fault::kNone;
  };
  ASSERT_OK(Run());
  EXPECT_EQ(Received(), service_.data);
  auto reqs = service_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].tensors(0).offset(), 2 * kChunk);  // Chunks 0-1 kept.
  EXPECT_EQ(reqs[1].tensors(0).limit(), kSize - 2 * kChunk);
}

TEST_F(FetchTest, PersistentWrongEntryIsDataLossNamingTheEntry) {
  service_.fault = [](int, int chunk) {
    return chunk == 0 ? Fault::kWrongEntry : Fault::kNone;
  };
  ClientOptions o;
  o.max_attempts = 3;
  o.retry_initial_backoff = absl::Milliseconds(1);
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr("server sent a chunk for entry 1 of 1")));
  EXPECT_EQ(service_.requests().size(), 3u);
}

TEST_F(FetchTest, PersistentWrongOffsetIsDataLossNamingTheLastFailure) {
  service_.fault = [](int, int chunk) {
    return chunk == 0 ? Fault::kWrongOffset : Fault::kNone;
  };
  ClientOptions o;
  o.max_attempts = 3;
  o.retry_initial_backoff = absl::Milliseconds(1);
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kDataLoss,
                               AllOf(HasSubstr("expected [0, 10000)"),
                                     HasSubstr("after 3 calls on this stream, "
                                               "3 in a row without progress"))));
  EXPECT_EQ(service_.requests().size(), 3u);
}

// A connection that breaks again and again, but moves bytes each time,
// completes: progress resets the attempt count.
TEST_F(FetchTest, DropsThatMakeProgressNeverExhaustTheAttempts) {
  service_.fault = [](int, int chunk) {
    return chunk == 1 ? Fault::kDrop : Fault::kNone;
  };
  ClientOptions o;
  o.max_attempts = 2;
  o.retry_initial_backoff = absl::Milliseconds(1);
  ASSERT_OK(Run(o));
  EXPECT_EQ(Received(), service_.data);
  EXPECT_EQ(service_.requests().size(), kSize / kChunk);  // One chunk a call.
}

TEST_F(FetchTest, RetriesWithoutProgressBackOffExponentially) {
  service_.fault = [](int, int chunk) {
    return chunk == 0 ? Fault::kDrop : Fault::kNone;
  };
  ClientOptions o;
  o.max_attempts = 4;
  o.retry_initial_backoff = absl::Milliseconds(40);
  o.retry_max_backoff = absl::Milliseconds(120);
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("4 in a row without progress")));
  std::vector<absl::Time> t = service_.arrivals();
  ASSERT_EQ(t.size(), 4u);
  // Waits of 40, 80, then 120 (capped) ms, each jittered by +-50%.
  EXPECT_GE(t[1] - t[0], absl::Milliseconds(20));
  EXPECT_GE(t[2] - t[1], absl::Milliseconds(40));
  EXPECT_GE(t[3] - t[2], absl::Milliseconds(60));
  EXPECT_LT(t[3] - t[2], absl::Milliseconds(180 + 500));
}

TEST_F(FetchTest, FetchTimeoutEndsTheRetries) {
  service_.fault = [](int, int chunk) {
    return chunk == 0 ? Fault::kDrop : Fault::kNone;
  };
  ClientOptions o;
  o.max_attempts = 1000;
  o.retry_initial_backoff = absl::Milliseconds(20);
  o.retry_max_backoff = absl::Milliseconds(20);
  o.fetch_timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kDeadlineExceeded,
                               AllOf(HasSubstr("fetch_timeout reached"),
                                     HasSubstr("last failure: dropped"))));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_GT(service_.requests().size(), 3u);
}

// The fetch's deadline can also end a call in progress: the error names
// fetch_timeout and what failed before, as when it ends a backoff.
TEST_F(FetchTest, AFetchTimeoutDuringACallNamesTheTimeout) {
  service_.fault = [](int call, int chunk) {
    if (chunk != 0) return Fault::kNone;
    return call == 0 ? Fault::kDrop : Fault::kHang;
  };
  ClientOptions o;
  o.retry_initial_backoff = absl::Milliseconds(1);
  o.retry_max_backoff = absl::Milliseconds(1);
  // Long enough for the first call (connect included) to fail first under
  // sanitizers; the hang costs each case this long.
  o.fetch_timeout = absl::Seconds(1);
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kDeadlineExceeded,
                               AllOf(HasSubstr("fetch_timeout reached"),
                                     HasSubstr("last failure: dropped"),
                                     HasSubstr("after 2 calls"))));
  service_.fault = [](int, int) { return Fault::kHang; };
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kDeadlineExceeded,
                               HasSubstr("fetch_timeout reached; last failure: "
                                         "none, the call was still running")));
}

TEST_F(FetchTest, StreamEndingEarlyIsRetriedThenDataLoss) {
  service_.fault = [](int, int chunk) {
    return chunk == 5 ? Fault::kEndEarly : Fault::kNone;
  };
  ClientOptions o;
  o.max_attempts = 1;
  EXPECT_THAT(Run(o), StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr("stream ended at byte 5000 of 10000")));
}

TEST_F(FetchTest, AStreamSendsAtMostMaxEntriesPerCall) {
  ClientOptions o;
  o.split_bytes = 1000;  // Ten pieces, all on the one stream.
  o.max_entries_per_call = 3;
  ASSERT_OK(Run(o));
  EXPECT_EQ(Received(), service_.data);
  auto reqs = service_.requests();
  ASSERT_EQ(reqs.size(), 4u);  // 3 + 3 + 3 + 1.
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].tensors_size(), i < 3 ? 3 : 1) << i;
  }
}

TEST_F(FetchTest, SplitsBigTensorsOverStreams) {
  ClientOptions o;
  o.split_bytes = 3000;
  o.streams = 3;
  auto c = Client::Connect(address_, o);
  ASSERT_OK(c.status());
  ASSERT_OK((*c)->Fetch(toc_, {{"t", absl::MakeSpan(dest_), {}}}));
  EXPECT_EQ(Received(), service_.data);
  auto reqs = service_.requests();
  EXPECT_EQ(reqs.size(), 3u);
  uint64_t covered = 0;
  for (const auto& r : reqs) {
    for (const auto& t : r.tensors()) covered += t.limit();
  }
  EXPECT_EQ(covered, kSize);
}

// A fetch uses at most one stream per split_bytes of it (never more than
// `streams`): ten 1000-byte tensors are one call with the default split of
// 64 MiB, two with 5000, four with 3000, and four (the streams, not ten)
// with 1000. (The fake serves every tensor the first bytes of its data.)
TEST_F(FetchTest, AFetchUsesAtMostOneStreamPerSplitBytes) {
  ModelInfo toc;
  toc.name = "m";
  toc.revision = "r1";
  for (int i = 0; i < 10; ++i) {
    toc.tensors.push_back({absl::StrCat("t", i), "U8", {1000}, 0, 0, 1000});
  }
  toc.Reindex();
  const std::pair<uint64_t, size_t> cases[] = {
      {uint64_t{64} << 20, 1}, {5000, 2}, {3000, 4}, {1000, 4}};
  for (const auto& [split, calls] : cases) {
    ClientOptions o;
    o.streams = 4;
    o.split_bytes = split;
    auto c = Client::Connect(address_, o);
    ASSERT_OK(c.status());
    std::vector<std::vector<std::byte>> dest(10, std::vector<std::byte>(1000));
    std::vector<FetchItem> items;
    for (int i = 0; i < 10; ++i) {
      items.push_back({absl::StrCat("t", i), absl::MakeSpan(dest[i]), {}});
    }
    const size_t before = service_.requests().size();
    ASSERT_OK((*c)->Fetch(toc, items));
    EXPECT_EQ(service_.requests().size() - before, calls) << "split " << split;
    for (const auto& d : dest) {
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(d.data()), d.size()),
                service_.data.substr(0, 1000));
    }
  }
}

TEST_F(FetchTest, DestinationOfWrongSizeIsInvalid) {
  auto c = Client::Connect(address_);
  ASSERT_OK(c.status());
  std::vector<std::byte> small(10);
  EXPECT_THAT((*c)->Fetch(toc_, {{"t", absl::MakeSpan(small), {}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has 10000 bytes, destination has 10")));
  EXPECT_THAT((*c)->Fetch(toc_, {{"nope", absl::MakeSpan(small), {}}}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
  EXPECT_TRUE(service_.requests().empty());
}

TEST_F(FetchTest, EmptyTargetIsInvalid) {
  EXPECT_THAT(Client::Connect(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace weightserver::client
