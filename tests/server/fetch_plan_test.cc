// Copyright 2026 The Weightserver Authors.
//
// tests/server/fetch_plan_test.cc: every way a Fetch request can be wrong, and
// the spans of a right one.
#include "server/fetch_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"

namespace weightserver::server {
namespace {

using format::DType;
using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;

class FetchPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weightserver::testing::WriteModel(
        root_.path() + "/m",
        {{"a", DType::kF32, {4, 8}}, {"b", DType::kBF16, {16}}});
    weightserver::testing::WriteModel(root_.path() + "/bad", {});
    weightserver::testing::WriteBytes(root_.path() + "/bad/model.safetensors",
                                      "garbage!");
    auto repo = ModelRepository::Scan({.root = root_.path()});
    ASSERT_OK(repo.status());
    repo_ = *std::move(repo);
  }

  absl::StatusOr<FetchPlan> Plan(const v1::FetchRequest& r) {
    return PlanFetch(repo_->Find(r.model()), r, limits_);
  }

  static v1::FetchRequest Request(std::string model,
                                  std::vector<std::string> names) {
    v1::FetchRequest r;
    r.set_model(std::move(model));
    for (auto& n : names) r.add_tensors()->set_name(n);
    return r;
  }

  TempDir root_;
  std::unique_ptr<ModelRepository> repo_;
  FetchLimits limits_;
};

TEST_F(FetchPlanTest, WholeTensorsBecomeOneSpanEach) {
  ASSERT_OK_AND_ASSIGN(FetchPlan plan, Plan(Request("m", {"b", "a"})));
  ASSERT_EQ(plan.entries.size(), 2u);
  const auto& m = *repo_->Find("m");
  const format::TensorInfo& b = m.tensor(m.tensors.at("b"));
  EXPECT_EQ(plan.entries[0].tensor, "b");
  EXPECT_EQ(plan.entries[0].output_size, 32u);
  ASSERT_EQ(plan.entries[0].spans.size(), 1u);
  EXPECT_EQ(plan.entries[0].spans[0].offset,
            m.files[0].header.data_offset() + b.begin);
  EXPECT_EQ(plan.entries[0].begin, 0u);
  EXPECT_EQ(plan.entries[0].end, 32u);
  EXPECT_EQ(plan.total_bytes, 32u + 128u);
  EXPECT_EQ(plan.chunk_bytes, limits_.default_chunk_bytes);
}

TEST_F(FetchPlanTest, OffsetAndLimitSelectPartOfTheOutput) {
  v1::FetchRequest r = Request("m", {"a", "a"});
  r.mutable_tensors(0)->set_offset(100);
  r.mutable_tensors(1)->set_offset(10);
  r.mutable_tensors(1)->set_limit(20);
  ASSERT_OK_AND_ASSIGN(FetchPlan plan, Plan(r));
  EXPECT_EQ(plan.entries[0].begin, 100u);
  EXPECT_EQ(plan.entries[0].end, 128u);
  EXPECT_EQ(plan.entries[1].begin, 10u);
  EXPECT_EQ(plan.entries[1].end, 30u);
  EXPECT_EQ(plan.total_bytes, 28u + 20u);
}

TEST_F(FetchPlanTest, OffsetAtEndIsAnEmptyEntry) {
  v1::FetchRequest r = Request("m", {"a"});
  r.mutable_tensors(0)->set_offset(128);
  ASSERT_OK_AND_ASSIGN(FetchPlan plan, Plan(r));
  EXPECT_EQ(plan.total_bytes, 0u);
}

TEST_F(FetchPlanTest, OffsetPastEndIsOutOfRange) {
  v1::FetchRequest r = Request("m", {"a"});
  r.mutable_tensors(0)->set_offset(129);
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kOutOfRange,
                                HasSubstr("tensor 'a': bytes [129, end)")));
  r.mutable_tensors(0)->set_offset(100);
  r.mutable_tensors(0)->set_limit(29);
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kOutOfRange,
                                HasSubstr("[100, 129) requested, output has 128")));
  r.mutable_tensors(0)->set_limit(UINT64_MAX);  // Must not wrap around.
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_F(FetchPlanTest, UnknownModelIsNotFound) {
  EXPECT_THAT(Plan(Request("nope", {"a"})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
}

TEST_F(FetchPlanTest, PathLikeModelNameIsNotFound) {
  EXPECT_THAT(Plan(Request("../m", {"a"})),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Plan(Request("/etc/passwd", {"a"})),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Plan(Request(std::string("m\0x", 3), {"a"})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("m\\x00x")));
}

TEST_F(FetchPlanTest, EmptyModelNameIsInvalid) {
  EXPECT_THAT(Plan(Request("", {"a"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST_F(FetchPlanTest, UnservableModelIsFailedPrecondition) {
  EXPECT_THAT(Plan(Request("bad", {"a"})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not servable")));
}

TEST_F(FetchPlanTest, NoEntriesIsInvalid) {
  EXPECT_THAT(Plan(Request("m", {})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no tensors requested")));
}

TEST_F(FetchPlanTest, UnknownOrEmptyTensorName) {
  EXPECT_THAT(Plan(Request("m", {"a", "zzz"})),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("model 'm': no tensor 'zzz'")));
  EXPECT_THAT(Plan(Request("m", {"../a"})),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Plan(Request("m", {""})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("entry 0 has no name")));
}

TEST_F(FetchPlanTest, OverLongNameIsInvalid) {
  EXPECT_THAT(Plan(Request("m", {std::string(limits_.max_name_bytes + 1, 'x')})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("over the limit")));
}

TEST_F(FetchPlanTest, TooManyEntriesIsInvalid) {
  limits_.max_entries = 3;
  EXPECT_THAT(Plan(Request("m", {"a", "a", "a", "a"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("4 entries, over the limit of 3")));
}

TEST_F(FetchPlanTest, WrongRevisionIsFailedPrecondition) {
  v1::FetchRequest r = Request("m", {"a"});
  r.set_revision("0123456789abcdef");
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("changed")));
  r.set_revision(repo_->Find("m")->revision);
  EXPECT_OK(Plan(r));
}

// Adds a DimSelection of `ranges` ({start, stop} pairs) to entry `e`.
void AddDim(v1::FetchRequest& r, int e,
            std::vector<std::pair<uint64_t, uint64_t>> ranges) {
  v1::DimSelection* dim = r.mutable_tensors(e)->add_selection();
  for (auto [start, stop] : ranges) {
    v1::Range* range = dim->add_ranges();
    range->set_start(start);
    range->set_stop(stop);
  }
}

TEST_F(FetchPlanTest, SelectionBecomesSpansShiftedToTheFile) {
  // a: F32 [4, 8]; columns [2:4] + [6:7] of rows [1:3].
  v1::FetchRequest r = Request("m", {"a"});
  AddDim(r, 0, {{1, 3}});
  AddDim(r, 0, {{2, 4}, {6, 7}});
  ASSERT_OK_AND_ASSIGN(FetchPlan plan, Plan(r));
  const auto& m = *repo_->Find("m");
  const uint64_t base = m.files[0].header.data_offset() +
                        m.tensor(m.tensors.at("a")).begin;
  const PlannedEntry& e = plan.entries[0];
  EXPECT_EQ(e.output_size, 2u * 3 * 4);
  EXPECT_EQ(e.end, e.output_size);
  ASSERT_EQ(e.spans.size(), 4u);
  const uint64_t want[4][2] = {{32 + 8, 8}, {32 + 24, 4}, {64 + 8, 8}, {64 + 24, 4}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(e.spans[i].offset, base + want[i][0]) << i;
    EXPECT_EQ(e.spans[i].length, want[i][1]) << i;
  }
  EXPECT_EQ(plan.total_bytes, 24u);
}

TEST_F(FetchPlanTest, OffsetAndLimitCountInTheSlicedOutput) {
  v1::FetchRequest r = Request("m", {"a"});
  AddDim(r, 0, {});
  AddDim(r, 0, {{0, 1}});  // One column: 16 bytes.
  r.mutable_tensors(0)->set_offset(4);
  r.mutable_tensors(0)->set_limit(8);
  ASSERT_OK_AND_ASSIGN(FetchPlan plan, Plan(r));
  EXPECT_EQ(plan.entries[0].output_size, 16u);
  EXPECT_EQ(plan.entries[0].begin, 4u);
  EXPECT_EQ(plan.entries[0].end, 12u);
  r.mutable_tensors(0)->set_offset(17);
  r.mutable_tensors(0)->set_limit(0);
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kOutOfRange,
                                HasSubstr("output has 16")));
}

TEST_F(FetchPlanTest, SelectionOfTheWrongRankIsInvalid) {
  v1::FetchRequest r = Request("m", {"a"});
  AddDim(r, 0, {{0, 1}});
  EXPECT_THAT(Plan(r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor 'a' F32 [4, 8]: selection: 1 dimension "
                                 "selections for a tensor of rank 2")));
  AddDim(r, 0, {});
  AddDim(r, 0, {});
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(FetchPlanTest, SelectionOutsideTheShapeIsOutOfRange) {
  v1::FetchRequest r = Request("m", {"b"});
  AddDim(r, 0, {{8, 17}});
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kOutOfRange,
                                HasSubstr("range [8, 17) is past the end")));
}

TEST_F(FetchPlanTest, ReversedRangeIsInvalid) {
  v1::FetchRequest r = Request("m", {"b"});
  AddDim(r, 0, {{9, 3}});
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("start > stop")));
}

TEST_F(FetchPlanTest, EmptySelectionIsAnEmptyEntry) {
  v1::FetchRequest r = Request("m", {"a"});
  AddDim(r, 0, {{2, 2}});
  AddDim(r, 0, {});
  ASSERT_OK_AND_ASSIGN(FetchPlan plan, Plan(r));
  EXPECT_EQ(plan.entries[0].output_size, 0u);
  EXPECT_TRUE(plan.entries[0].spans.empty());
  EXPECT_EQ(plan.total_bytes, 0u);
}

TEST_F(FetchPlanTest, FragmentedRequestsAreRefusedNamingTheLimit) {
  limits_.max_spans = 6;
  v1::FetchRequest r = Request("m", {"a", "a"});
  for (int e = 0; e < 2; ++e) {
    AddDim(r, e, {});
    AddDim(r, e, {{0, 1}});  // 4 spans each: 8 in all.
  }
  EXPECT_THAT(Plan(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("needs 4 byte spans (4 more before it "
                                          "in the request), over the limit of "
                                          "6 spans per request (max_spans)")));
  limits_.max_spans = 8;
  EXPECT_OK(Plan(r));
}

// Issue 11, item 1: a request may not ask for more bytes than the model's
// tensors hold (160 here), whether by repeating entries or ranges.
TEST_F(FetchPlanTest, BytesAskedForMoreThanOnceAreRefused) {
  EXPECT_THAT(Plan(Request("m", {"a", "b", "a"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than 160 bytes, all the model's tensors "
                                 "hold (by entry 2): bytes requested more than "
                                 "once")));
  v1::FetchRequest rows = Request("m", {"a"});
  AddDim(rows, 0, {{0, 4}, {0, 4}});  // Every row twice: 256 bytes.
  AddDim(rows, 0, {});
  EXPECT_THAT(Plan(rows), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("more than once")));
  // Disjoint parts of one tensor, as a resuming client asks, are fine.
  v1::FetchRequest parts = Request("m", {"a", "a", "b"});
  parts.mutable_tensors(0)->set_limit(64);
  parts.mutable_tensors(1)->set_offset(64);
  EXPECT_OK(Plan(parts).status());
}

TEST_F(FetchPlanTest, MemoryBytesCountsEntriesAndTheirSpans) {
  ASSERT_OK_AND_ASSIGN(FetchPlan whole, Plan(Request("m", {"a", "b"})));
  // A whole tensor's one span is inline.
  EXPECT_EQ(whole.MemoryBytes(),
            sizeof(FetchPlan) + 2 * sizeof(PlannedEntry));
  v1::FetchRequest r = Request("m", {"a"});
  AddDim(r, 0, {});
  AddDim(r, 0, {{0, 1}});  // A span per row: 4.
  ASSERT_OK_AND_ASSIGN(FetchPlan column, Plan(r));
  EXPECT_GE(column.MemoryBytes(), sizeof(FetchPlan) + sizeof(PlannedEntry) +
                                      4 * sizeof(SourceSpan));
}

TEST_F(FetchPlanTest, ChunkSizeHintIsClamped) {
  v1::FetchRequest r = Request("m", {"a"});
  r.set_chunk_size_hint(1);
  ASSERT_OK_AND_ASSIGN(FetchPlan small, Plan(r));
  EXPECT_EQ(small.chunk_bytes, limits_.min_chunk_bytes);
  r.set_chunk_size_hint(UINT32_MAX);
  ASSERT_OK_AND_ASSIGN(FetchPlan big, Plan(r));
  EXPECT_EQ(big.chunk_bytes, limits_.max_chunk_bytes);
}

v1::ReadBytesRequest BytesRequest(std::string model, std::string file,
                                  uint64_t offset, uint64_t length) {
  v1::ReadBytesRequest r;
  r.set_model(std::move(model));
  r.set_file(std::move(file));
  r.set_offset(offset);
  r.set_length(length);
  return r;
}

TEST_F(FetchPlanTest, ReadBytesIsOneEntryOverTheWholeFile) {
  const Model& m = *repo_->Find("m");
  const uint64_t size = m.files[0].file->size();
  ASSERT_OK_AND_ASSIGN(
      FetchPlan plan,
      PlanFileBytes(repo_->Find("m"),
                    BytesRequest("m", "model.safetensors", 3, 100), limits_));
  ASSERT_EQ(plan.entries.size(), 1u);
  EXPECT_EQ(plan.entries[0].file, &m.files[0]);
  ASSERT_EQ(plan.entries[0].spans.size(), 1u);
  EXPECT_EQ(plan.entries[0].spans[0].offset, 0u);
  EXPECT_EQ(plan.entries[0].spans[0].length, size);
  EXPECT_EQ(plan.entries[0].output_size, size);
  EXPECT_EQ(plan.entries[0].begin, 3u);
  EXPECT_EQ(plan.entries[0].end, 103u);
  EXPECT_EQ(plan.total_bytes, 100u);
  // Length 0: to the end, header included from offset 0.
  ASSERT_OK_AND_ASSIGN(
      plan, PlanFileBytes(repo_->Find("m"),
                          BytesRequest("m", "model.safetensors", 0, 0), limits_));
  EXPECT_EQ(plan.total_bytes, size);
}

TEST_F(FetchPlanTest, ReadBytesRefusesWhatTheModelDoesNotHave) {
  const uint64_t size = repo_->Find("m")->files[0].file->size();
  EXPECT_THAT(PlanFileBytes(repo_->Find("m"),
                            BytesRequest("m", "other.safetensors", 0, 1), limits_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no file")));
  EXPECT_THAT(PlanFileBytes(repo_->Find("m"),
                            BytesRequest("m", "../m/model.safetensors", 0, 1),
                            limits_),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(PlanFileBytes(repo_->Find("m"),
                            BytesRequest("m", "model.safetensors", size - 10, 11),
                            limits_),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("the file has")));
  EXPECT_THAT(PlanFileBytes(repo_->Find("m"),
                            BytesRequest("m", "model.safetensors", size + 1, 0),
                            limits_),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(PlanFileBytes(repo_->Find("nope"),
                            BytesRequest("nope", "model.safetensors", 0, 1), limits_),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(PlanFileBytes(repo_->Find("bad"),
                            BytesRequest("bad", "model.safetensors", 0, 1), limits_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::ReadBytesRequest pinned = BytesRequest("m", "model.safetensors", 0, 1);
  pinned.set_revision("0000000000000000");
  EXPECT_THAT(PlanFileBytes(repo_->Find("m"), pinned, limits_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("changed")));
}

}  // namespace
}  // namespace weightserver::server
