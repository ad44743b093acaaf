// Copyright 2026 The Weightserver Authors.
//
// tests/gpu/device_load_test.cc: the GPU destination end to end.
//
// Through FakeCopier (no GPU needed): LoadToDevice against a real server on
// 127.0.0.1:0 lands every byte, whole tensors and tensor-parallel selections
// alike (the same LoadPlan as a host load, byte for byte); a chunk that fails
// its CRC never reaches the device (fake server); `weightctl load --device
// cuda:0 --shard ...` runs through the fake device, and without a GPU exits
// non-zero with one line. With a GPU, the same loads through CudaCopier;
// else those tests skip with the reason.
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <sstream>

#include "cli/commands.h"
#include "weightserver/client/tensor_table.h"
#include "client/device_ring.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/client/fake_copier.h"
#include "tests/testing/client_helpers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "util/crc32c.h"
#include "weightserver/v1/weightserver.grpc.pb.h"
#if WS_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "client/cuda_copier.h"
#endif

namespace weightserver::client {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::TensorBytes;

TEST(ParseDeviceTest, AcceptsCpuCudaAndCudaN) {
  ASSERT_OK_AND_ASSIGN(DeviceSpec cpu, ParseDevice("cpu"));
  EXPECT_EQ(cpu.kind, DeviceSpec::Kind::kCpu);
  ASSERT_OK_AND_ASSIGN(DeviceSpec cuda, ParseDevice("cuda"));
  EXPECT_EQ(cuda.kind, DeviceSpec::Kind::kCuda);
  EXPECT_EQ(cuda.index, 0);
  ASSERT_OK_AND_ASSIGN(DeviceSpec three, ParseDevice("cuda:3"));
  EXPECT_EQ(three.index, 3);
}

TEST(ParseDeviceTest, RejectsEverythingElse) {
  for (const char* bad : {"", "gpu", "CUDA", "cuda:", "cuda:-1", "cuda:1x",
                          " cpu", "cuda:+1", "cuda:99999", "cuda0"}) {
    EXPECT_THAT(ParseDevice(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("expected cpu, cuda or cuda:N")))
        << bad;
  }
}

// A real server over a small model of a few dtypes.
class DeviceLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(
        repo_.path() + "/m",
        weightserver::testing::SmallTransformer("layers", 3 << 20));
    server::ServerOptions options;
    options.repo = repo_.path();
    options.listen = "127.0.0.1:0";
    ASSERT_OK_AND_ASSIGN(server_, server::Server::Start(options));
    ClientOptions copts;
    copts.streams = 3;
    copts.chunk_bytes = 64 << 10;
    copts.split_bytes = 200 << 10;  // Several pieces per big tensor.
    ASSERT_OK_AND_ASSIGN(client_, Client::Connect(server_->address(), copts));
    ASSERT_OK_AND_ASSIGN(toc_, client_->GetModel("m"));
  }
  DeviceOptions Ring() const {
    DeviceOptions o;
    o.pinned_slots = 3;
    o.slot_bytes = 64 << 10;
    return o;
  }

  LoadPlan WholePlan() const { return *PlanWholeTensors(toc_, {}); }
  // Rank 1 of 2's even part of the last dimension of every tensor.
  LoadPlan ShardPlan() const {
    std::vector<TensorSlice> wanted;
    for (const ModelTensor& t : toc_.tensors) {
      absl::StatusOr<Selection> s = ShardDim(t.shape, -1, 1, 2);
      EXPECT_TRUE(s.ok()) << s.status();
      wanted.push_back({t.name, s.ok() ? *s : Selection{}});
    }
    return *PlanLoad(toc_, wanted);
  }

  TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<Client> client_;
  ModelInfo toc_;
};

TEST_F(DeviceLoadTest, LoadThroughFakeDeviceLandsEveryByte) {
  auto fake = std::make_shared<FakeCopier>(3);
  {
    ASSERT_OK_AND_ASSIGN(TensorTable m,
                         LoadToDevice(*client_, toc_, WholePlan(), fake, Ring()));
    EXPECT_EQ(m.memory(), MemoryKind::kDevice);
    ASSERT_EQ(m.tensors().size(), toc_.tensors.size());
    for (const TensorView& t : m.tensors()) {
      const auto* base = static_cast<const std::byte*>(m.tensors()[0].data);
      EXPECT_EQ((static_cast<const std::byte*>(t.data) - base) % 256, 0)
          << t.name;
      std::string got(reinterpret_cast<const char*>(t.data), t.size);
      EXPECT_EQ(got, TensorBytes(t.name, t.size)) << t.name;
    }
    EXPECT_EQ(fake->violations(), 0);
  }
  EXPECT_EQ(fake->live_allocations(), 0);  // Arena and pinned slots freed.
}

TEST_F(DeviceLoadTest, ShardsThroughFakeDeviceMatchTheHostLoadOfTheSamePlan) {
  const LoadPlan plan = ShardPlan();
  ASSERT_OK_AND_ASSIGN(TensorTable host, LoadToHost(*client_, toc_, plan));
  auto fake = std::make_shared<FakeCopier>(3);
  {
    ASSERT_OK_AND_ASSIGN(TensorTable dev,
                         LoadToDevice(*client_, toc_, plan, fake, Ring()));
    ASSERT_EQ(dev.tensors().size(), host.tensors().size());
    EXPECT_EQ(dev.total_bytes(), plan.total_bytes);
    EXPECT_LT(plan.total_bytes, WholePlan().total_bytes);  // Only the shards.
    for (const TensorView& t : dev.tensors()) {
      const TensorView* h = host.Find(t.name);
      ASSERT_NE(h, nullptr);
      EXPECT_EQ(t.shape, h->shape) << t.name;
      EXPECT_EQ(t.shape.back() * 2, toc_.Find(t.name)->shape.back()) << t.name;
      EXPECT_EQ(weightserver::testing::HostBytes(t),
                weightserver::testing::HostBytes(*h))
          << t.name;
    }
    EXPECT_EQ(fake->violations(), 0);
  }
  EXPECT_EQ(fake->live_allocations(), 0);
}

TEST_F(DeviceLoadTest, FailedCopyFailsTheLoadAndLeaksNothing) {
  auto fake = std::make_shared<FakeCopier>(3);
  fake->fail_copy_at = 7;
  absl::StatusOr<TensorTable> m =
      LoadToDevice(*client_, toc_, WholePlan(), fake, Ring());
  EXPECT_THAT(m.status(), StatusIs(absl::StatusCode::kInternal,
                                   HasSubstr("injected copy failure")));
  m = absl::UnknownError("drop");
  EXPECT_EQ(fake->live_allocations(), 0);
}

TEST_F(DeviceLoadTest, ChunkLargerThanSlotIsRejected) {
  auto fake = std::make_shared<FakeCopier>(2);
  DeviceOptions small = Ring();
  small.slot_bytes = 1000;
  absl::StatusOr<TensorTable> m =
      LoadToDevice(*client_, toc_, WholePlan(), fake, small);
  EXPECT_THAT(m.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("exceeds the pinned slot size")));
  m = absl::UnknownError("drop");
  EXPECT_EQ(fake->live_allocations(), 0);
}

// Serves tensor "t" (4000 bytes, 1000-byte chunks) with the chunk at byte
// 2000 always corrupted.
class CorruptingService final : public v1::WeightService::Service {
 public:
  static constexpr uint64_t kSize = 4000;
  grpc::Status Fetch(grpc::ServerContext*, const v1::FetchRequest* request,
                     grpc::ServerWriter<v1::Chunk>* writer) override {
    const v1::TensorRequest& t = request->tensors(0);
    const std::string data = TensorBytes("t", kSize);
    for (uint64_t pos = t.offset(); pos < kSize; pos += 1000) {
      v1::Chunk c;
      c.set_entry(0);
      c.set_offset(pos);
      c.set_data(data.substr(pos, 1000));
      c.set_crc32c(Crc32c(c.data()));
      if (pos == 2000) (*c.mutable_data())[10] ^= 0x01;
      if (!writer->Write(c)) return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  }
};

TEST(DeviceFetchTest, ChunkFailingItsCrcNeverReachesTheDevice) {
  CorruptingService service;
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = b.BuildAndStart();
  ASSERT_GT(port, 0);
  ClientOptions o;
  o.streams = 1;
  o.max_attempts = 3;
  ASSERT_OK_AND_ASSIGN(auto c,
                       Client::Connect("127.0.0.1:" + std::to_string(port), o));
  ModelInfo toc;
  toc.name = "m";
  toc.revision = "r";
  toc.tensors.push_back(
      {"t", "U8", {CorruptingService::kSize}, 0, 0, CorruptingService::kSize});
  toc.Reindex();

  FakeCopier fake(2);
  std::string device(CorruptingService::kSize, '\0');
  DeviceOptions ring;
  ring.pinned_slots = 2;
  ring.slot_bytes = 1000;
  ASSERT_OK_AND_ASSIGN(LoadPlan plan, PlanWholeTensors(toc, {}));
  std::vector<void*> into = {device.data()};
  absl::Status s = FetchToDevice(*c, toc, plan, into, &fake, ring);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss,
                          HasSubstr("CRC32C mismatch in bytes [2000, 3000)")));
  EXPECT_EQ(device.substr(0, 2000), TensorBytes("t", 4000).substr(0, 2000));
  EXPECT_EQ(device.substr(2000), std::string(2000, '\0'));  // Nothing bad.
  EXPECT_EQ(fake.copies(), 2);  // The two good chunks, once each.
  EXPECT_EQ(fake.live_allocations(), 0);
  server->Shutdown();
}

int Weightctl(const std::vector<std::string>& args, std::string* out,
              std::string* err, cli::CliEnvironment env = {}) {
  std::ostringstream o, e;
  int rc = cli::RunWeightctl(args, env, o, e);
  *out = o.str();
  *err = e.str();
  return rc;
}

TEST_F(DeviceLoadTest, WeightctlLoadCudaShardRunsThroughTheSamePlan) {
  auto fake = std::make_shared<FakeCopier>(4);
  cli::CliEnvironment env;
  env.open_device = [&](int index, const DeviceOptions& o)
      -> absl::StatusOr<std::shared_ptr<DeviceCopier>> {
    EXPECT_EQ(index, 0);
    EXPECT_GE(o.slot_bytes, 64u << 10);
    return std::shared_ptr<DeviceCopier>(fake);
  };
  const uint64_t shard_bytes = ShardPlan().total_bytes;
  std::string out, err;
  ASSERT_EQ(Weightctl({"--server", server_->address(), "load", "m", "--device",
                       "cuda:0", "--shard", "-1/1/2"},
                      &out, &err, env),
            0)
      << err;
  EXPECT_THAT(out, StartsWith(absl::StrCat("loaded ", toc_.tensors.size(),
                                           " tensors, ")));
  EXPECT_THAT(out, HasSubstr("into cuda:0, verified"));
  EXPECT_GT(fake->copies(), 0);
  EXPECT_EQ(fake->copied_bytes(), shard_bytes);
  EXPECT_EQ(fake->violations(), 0);
  EXPECT_EQ(fake->live_allocations(), 0);
  // --shard 0/1/2: every tensor whose rows split evenly is cut, the others
  // (position_ids has one row) are loaded whole.
  ASSERT_EQ(Weightctl({"--server", server_->address(), "load", "m", "--device",
                       "cuda:0", "--shard", "0/1/2"},
                      &out, &err, env),
            0)
      << err;
  // A bad shard of a named tensor is an error naming it, before any copy.
  EXPECT_EQ(Weightctl({"--server", server_->address(), "load", "m", "--device",
                       "cuda:0", "--shard", "0/0/3", "--tensor",
                       "layersnorm.weight"},
                      &out, &err, env),
            1);
  EXPECT_THAT(err, HasSubstr("does not split evenly over 3 ranks"));
}

bool GpuPresent() {
#if WS_HAVE_CUDA
  return CudaDeviceCount().ok();
#else
  return false;
#endif
}

TEST_F(DeviceLoadTest, WeightctlLoadCudaWithoutGpuIsOneLine) {
  if (GpuPresent()) GTEST_SKIP() << "a CUDA device is present";
  std::string out, err;
  int rc = Weightctl({"--server", server_->address(), "load", "m", "--device",
                      "cuda:0"},
                     &out, &err);
  EXPECT_NE(rc, 0);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  if (HaveCuda()) {
    EXPECT_THAT(err, StartsWith("weightctl: load --device cuda:0: no CUDA "
                                "device available (cudaGetDeviceCount: "));
  } else {
    EXPECT_THAT(err, StartsWith("weightctl: load --device cuda:0: this build "
                                "has no CUDA support"));
  }
}

TEST_F(DeviceLoadTest, WeightctlLoadRejectsBadDeviceAndKeepsCpu) {
  std::string out, err;
  EXPECT_EQ(Weightctl({"--server", server_->address(), "load", "m",
                       "--device", "gpu0"},
                      &out, &err),
            2);
  EXPECT_THAT(err, HasSubstr("invalid device 'gpu0'"));
  EXPECT_EQ(Weightctl({"--server", server_->address(), "load", "m",
                       "--device", "cpu"},
                      &out, &err),
            0)
      << err;
  EXPECT_THAT(out, StartsWith("loaded "));
}

#if WS_HAVE_CUDA
TEST_F(DeviceLoadTest, LoadIntoRealGpuMatches) {
  if (!GpuPresent()) {
    GTEST_SKIP() << "no CUDA device: " << CudaDeviceCount().status().message();
  }
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<DeviceCopier> gpu,
                       OpenCudaCopier(0, Ring()));
  for (const LoadPlan& plan : {WholePlan(), ShardPlan()}) {
  ASSERT_OK_AND_ASSIGN(TensorTable m,
                       LoadToDevice(*client_, toc_, plan, gpu, Ring()));
  ASSERT_OK_AND_ASSIGN(TensorTable host, LoadToHost(*client_, toc_, plan));
  for (const TensorView& t : m.tensors()) {
    std::string back(t.size, '\0');
    ASSERT_EQ(cudaMemcpy(back.data(), t.data, t.size, cudaMemcpyDeviceToHost),
              cudaSuccess);
    EXPECT_EQ(back, weightserver::testing::HostBytes(*host.Find(t.name)))
        << t.name;
  }
  }
}

TEST(CudaCopierTest, WithoutGpuCreateSaysSo) {
  if (GpuPresent()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_THAT(CudaCopier::Create(0, 2).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no CUDA device available")));
}

TEST(CudaCopierTest, OutOfDeviceMemoryIsResourceExhausted) {
  if (!GpuPresent()) {
    GTEST_SKIP() << "no CUDA device: " << CudaDeviceCount().status().message();
  }
  ASSERT_OK_AND_ASSIGN(auto c, CudaCopier::Create(0, 2));
  EXPECT_THAT(c->AllocDevice(size_t{1} << 50).status(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("out of device memory")));
  ASSERT_OK_AND_ASSIGN(void* p, c->AllocDevice(1 << 20));  // Still usable.
  c->FreeDevice(p);
}
#endif

}  // namespace
}  // namespace weightserver::client
