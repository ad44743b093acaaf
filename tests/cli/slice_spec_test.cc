// Copyright 2026 The Weightserver Authors.
//
// tests/cli/slice_spec_test.cc: weightctl's --slice SPEC and --shard parsers,
// and the fetch list they make against a table of contents.
#include "cli/slice_spec.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::cli {
namespace {

using client::Range;
using client::Selection;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::weightserver::testing::StatusIs;

TEST(ParseSliceSpecTest, WholeDimensionsRangesAndConcatenations) {
  ASSERT_OK_AND_ASSIGN(Selection s, ParseSliceSpec("0:512+1024:1088,:"));
  ASSERT_EQ(s.dims.size(), 2u);
  EXPECT_THAT(s.dims[0], ElementsAre(Range{0, 512}, Range{1024, 1088}));
  EXPECT_THAT(s.dims[1], IsEmpty());
  ASSERT_OK_AND_ASSIGN(Selection one, ParseSliceSpec("3:4"));
  EXPECT_THAT(one.dims, ElementsAre(ElementsAre(Range{3, 4})));
  ASSERT_OK_AND_ASSIGN(Selection cols, ParseSliceSpec(":,:,7:7"));
  EXPECT_EQ(client::SelectionText(cols), ":,:,7:7");
  ASSERT_OK_AND_ASSIGN(Selection big, ParseSliceSpec("0:18446744073709551615"));
  EXPECT_EQ(big.dims[0][0].stop, UINT64_MAX);
}

TEST(ParseSliceSpecTest, BadSpecsAreClearErrors) {
  struct Case {
    std::string spec, message;
  };
  const Case cases[] = {
      {"", "empty"},
      {"0:4,", "dimension 1 is empty"},
      {",:", "dimension 0 is empty"},
      {"5", "'5' is not a range a:b"},
      {"1:2:3", "'1:2:3' is not a range a:b"},
      {"a:b", "needs two non-negative integers"},
      {"-1:3", "needs two non-negative integers"},
      {":3", "needs two non-negative integers"},
      {"0: 3", "needs two non-negative integers"},
      {"0:3+", "dimension 0: '' is not a range"},
      {"0:18446744073709551616", "needs two non-negative integers"},
      {":,5:3", "dimension 1: range 5:3 has start > stop"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(
        ParseSliceSpec(c.spec),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.spec;
  }
  EXPECT_THAT(ParseSliceSpec("x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("each dimension is ':' or ranges 'a:b'")));
}

TEST(ParseSliceFlagTest, NameIsEverythingBeforeTheLastEquals) {
  ASSERT_OK_AND_ASSIGN(client::TensorSlice s,
                       ParseSliceFlag("a=b.weight=0:2,:"));
  EXPECT_EQ(s.name, "a=b.weight");
  EXPECT_EQ(client::SelectionText(s.selection), "0:2,:");
  EXPECT_THAT(ParseSliceFlag("w"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("expected NAME=SPEC")));
  EXPECT_THAT(ParseSliceFlag("=0:1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSliceFlag("w="), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("--slice 'w=': slice")));
}

TEST(ParseShardFlagTest, DimRankWorld) {
  ASSERT_OK_AND_ASSIGN(ShardSpec s, ParseShardFlag("1/3/8"));
  EXPECT_EQ(s.dim, 1);
  EXPECT_EQ(s.rank, 3);
  EXPECT_EQ(s.world, 8);
  ASSERT_OK_AND_ASSIGN(ShardSpec last, ParseShardFlag("-1/0/2"));
  EXPECT_EQ(last.dim, -1);
  for (const char* bad : {"1/2", "1/2/3/4", "x/0/2", "0/-1/2", "0/0/0", "0/2/2",
                          "0 /0/2", "", "0/0/99999999999"}) {
    EXPECT_THAT(ParseShardFlag(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

client::ModelInfo Toc() {
  client::ModelInfo m;
  m.name = "m";
  m.tensors = {{"w", "F32", {8, 4}}, {"v", "F32", {6}}, {"s", "F32", {}}};
  m.Reindex();
  return m;
}

TEST(FetchListTest, TensorsShardedAndSlicesPadded) {
  const std::vector<std::string> tensors = {"w"};
  ASSERT_OK_AND_ASSIGN(client::TensorSlice v, ParseSliceFlag("v=1:3"));
  ASSERT_OK_AND_ASSIGN(client::TensorSlice w, ParseSliceFlag("w=0:2"));
  ASSERT_OK_AND_ASSIGN(auto list,
                       FetchList(Toc(), tensors, {v}, ShardSpec{1, 1, 2}));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "w");
  EXPECT_EQ(client::SelectionText(list[0].selection), ":,2:4");
  EXPECT_EQ(list[1].name, "v");
  ASSERT_OK_AND_ASSIGN(auto padded, FetchList(Toc(), {}, {w}, std::nullopt));
  EXPECT_EQ(client::SelectionText(padded[0].selection), "0:2,:");
  ASSERT_OK_AND_ASSIGN(auto whole, FetchList(Toc(), tensors, {}, std::nullopt));
  EXPECT_TRUE(whole[0].selection.whole());
}

TEST(FetchListTest, ShardAloneShardsEveryTensorThatSplits) {
  ASSERT_OK_AND_ASSIGN(auto list, FetchList(Toc(), {}, {}, ShardSpec{0, 1, 2}));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(client::SelectionText(list[0].selection), "4:8,:");
  EXPECT_EQ(client::SelectionText(list[1].selection), "3:6");
  EXPECT_TRUE(list[2].selection.whole());  // "s", a scalar: replicated.
  ASSERT_OK_AND_ASSIGN(list, FetchList(Toc(), {}, {}, ShardSpec{0, 0, 4}));
  EXPECT_EQ(client::SelectionText(list[0].selection), "0:2,:");
  EXPECT_TRUE(list[1].selection.whole());  // 6 rows do not split over 4.
}

TEST(FetchListTest, Errors) {
  const std::vector<std::string> w = {"w"};
  ASSERT_OK_AND_ASSIGN(client::TensorSlice w2, ParseSliceFlag("w=0:2"));
  ASSERT_OK_AND_ASSIGN(client::TensorSlice too_many, ParseSliceFlag("v=0:2,:"));
  ASSERT_OK_AND_ASSIGN(client::TensorSlice nope, ParseSliceFlag("nope=0:2"));
  EXPECT_THAT(FetchList(Toc(), w, {w2}, std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor 'w' is named twice")));
  EXPECT_THAT(FetchList(Toc(), {}, {too_many}, std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2 dimensions given, the tensor has 1")));
  EXPECT_THAT(
      FetchList(Toc(), {}, {nope}, std::nullopt),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no tensor 'nope'")));
  const std::vector<std::string> s = {"s"};
  EXPECT_THAT(FetchList(Toc(), s, {}, ShardSpec{0, 0, 2}),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("tensor 's'")));
  EXPECT_THAT(FetchList(Toc(), w, {}, ShardSpec{1, 0, 3}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not split evenly over 3 ranks")));
}

}  // namespace
}  // namespace weightserver::cli
