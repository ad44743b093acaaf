// Copyright 2026 The Weightserver Authors.
//
// tests/integration/pending_load_test.cc: PendingLoad against a real server:
// every output byte-identical once WaitFor says it is in place; early
// outputs handed out while the rest is still on the way (a paced server);
// a cancelled or destroyed load stops at once, whether its streams wait
// for a chunk or for a retry; the device path through a fake
// copier counts copies, not receipts.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/client/fake_copier.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/client/client.h"
#include "weightserver/client/pending_load.h"

namespace weightserver {
namespace {

using format::DType;
using ::weightserver::testing::StatusIs;

// Eight tensors growing in size (256 KiB, 512 KiB, ... 2 MiB: 9 MiB in all;
// a fetch that dealt the biggest first would fill the first output last)
// and an empty one.
constexpr uint64_t kModelBytes = 9 << 20;
std::vector<format::TensorSpec> Specs() {
  std::vector<format::TensorSpec> specs;
  for (uint64_t i = 0; i < 8; ++i) {
    specs.push_back({absl::StrCat("layer", i, ".w"), DType::kU8, {(i + 1) << 18}});
  }
  specs.push_back({"zz.empty", DType::kF32, {0, 4}});
  return specs;
}

class PendingLoadTest : public ::testing::Test {
 protected:
  void Start(uint64_t bytes_per_second = 0) {
    weightserver::testing::WriteModel(repo_.path() + "/m", Specs());
    server::ServerOptions o;
    o.repo = repo_.path();
    o.listen = "127.0.0.1:0";
    o.service.client_limits.max_bytes_per_second = bytes_per_second;
    auto s = server::Server::Start(o);
    ASSERT_OK(s.status());
    server_ = *std::move(s);
    client::ClientOptions co;
    co.chunk_bytes = 64 << 10;
    co.progress = [this](const client::Progress& p) {
      received_.store(p.done_bytes);
    };
    auto c = client::Client::Connect(server_->address(), co);
    ASSERT_OK(c.status());
    client_ = *std::move(c);
    auto toc = client_->GetModel("m");
    ASSERT_OK(toc.status());
    toc_ = *std::move(toc);
  }

  static void ExpectBytes(const client::TensorView& v) {
    const std::string want = weightserver::testing::TensorBytes(v.name, v.size);
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(v.data), v.size), want)
        << v.name;
  }

  weightserver::testing::TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<client::Client> client_;
  client::ModelInfo toc_;
  std::atomic<uint64_t> received_{0};  // Verified bytes of the running load.
};

TEST_F(PendingLoadTest, EveryOutputIsInPlaceOnceWaitForSaysSo) {
  Start();
  auto load = client::PendingLoad::Start(*client_, toc_, {});
  ASSERT_OK(load.status());
  const client::TensorTable& t = (*load)->table();
  ASSERT_EQ(t.tensors().size(), 9u);
  for (size_t i = 0; i < t.tensors().size(); ++i) {
    ASSERT_OK((*load)->WaitFor(i));
    ExpectBytes(t.tensors()[i]);
  }
  EXPECT_OK((*load)->Wait());
  EXPECT_TRUE((*load)->done());
  EXPECT_THAT((*load)->WaitFor(9), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_F(PendingLoadTest, SelectionsAndAnOrderOfTheCallersChoice) {
  Start();
  client::Selection bytes_1000_to_3000;
  bytes_1000_to_3000.dims.push_back({{1000, 3000}});
  auto load = client::PendingLoad::Start(
      *client_, toc_, {{"layer7.w", {}}, {"layer0.w", bytes_1000_to_3000}});
  ASSERT_OK(load.status());
  const client::TensorTable& t = (*load)->table();
  ASSERT_OK((*load)->WaitFor(1));
  EXPECT_EQ(t.tensors()[1].size, 2000u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.tensors()[1].data), 2000),
            weightserver::testing::TensorBytes("layer0.w", 1 << 18).substr(1000, 2000));
  ASSERT_OK((*load)->WaitFor(0));
  ExpectBytes(t.tensors()[0]);
}

// Paced at 2 MiB/s, the 9 MiB take ~4 s: the first tensor (each stream runs
// its pieces in plan order) is handed out while most of the rest is not.
TEST_F(PendingLoadTest, TheFirstOutputsComeBeforeTheLoadEnds) {
  Start(/*bytes_per_second=*/2 << 20);
  auto load = client::PendingLoad::Start(*client_, toc_, {});
  ASSERT_OK(load.status());
  const client::TensorTable& t = (*load)->table();
  const size_t first = t.Find("layer0.w") - t.tensors().data();
  ASSERT_OK((*load)->WaitFor(first));
  EXPECT_FALSE((*load)->done());
  // Biggest first, the 256 KiB of layer0 would come after ~8.5 MiB.
  EXPECT_LT(received_.load(), kModelBytes / 2);
  ExpectBytes(t.tensors()[first]);
  ASSERT_OK((*load)->Wait());
  for (const client::TensorView& v : (*load)->table().tensors()) ExpectBytes(v);
}

TEST_F(PendingLoadTest, CancelStopsTheFetchAndWaitersSeeCancelled) {
  Start(/*bytes_per_second=*/1 << 20);
  auto load = client::PendingLoad::Start(*client_, toc_, {});
  ASSERT_OK(load.status());
  ASSERT_OK((*load)->WaitFor(0));
  const absl::Time cancelled = absl::Now();
  (*load)->Cancel();
  EXPECT_THAT((*load)->WaitFor(7), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT((*load)->Wait(), StatusIs(absl::StatusCode::kCancelled));
  // The paced rest would take ~6 s.
  EXPECT_LT(absl::Now() - cancelled, absl::Seconds(3));
}

TEST_F(PendingLoadTest, DestroyingARunningLoadStopsIt) {
  Start(/*bytes_per_second=*/1 << 20);
  std::shared_ptr<void> memory;
  const absl::Time start = absl::Now();
  {
    auto load = client::PendingLoad::Start(*client_, toc_, {});
    ASSERT_OK(load.status());
    memory = (*load)->table().memory_owner();
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_NE(memory, nullptr);  // Still owned by this copy.
}

// Paced at 16 KiB/s, each 64 KiB chunk after the first waits ~4 s: Cancel
// ends the calls at once rather than at their next chunk.
TEST_F(PendingLoadTest, CancelDoesNotWaitForTheNextChunk) {
  Start(/*bytes_per_second=*/16 << 10);
  auto load = client::PendingLoad::Start(*client_, toc_, {});
  ASSERT_OK(load.status());
  absl::SleepFor(absl::Milliseconds(500));  // The streams wait for chunks.
  ASSERT_FALSE((*load)->done());
  const absl::Time cancelled = absl::Now();
  (*load)->Cancel();
  EXPECT_THAT((*load)->Wait(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_LT(absl::Now() - cancelled, absl::Seconds(1.5));
}

// The server gone after GetModel: every call fails at once and the streams
// back off 5-15 s before each retry; Cancel cuts the backoff short.
TEST_F(PendingLoadTest, CancelDoesNotWaitForARetry) {
  Start();
  client::ClientOptions o;
  o.retry_initial_backoff = absl::Seconds(10);
  o.retry_max_backoff = absl::Seconds(10);
  auto c = client::Client::Connect(server_->address(), o);
  ASSERT_OK(c.status());
  server_.reset();
  auto load = client::PendingLoad::Start(**c, toc_, {});
  ASSERT_OK(load.status());
  absl::SleepFor(absl::Milliseconds(500));  // Refused; backing off.
  ASSERT_FALSE((*load)->done());
  const absl::Time cancelled = absl::Now();
  (*load)->Cancel();
  EXPECT_THAT((*load)->Wait(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_LT(absl::Now() - cancelled, absl::Seconds(1.5));
}

TEST_F(PendingLoadTest, AnUnknownTensorFailsAtStart) {
  Start();
  EXPECT_THAT(client::PendingLoad::Start(*client_, toc_, {{"nope", {}}}).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

// Into "device" memory: an output is ready once its copies completed.
TEST_F(PendingLoadTest, TheDevicePathReportsCompletedCopies) {
  Start();
  auto copier = std::make_shared<client::FakeCopier>(/*slots=*/3);
  copier->delay = absl::Milliseconds(1);
  client::DeviceOptions o;
  o.slot_bytes = 64 << 10;
  {
    auto load = client::PendingLoad::Start(*client_, toc_, {}, copier, o);
    ASSERT_OK(load.status());
    const client::TensorTable& t = (*load)->table();
    EXPECT_EQ(t.memory(), client::MemoryKind::kDevice);
    for (size_t i = 0; i < t.tensors().size(); ++i) {
      ASSERT_OK((*load)->WaitFor(i));
      ExpectBytes(t.tensors()[i]);  // The fake's "device" memory is host memory.
    }
    ASSERT_OK((*load)->Wait());
    EXPECT_EQ(copier->copied_bytes(), kModelBytes);
  }
  EXPECT_EQ(copier->live_allocations(), 0);
  EXPECT_EQ(copier->violations(), 0);
}

}  // namespace
}  // namespace weightserver
