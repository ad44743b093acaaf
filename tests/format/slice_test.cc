// Copyright 2026 The Weightserver Authors.
//
// tests/format/slice_test.cc: the slice planner against the reference's
// slice.rs vectors, its refusals, its bounds, and a naive element-by-element
// slicer on thousands of random shapes, dtypes and selections.
#include "weightserver/format/slice.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "weightserver/format/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/safetensors_builder.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::format {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::FormatErrorIs;
using ::weightserver::testing::StatusIs;

// {} for a whole dimension, else the listed ranges.
std::vector<DimRanges> Sel(std::vector<std::vector<IndexRange>> dims) {
  return dims;
}

std::vector<ByteSpan> Spans(DType t, std::vector<uint64_t> shape,
                            std::vector<DimRanges> sel) {
  absl::StatusOr<SlicePlan> p = PlanSlice(t, shape, sel);
  EXPECT_OK(p.status());
  return p.ok() ? p->spans : std::vector<ByteSpan>{};
}

// slice.rs:549-718: F32 [1, 2, 3] (and [2, 3]) holding 0.0 .. 5.0.
TEST(SliceReferenceTest, Helpers) {
  ASSERT_OK_AND_ASSIGN(SlicePlan all,
                       PlanSlice(DType::kF32, {1, 2, 3}, Sel({{}, {}, {}})));
  EXPECT_EQ(all.byte_size, 24u);
  EXPECT_THAT(all.shape, ElementsAre(1, 2, 3));
  ASSERT_OK_AND_ASSIGN(SlicePlan one, PlanSlice(DType::kF32, {1, 2, 3},
                                                Sel({{}, {{0, 1}}, {}})));
  EXPECT_EQ(one.byte_size, 12u);
  EXPECT_THAT(one.shape, ElementsAre(1, 1, 3));
}

TEST(SliceReferenceTest, Dummy) {
  EXPECT_THAT(Spans(DType::kF32, {1, 2, 3}, {}), ElementsAre(ByteSpan{0, 24}));
  EXPECT_THAT(Spans(DType::kF32, {1, 2, 3}, Sel({{}, {}, {}})),
              ElementsAre(ByteSpan{0, 24}));
  // The reference's TooManySlices (and too few: we want one per dimension).
  EXPECT_THAT(
      PlanSlice(DType::kF32, {1, 2, 3}, Sel({{}, {}, {}, {}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("selection has 4 dimensions, the tensor has 3")));
  EXPECT_THAT(MeasureSlice(DType::kF32, {1, 2, 3}, Sel({{}, {}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SliceReferenceTest, Variety) {
  EXPECT_THAT(Spans(DType::kF32, {1, 2, 3}, Sel({{{0, 1}}, {}, {}})),
              ElementsAre(ByteSpan{0, 24}));
  EXPECT_THAT(Spans(DType::kF32, {1, 2, 3}, Sel({{}, {{0, 1}}, {}})),
              ElementsAre(ByteSpan{0, 12}));
  EXPECT_THAT(Spans(DType::kF32, {1, 2, 3}, Sel({{}, {}, {{0, 1}}})),
              ElementsAre(ByteSpan{0, 4}, ByteSpan{12, 4}));
  EXPECT_THAT(Spans(DType::kF32, {1, 2, 3}, Sel({{}, {{1, 2}}, {{0, 1}}})),
              ElementsAre(ByteSpan{12, 4}));
}

TEST(SliceReferenceTest, Variety2) {
  EXPECT_THAT(Spans(DType::kF32, {2, 3}, Sel({{}, {{1, 3}}})),
              ElementsAre(ByteSpan{4, 8}, ByteSpan{16, 8}));
}

TEST(SliceTest, ScalarIsOneSpan) {
  ASSERT_OK_AND_ASSIGN(SlicePlan p, PlanSlice(DType::kI32, {}, {}));
  EXPECT_THAT(p.spans, ElementsAre(ByteSpan{0, 4}));
  EXPECT_TRUE(p.shape.empty());
}

TEST(SliceTest, SeveralRangesConcatenateAndAdjacentOnesMerge) {
  // A fused QKV weight [q=4 | k=2 | v=2] x 3 columns (U8): rank 0 of 2 takes
  // q[0:2], k[0:1], v[0:1].
  ASSERT_OK_AND_ASSIGN(
      SlicePlan p,
      PlanSlice(DType::kU8, {8, 3}, Sel({{{0, 2}, {4, 5}, {6, 7}}, {}})));
  EXPECT_THAT(p.shape, ElementsAre(4, 3));
  EXPECT_THAT(p.spans,
              ElementsAre(ByteSpan{0, 6}, ByteSpan{12, 3}, ByteSpan{18, 3}));
  // [0:2] + [2:4] is [0:4]; a range then its repeat is two spans.
  EXPECT_THAT(Spans(DType::kU8, {8}, Sel({{{0, 2}, {2, 4}}})),
              ElementsAre(ByteSpan{0, 4}));
  EXPECT_THAT(Spans(DType::kU8, {8}, Sel({{{0, 2}, {0, 2}}})),
              ElementsAre(ByteSpan{0, 2}, ByteSpan{0, 2}));
  // Runs merge across rows: columns [3:4] + [0:1] of consecutive rows.
  EXPECT_THAT(Spans(DType::kU8, {3, 4}, Sel({{}, {{0, 1}, {3, 4}}})),
              ElementsAre(ByteSpan{0, 1}, ByteSpan{3, 2}, ByteSpan{7, 2},
                          ByteSpan{11, 1}));
}

TEST(SliceTest, EmptyRangesGiveEmptyOutput) {
  ASSERT_OK_AND_ASSIGN(SlicePlan p,
                       PlanSlice(DType::kF16, {4, 5}, Sel({{{2, 2}}, {}})));
  EXPECT_THAT(p.shape, ElementsAre(0, 5));
  EXPECT_EQ(p.byte_size, 0u);
  EXPECT_TRUE(p.spans.empty());
  // [n, n) at the end of a dimension is empty, not out of range.
  ASSERT_OK_AND_ASSIGN(SliceSummary s,
                       MeasureSlice(DType::kF16, {4, 5}, Sel({{}, {{5, 5}}})));
  EXPECT_EQ(s.span_count, 0u);
  // A zero-sized tensor: only empty selections.
  ASSERT_OK_AND_ASSIGN(SlicePlan z,
                       PlanSlice(DType::kF32, {0, 4}, Sel({{}, {{1, 3}}})));
  EXPECT_THAT(z.shape, ElementsAre(0, 2));
}

TEST(SliceTest, RangePastTheDimensionIsOutOfRange) {
  EXPECT_THAT(PlanSlice(DType::kF32, {10, 5}, Sel({{}, {{0, 20}}})),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("dimension 1 (size 5): range [0, 20)")));
  EXPECT_THAT(PlanSlice(DType::kF32, {10, 5}, Sel({{{0, 1}, {10, 11}}, {}})),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(
      PlanSlice(DType::kF32, {10, 5}, Sel({{{UINT64_MAX, UINT64_MAX}}, {}})),
      StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(SliceTest, StartAfterStopIsInvalidNotAnUnderflow) {
  // The reference underflows here (issues #843, #815).
  EXPECT_THAT(
      PlanSlice(DType::kF32, {10, 5}, Sel({{{4, 2}}, {}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("dimension 0: range [4, 2) has start > stop")));
}

TEST(SliceTest, SubByteCutsMustFallOnBytes) {
  // F4 [3, 2]: one row is one byte; half a row is not.
  EXPECT_THAT(Spans(DType::kF4, {3, 2}, Sel({{{1, 3}}, {}})),
              ElementsAre(ByteSpan{1, 2}));
  EXPECT_THAT(PlanSlice(DType::kF4, {3, 2}, Sel({{}, {{0, 1}}})),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kMisalignedSlice));
  // F4 [3, 3]: rows start at bit 0, 12, 24; row 1 starts inside a byte.
  EXPECT_THAT(PlanSlice(DType::kF4, {3, 3}, Sel({{{1, 2}}, {}})),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kMisalignedSlice));
  EXPECT_THAT(Spans(DType::kF4, {4, 3}, Sel({{{2, 4}}, {}})),
              ElementsAre(ByteSpan{3, 3}));
  // F6 [4]: 3 bytes; [0:4] only (bit 6, 12, 18 are inside bytes).
  EXPECT_THAT(PlanSlice(DType::kF6E2M3, {8}, Sel({{{4, 8}}})),
              ::weightserver::testing::IsOk());
  EXPECT_THAT(PlanSlice(DType::kF6E3M2, {8}, Sel({{{2, 8}}})),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kMisalignedSlice));
  // A source that is not a whole number of bytes.
  EXPECT_THAT(MeasureSlice(DType::kF4, {3}, {}),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kMisalignedSlice));
}

TEST(SliceTest, OverflowIsChecked) {
  const uint64_t big = uint64_t{1} << 62;
  EXPECT_THAT(MeasureSlice(DType::kF64, {big}, {}),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kValidationOverflow));
  EXPECT_THAT(MeasureSlice(DType::kU8, {4, big}, {}),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kValidationOverflow));
  // Repeated ranges can make the result larger than the source.
  const uint64_t n = uint64_t{1} << 59;
  EXPECT_THAT(
      MeasureSlice(DType::kU8, {n}, Sel({{{0, n}, {0, n}, {0, n}, {0, n}}})),
      FormatErrorIs(absl::StatusCode::kInvalidArgument,
                    ErrorKind::kValidationOverflow));
}

TEST(SliceTest, SpansAreCountedWithoutBeingMaterialised) {
  // 2^31 rows of F16, one column of every row: 2^31 spans, counted at once.
  const uint64_t rows = uint64_t{1} << 31;
  ASSERT_OK_AND_ASSIGN(SliceSummary s, MeasureSlice(DType::kF16, {rows, 4},
                                                    Sel({{}, {{1, 2}}})));
  EXPECT_EQ(s.span_count, rows);
  EXPECT_EQ(s.byte_size, rows * 2);
  EXPECT_THAT(PlanSlice(DType::kF16, {rows, 4}, Sel({{}, {{1, 2}}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2147483648 byte spans, over the limit of "
                                 "1048576 (max_spans)")));
  SliceOptions tight;
  tight.max_spans = 9;
  EXPECT_THAT(
      PlanSlice(DType::kF16, {10, 4}, Sel({{}, {{1, 2}}}), tight),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_spans")));
  tight.max_spans = 10;
  EXPECT_OK(
      PlanSlice(DType::kF16, {10, 4}, Sel({{}, {{1, 2}}}), tight).status());
}

// The naive slicer: every output element, in order, copied bit by bit (bit p
// of a buffer is bit p % 8 of byte p / 8). It also reports whether every cut
// (each end of a maximal run of consecutive source elements) is on a byte and
// how many such runs there are.
struct NaiveSlice {
  std::vector<uint64_t> shape;
  std::string bytes;
  bool aligned = true;
  uint64_t runs = 0;
};

NaiveSlice Naive(int bits, const std::vector<uint64_t>& shape,
                 const std::vector<DimRanges>& sel, const std::string& src) {
  NaiveSlice out;
  const size_t rank = shape.size();
  std::vector<std::vector<uint64_t>> picked(rank);
  uint64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (sel.empty() || sel[d].empty()) {
      for (uint64_t i = 0; i < shape[d]; ++i) picked[d].push_back(i);
    } else {
      for (const IndexRange& r : sel[d]) {
        for (uint64_t i = r.start; i < r.stop; ++i) picked[d].push_back(i);
      }
    }
    out.shape.push_back(picked[d].size());
    count *= picked[d].size();
  }
  std::vector<uint64_t> stride(rank, 1);
  for (int d = static_cast<int>(rank) - 2; d >= 0; --d) {
    stride[d] = stride[d + 1] * shape[d + 1];
  }
  std::vector<bool> bitv;
  std::vector<uint64_t> pos(rank, 0);
  int64_t prev = -2;
  for (uint64_t e = 0; e < count; ++e) {
    uint64_t flat = 0;
    for (size_t d = 0; d < rank; ++d) flat += picked[d][pos[d]] * stride[d];
    if (static_cast<int64_t>(flat) != prev + 1) {  // A new run: two cuts.
      if (prev >= 0 && (prev + 1) * bits % 8 != 0) out.aligned = false;
      if (flat * bits % 8 != 0) out.aligned = false;
      ++out.runs;
    }
    prev = static_cast<int64_t>(flat);
    for (int b = 0; b < bits; ++b) {
      const uint64_t p = flat * bits + b;
      bitv.push_back((static_cast<uint8_t>(src[p / 8]) >> (p % 8)) & 1);
    }
    for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
      if (++pos[d] < picked[d].size()) break;
      pos[d] = 0;
    }
  }
  if (prev >= 0 && (prev + 1) * bits % 8 != 0) out.aligned = false;
  out.bytes.assign((bitv.size() + 7) / 8, '\0');
  for (size_t p = 0; p < bitv.size(); ++p) {
    if (bitv[p]) out.bytes[p / 8] |= static_cast<char>(1 << (p % 8));
  }
  return out;
}

TEST(SliceRandomTest, MatchesNaiveSlicer) {
  std::mt19937_64 rng(20260101);
  auto below = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  int planned = 0, misaligned = 0, refused = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    const DType dtype = AllDTypes()[below(kNumDTypes)];
    const int bits = DTypeBits(dtype);
    std::vector<uint64_t> shape(below(5));
    uint64_t elements = 1;
    for (uint64_t& d : shape) {
      d = below(7);
      elements *= d;
    }
    if (elements * bits % 8 != 0) continue;  // Not a valid source tensor.
    std::vector<DimRanges> sel;
    const bool whole = below(8) == 0;
    const bool wrong = below(20) == 0;  // An out-of-range or reversed range.
    for (size_t d = 0; !whole && d < shape.size(); ++d) {
      DimRanges ranges;
      const uint64_t n = below(4);
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t a = below(shape[d] + 1), b = below(shape[d] + 1);
        if (a > b) std::swap(a, b);
        if (below(4) == 0) b = std::min(shape[d], a + 1);
        ranges.push_back({a, b});
      }
      sel.push_back(std::move(ranges));
    }
    if (wrong && !sel.empty()) {
      const size_t d = below(sel.size());
      const bool reversed = below(2) == 0;
      sel[d].push_back(reversed ? IndexRange{2, 1}
                                : IndexRange{0, shape[d] + 1 + below(3)});
      EXPECT_THAT(MeasureSlice(dtype, shape, sel),
                  StatusIs(reversed ? absl::StatusCode::kInvalidArgument
                                    : absl::StatusCode::kOutOfRange));
      ++refused;
      continue;
    }
    std::string src((elements * bits + 7) / 8, '\0');
    for (char& c : src) c = static_cast<char>(rng());
    const NaiveSlice want = Naive(bits, shape, sel, src);
    const std::string what =
        absl::StrCat(DTypeName(dtype), " [", absl::StrJoin(shape, ","),
                     "] iteration ", iter);
    absl::StatusOr<SliceSummary> measured = MeasureSlice(dtype, shape, sel);
    absl::StatusOr<SlicePlan> plan = PlanSlice(dtype, shape, sel);
    if (!want.aligned) {
      EXPECT_THAT(plan, FormatErrorIs(absl::StatusCode::kInvalidArgument,
                                      ErrorKind::kMisalignedSlice))
          << what;
      EXPECT_FALSE(measured.ok()) << what;
      ++misaligned;
      continue;
    }
    ASSERT_OK(plan.status()) << what;
    ASSERT_OK(measured.status()) << what;
    EXPECT_EQ(plan->shape, want.shape) << what;
    EXPECT_EQ(measured->shape, want.shape) << what;
    EXPECT_EQ(plan->byte_size, want.bytes.size()) << what;
    EXPECT_EQ(measured->span_count, plan->spans.size()) << what;
    EXPECT_EQ(plan->spans.size(), want.runs) << what;
    std::string got;
    for (const ByteSpan& s : plan->spans) {
      ASSERT_GT(s.length, 0u) << what;
      ASSERT_LE(s.offset + s.length, src.size()) << what;
      got += src.substr(s.offset, s.length);
    }
    EXPECT_EQ(got, want.bytes) << what;
    ++planned;
  }
  // The generator must exercise every outcome.
  EXPECT_GT(planned, 3000);
  EXPECT_GT(misaligned, 50);
  EXPECT_GT(refused, 50);
}

}  // namespace
}  // namespace weightserver::format
