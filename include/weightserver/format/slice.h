// Copyright 2026 The Weightserver Authors.
//
// weightserver/format/slice.h: plan a slice of a tensor as byte spans of its data.
//
// A selection gives, for every dimension, a list of half-open index ranges
// [start, stop) that are concatenated in order; an empty list selects the whole
// dimension. The result is the dense row-major (C order) tensor of the
// selected indices. PlanSlice returns its shape and the byte spans of the
// source tensor that, concatenated in order, are exactly the result's bytes.
// Spans are relative to the tensor's first byte and adjacent spans are merged.
//
// Differences from the reference's SliceIterator (safetensors.md §6): spans
// are merged; several ranges per dimension are allowed (a fused QKV shard);
// start > stop is refused (the reference underflows, issues #843/#815); an
// empty range at the end of a dimension ([n, n)) is accepted; the span count is
// computed without materialising the spans and bounded (SliceOptions).
//
// Sub-byte dtypes (F4, F6_*) are allowed only where every cut of the source
// (each start and end of a maximal contiguous run of selected elements) falls
// on a byte boundary; otherwise MisalignedSlice.
//
// Example:
//   // F32 [1, 2, 3], selection [:, :, 0:1] (the reference's slice.rs vector):
//   std::vector<DimRanges> sel = {{}, {}, {{0, 1}}};
//   ASSIGN_OR_RETURN(SlicePlan p, PlanSlice(DType::kF32, {1, 2, 3}, sel));
//   // p.shape == {1, 2, 1}, p.byte_size == 8, p.spans == {{0, 4}, {12, 4}}
//
//   // Only the size and the number of spans, in O(dims + ranges):
//   ASSIGN_OR_RETURN(SliceSummary s, MeasureSlice(DType::kF32, shape, sel));
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_FORMAT_SLICE_H_
#define WEIGHTSERVER_FORMAT_SLICE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "weightserver/format/dtype.h"

namespace weightserver::format {

// Indices [start, stop) along one dimension.
struct IndexRange {
  uint64_t start = 0;
  uint64_t stop = 0;

  uint64_t size() const { return stop - start; }
  friend bool operator==(const IndexRange&, const IndexRange&) = default;
};

// The ranges selected along one dimension, concatenated; empty = all of it.
using DimRanges = std::vector<IndexRange>;

// Bytes [offset, offset + length) of a tensor's data.
struct ByteSpan {
  uint64_t offset = 0;
  uint64_t length = 0;
  friend bool operator==(const ByteSpan&, const ByteSpan&) = default;
};

struct SliceOptions {
  // Most spans a plan may have; a more fragmented selection is refused rather
  // than served slowly (millions of 2-byte spans).
  uint64_t max_spans = uint64_t{1} << 20;
};

// What a selection yields, without its spans.
struct SliceSummary {
  std::vector<uint64_t> shape;  // Result shape (same rank as the source).
  uint64_t byte_size = 0;       // Result size in bytes.
  uint64_t span_count = 0;      // Merged spans; 0 for an empty result.
};

struct SlicePlan {
  std::vector<uint64_t> shape;
  uint64_t byte_size = 0;
  std::vector<ByteSpan> spans;  // In output order; sum of lengths = byte_size.
};

// Validates `selection` against a tensor of `dtype` and `shape` and returns
// the result's shape, byte size and span count. `selection` has one entry per
// dimension, or none at all (the whole tensor). Work is O(rank + ranges).
// Errors:
//   InvalidArgument  selection rank differs from the shape's; a range with
//                    start > stop; format errors ValidationOverflow (the source
//                    or the result's bit count overflows 64 bits) and
//                    MisalignedSlice (a cut inside a byte; a source tensor
//                    that is not a whole number of bytes);
//   OutOfRange       a range's stop past its dimension.
// Messages name the dimension and the range, not the tensor: callers prefix.
absl::StatusOr<SliceSummary> MeasureSlice(
    DType dtype, absl::Span<const uint64_t> shape,
    absl::Span<const DimRanges> selection);

// MeasureSlice, then the spans themselves. Work is O(rank + ranges + spans).
// Errors: MeasureSlice's, and InvalidArgument naming max_spans when the plan
// would have more than options.max_spans spans.
absl::StatusOr<SlicePlan> PlanSlice(DType dtype,
                                    absl::Span<const uint64_t> shape,
                                    absl::Span<const DimRanges> selection,
                                    const SliceOptions& options = {});

}  // namespace weightserver::format

#endif  // WEIGHTSERVER_FORMAT_SLICE_H_
