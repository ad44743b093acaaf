// Copyright 2026 The Weightserver Authors.
//
// tests/client/selection_test.cc: tensor-parallel shards (even and fused),
// their refusals, and selections measured against a table of contents entry.
#include "weightserver/client/selection.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::StatusIs;

format::ModelTensor Toc(std::string name, std::string dtype,
                        std::vector<uint64_t> shape) {
  return format::ModelTensor{std::move(name), std::move(dtype),
                             std::move(shape)};
}

TEST(ShardDimTest, RowsAndColumnsSplitEvenly) {
  for (int world : {1, 2, 4, 8}) {
    uint64_t next = 0;
    for (int rank = 0; rank < world; ++rank) {
      ASSERT_OK_AND_ASSIGN(Selection rows, ShardDim({64, 24}, 0, rank, world));
      ASSERT_EQ(rows.dims.size(), 2u);
      ASSERT_EQ(rows.dims[0].size(), 1u);
      EXPECT_EQ(rows.dims[0][0].start, next);
      EXPECT_EQ(rows.dims[0][0].size(), 64u / world);
      EXPECT_TRUE(rows.dims[1].empty());
      next = rows.dims[0][0].stop;
    }
    EXPECT_EQ(next, 64u);
  }
  ASSERT_OK_AND_ASSIGN(Selection cols, ShardDim({64, 24}, 1, 3, 4));
  EXPECT_EQ(SelectionText(cols), ":,18:24");
  ASSERT_OK_AND_ASSIGN(Selection last, ShardDim({64, 24}, -1, 3, 4));
  EXPECT_EQ(last, cols);
}

TEST(ShardDimTest, RefusesWhatDoesNotSplit) {
  EXPECT_THAT(ShardDim({10, 4}, 0, 0, 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dimension 0 of shape [10, 4] (size 10) does "
                                 "not split evenly over 4 ranks")));
  EXPECT_THAT(ShardDim({8, 4}, 2, 0, 2),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("dimension 2 of a tensor of shape [8, 4]")));
  EXPECT_THAT(ShardDim({8, 4}, -3, 0, 2),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(ShardDim({}, 0, 0, 1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(ShardDim({8, 4}, 0, 2, 2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rank 2 is outside [0, 2)")));
  EXPECT_THAT(ShardDim({8, 4}, 0, -1, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ShardDim({8, 4}, 0, 0, 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("world size 0")));
}

TEST(ShardFusedTest, EachBlockIsShardedThenConcatenated) {
  // [q 8 | k 4 | v 4] rows, 2 ranks.
  ASSERT_OK_AND_ASSIGN(Selection r0, ShardFused({16, 3}, 0, {8, 4, 4}, 0, 2));
  EXPECT_THAT(r0.dims[0],
              ElementsAre(Range{0, 4}, Range{8, 10}, Range{12, 14}));
  ASSERT_OK_AND_ASSIGN(Selection r1, ShardFused({16, 3}, 0, {8, 4, 4}, 1, 2));
  EXPECT_EQ(SelectionText(r1), "4:8+10:12+14:16,:");
  // One block is ShardDim.
  ASSERT_OK_AND_ASSIGN(Selection one, ShardFused({16, 3}, 0, {16}, 1, 4));
  ASSERT_OK_AND_ASSIGN(Selection even, ShardDim({16, 3}, 0, 1, 4));
  EXPECT_EQ(one, even);
  // Gated MLP fused along the columns: [gate 6 | up 6].
  ASSERT_OK_AND_ASSIGN(Selection cols, ShardFused({2, 12}, -1, {6, 6}, 2, 3));
  EXPECT_EQ(SelectionText(cols), ":,4:6+10:12");
}

TEST(ShardFusedTest, RefusesBadBlocks) {
  EXPECT_THAT(ShardFused({16, 3}, 0, {8, 4}, 0, 2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("add up to 12, dimension 0 of shape [16, 3] "
                                 "has 16")));
  EXPECT_THAT(
      ShardFused({16, 3}, 0, {8, 4, 8}, 0, 2),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceed")));
  EXPECT_THAT(ShardFused({16, 3}, 0, {8, 6, 2}, 0, 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("fused block 1 of size 6 does not split "
                                 "evenly over 4 ranks")));
  EXPECT_THAT(ShardFused({16, 3}, 0, {}, 0, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ShardFused({16, 3}, 5, {16}, 0, 2),
              StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(MeasureSelectionTest, ShapeAndSizeOfTheResult) {
  format::ModelTensor w = Toc("w", "BF16", {16, 3});
  ASSERT_OK_AND_ASSIGN(Selection r1, ShardFused({16, 3}, 0, {8, 4, 4}, 1, 2));
  ASSERT_OK_AND_ASSIGN(format::SliceSummary s, MeasureSelection(w, r1));
  EXPECT_THAT(s.shape, ElementsAre(8, 3));
  EXPECT_EQ(s.byte_size, 8u * 3 * 2);
  EXPECT_EQ(s.span_count, 1u + 1 + 1);
}

TEST(MeasureSelectionTest, ErrorsNameTheTensorAndSelection) {
  format::ModelTensor w = Toc("w", "F32", {4, 4});
  Selection bad{{{}, {{2, 9}}}};
  EXPECT_THAT(MeasureSelection(w, bad),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("tensor 'w' F32 [4, 4]: selection :,2:9: "
                                 "dimension 1 (size 4)")));
  EXPECT_THAT(MeasureSelection(w, Selection{{{}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("selection has 1 dimensions")));
  EXPECT_THAT(MeasureSelection(Toc("x", "Q4_K", {4}), Selection{{{}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown to this client")));
}

TEST(SelectionTest, TextNamesEveryDimension) {
  EXPECT_EQ(SelectionText(Selection{{{}, {{1, 2}, {5, 7}}}}), ":,1:2+5:7");
  EXPECT_EQ(SelectionText(Selection{}), "");
}

}  // namespace
}  // namespace weightserver::client
