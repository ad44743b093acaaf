// Copyright 2026 The Weightserver Authors.
//
// tests/integration/slice_test.cc: tensor-parallel slices through a real
// server on 127.0.0.1:0 and the real client. Every rank's shard (rows,
// columns, a fused QKV split; world sizes 1, 2, 4, 8) must equal the naive
// element-by-element slice of the source bytes, in memory and in files, and a
// Fetch resumed inside a sliced output must continue it exactly.
#include <grpcpp/create_channel.h>

#include "weightserver/client/client.h"
#include "weightserver/client/tensor_table.h"
#include "weightserver/client/output_file.h"
#include "weightserver/client/selection.h"
#include "format/header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/client_helpers.h"
#include "wire/selection.h"
#include "weightserver/v1/weightserver.grpc.pb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver {
namespace {

using client::Selection;
using format::DType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TensorBytes;

// name, dtype, shape of the test model's tensors.
const format::TensorSpec kRows{"rows", DType::kF32, {512, 96}};    // 192 KiB
const format::TensorSpec kCols{"cols", DType::kBF16, {96, 1024}};  // 192 KiB
const format::TensorSpec kQkv{"qkv", DType::kF16, {512 + 256 + 256, 64}};
const format::TensorSpec kCube{"cube", DType::kU8, {6, 10, 12}};
constexpr uint64_t kQkvBlocks[] = {512, 256, 256};

// The selected elements of `spec`'s source bytes, one at a time, in order.
std::string NaiveSlice(const format::TensorSpec& spec, const Selection& sel) {
  const size_t esize = format::DTypeBits(spec.dtype) / 8;
  const std::string src =
      TensorBytes(spec.name, weightserver::testing::SpecBytes(spec));
  const size_t rank = spec.shape.size();
  std::vector<std::vector<uint64_t>> picked(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (sel.whole() || sel.dims[d].empty()) {
      for (uint64_t i = 0; i < spec.shape[d]; ++i) picked[d].push_back(i);
    } else {
      for (const client::Range& r : sel.dims[d]) {
        for (uint64_t i = r.start; i < r.stop; ++i) picked[d].push_back(i);
      }
    }
    if (picked[d].empty()) return "";
  }
  std::string out;
  std::vector<size_t> pos(rank, 0);
  while (true) {
    uint64_t flat = 0;
    for (size_t d = 0; d < rank; ++d) {
      flat = flat * spec.shape[d] + picked[d][pos[d]];
    }
    out += src.substr(flat * esize, esize);
    int d = static_cast<int>(rank) - 1;
    for (; d >= 0 && ++pos[d] == picked[d].size(); --d) pos[d] = 0;
    if (d < 0) return out;
  }
}

class ServerSliceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(repo_.path() + "/tp",
                                      {kRows, kCols, kQkv, kCube});
    server::ServerOptions options;
    options.repo = repo_.path();
    options.listen = "127.0.0.1:0";
    auto s = server::Server::Start(options);
    ASSERT_OK(s.status());
    server_ = *std::move(s);
    client::ClientOptions copts;
    copts.streams = 3;
    copts.split_bytes = 40000;  // Pieces start inside sliced outputs.
    copts.chunk_bytes = 64 << 10;
    auto c = client::Client::Connect(server_->address(), copts);
    ASSERT_OK(c.status());
    client_ = *std::move(c);
    auto toc = client_->GetModel("tp");
    ASSERT_OK(toc.status());
    toc_ = *std::move(toc);
  }

  weightserver::testing::TempDir repo_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<client::Client> client_;
  client::ModelInfo toc_;
};

TEST_F(ServerSliceTest, EveryRankGetsItsShardForWorldSizes1To8) {
  for (int world : {1, 2, 4, 8}) {
    uint64_t rows_total = 0;
    for (int rank = 0; rank < world; ++rank) {
      ASSERT_OK_AND_ASSIGN(Selection rows,
                           client::ShardDim(kRows.shape, 0, rank, world));
      ASSERT_OK_AND_ASSIGN(Selection cols,
                           client::ShardDim(kCols.shape, 1, rank, world));
      ASSERT_OK_AND_ASSIGN(
          Selection qkv,
          client::ShardFused(kQkv.shape, 0, kQkvBlocks, rank, world));
      ASSERT_OK_AND_ASSIGN(
          client::TensorTable m,
          weightserver::testing::LoadSlices(
              *client_, toc_, {{"rows", rows}, {"cols", cols}, {"qkv", qkv}}));
      const std::string where = absl::StrCat("rank ", rank, " of ", world);
      const client::TensorView* r = m.Find("rows");
      ASSERT_NE(r, nullptr);
      EXPECT_THAT(r->shape, ElementsAre(512 / world, 96)) << where;
      EXPECT_EQ(weightserver::testing::HostBytes(*r), NaiveSlice(kRows, rows)) << where;
      rows_total += r->size;
      const client::TensorView* c = m.Find("cols");
      EXPECT_THAT(c->shape, ElementsAre(96, 1024 / world)) << where;
      EXPECT_EQ(weightserver::testing::HostBytes(*c), NaiveSlice(kCols, cols)) << where;
      const client::TensorView* q = m.Find("qkv");
      EXPECT_THAT(q->shape, ElementsAre(1024 / world, 64)) << where;
      EXPECT_EQ(weightserver::testing::HostBytes(*q), NaiveSlice(kQkv, qkv)) << where;
      EXPECT_EQ(m.total_bytes(),
                r->size + c->size + q->size);
    }
    EXPECT_EQ(rows_total, 512u * 96 * 4);
  }
}

TEST_F(ServerSliceTest, ThreeDimensionalAndMultiRangeSelections) {
  const Selection sel{{{{1, 3}, {4, 5}}, {}, {{2, 5}, {9, 12}, {0, 1}}}};
  ASSERT_OK_AND_ASSIGN(
      client::TensorTable m,
      weightserver::testing::LoadSlices(*client_, toc_, {{"cube", sel}}));
  EXPECT_THAT(m.Find("cube")->shape, ElementsAre(3, 10, 7));
  EXPECT_EQ(weightserver::testing::HostBytes(*m.Find("cube")), NaiveSlice(kCube, sel));
}

TEST_F(ServerSliceTest, SlicesToFileKeepTheirNamesWithNewShapes) {
  ASSERT_OK_AND_ASSIGN(Selection cols, client::ShardDim(kCols.shape, 1, 5, 8));
  const Selection rows{{{{10, 20}}, {}}};
  weightserver::testing::TempDir out;
  const std::string path = out.path() + "/rank5.safetensors";
  ASSERT_OK(weightserver::testing::FetchSlicesFile(
      *client_, toc_, {{"cols", cols}, {"rows", rows}, {"cube", {}}}, path));
  const std::string file = weightserver::testing::ReadBytes(path);
  ASSERT_OK_AND_ASSIGN(
      format::Header h,
      format::ParseFile(
          absl::MakeConstSpan(reinterpret_cast<const std::byte*>(file.data()),
                              file.size()),
          path));
  ASSERT_EQ(h.tensors.size(), 3u);
  const format::TensorInfo* c = h.Find("cols");
  EXPECT_THAT(c->shape, ElementsAre(96, 128));
  EXPECT_EQ(file.substr(h.data_offset() + c->begin, c->size()),
            NaiveSlice(kCols, cols));
  const format::TensorInfo* r = h.Find("rows");
  EXPECT_THAT(r->shape, ElementsAre(10, 96));
  EXPECT_EQ(file.substr(h.data_offset() + r->begin, r->size()),
            NaiveSlice(kRows, rows));
  EXPECT_THAT(h.Find("cube")->shape, ElementsAre(6, 10, 12));
}

TEST_F(ServerSliceTest, ResumeInsideASlicedOutputContinuesIt) {
  ASSERT_OK_AND_ASSIGN(Selection cols, client::ShardDim(kCols.shape, 1, 3, 4));
  const std::string want = NaiveSlice(kCols, cols);
  auto stub = v1::WeightService::NewStub(grpc::CreateChannel(
      server_->address(), grpc::InsecureChannelCredentials()));
  for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{511},
                          uint64_t{12345}, want.size() - 3}) {
    v1::FetchRequest r;
    r.set_model("tp");
    r.set_revision(toc_.revision);
    v1::TensorRequest* tr = r.add_tensors();
    tr->set_name("cols");
    wire::SelectionToProto(cols.dims, tr);
    tr->set_offset(offset);
    grpc::ClientContext ctx;
    auto reader = stub->Fetch(&ctx, r);
    v1::Chunk chunk;
    std::string got;
    while (reader->Read(&chunk)) {
      EXPECT_EQ(chunk.offset(), offset + got.size());
      got += chunk.data();
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(got, want.substr(offset)) << "offset " << offset;
  }
  // The server checks selections itself: one DimSelection for a 2-D tensor.
  v1::FetchRequest r;
  r.set_model("tp");
  v1::TensorRequest* tr = r.add_tensors();
  tr->set_name("cols");
  tr->add_selection()->add_ranges()->set_stop(1);
  grpc::ClientContext ctx;
  auto reader = stub->Fetch(&ctx, r);
  v1::Chunk chunk;
  while (reader->Read(&chunk)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("one per dimension"));
}

TEST_F(ServerSliceTest, BadSelectionsAreClearErrors) {
  std::vector<std::byte> buf(8);
  client::FetchItem past{"rows", absl::MakeSpan(buf),
                         Selection{{{{0, 1}}, {{90, 97}}}}};
  EXPECT_THAT(client_->Fetch(toc_, {&past, 1}),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("tensor 'rows' F32 [512, 96]")));
  client::FetchItem rank{"rows", absl::MakeSpan(buf), Selection{{{{0, 1}}}}};
  EXPECT_THAT(client_->Fetch(toc_, {&rank, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  client::FetchItem size{"rows", absl::MakeSpan(buf),
                         Selection{{{{0, 1}}, {{0, 4}}}}};
  EXPECT_THAT(client_->Fetch(toc_, {&size, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("destination has 8")));
}

}  // namespace
}  // namespace weightserver
