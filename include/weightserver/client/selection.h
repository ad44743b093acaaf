// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/selection.h: which part of a tensor to fetch, and the
// tensor-parallel helpers that compute it.
//
// A Selection gives, for every dimension, half-open index ranges [start, stop)
// that are concatenated in order (an empty list: the whole dimension); no
// dimensions at all means the whole tensor. The server cuts the selection out
// of the tensor and sends the dense row-major result, so a rank receives only
// its own bytes. MeasureSelection gives the result's shape and size.
//
// Shards, for a rank `rank` of `world` ranks:
//   ShardDim    dimension `dim` cut into `world` equal parts; the rank takes
//               part `rank`: [rank*n/world, (rank+1)*n/world). Row-parallel
//               weights shard dimension 0, column-parallel ones dimension 1
//               (or -1, the last). n must be a multiple of world.
//   ShardFused  dimension `dim` holds several blocks one after the other (a
//               fused QKV weight: q, then k, then v rows); each block is cut
//               like ShardDim and the rank's parts are concatenated, so the
//               result is again [q_r; k_r; v_r].
//
// Example:
//   // Rank 1 of 4 of a column-parallel [4096, 11008] weight:
//   ASSIGN_OR_RETURN(Selection s, ShardDim({4096, 11008}, 1, 1, 4));
//   // s.dims == {{}, {{2752, 5504}}}
//   // Rank 0 of 2 of a fused [q 4096 | k 1024 | v 1024] x 4096 weight:
//   ASSIGN_OR_RETURN(Selection qkv,
//                    ShardFused({6144, 4096}, 0, {4096, 1024, 1024}, 0, 2));
//   // qkv.dims[0] == {{0, 2048}, {4096, 4608}, {5120, 5632}}
//   ASSIGN_OR_RETURN(format::SliceSummary out,
//                    MeasureSelection(*toc.Find("qkv.weight"), qkv));
//   // out.shape == {3072, 4096}
//
// Thread-safety: a Selection is a value; the functions are pure.
#ifndef WEIGHTSERVER_CLIENT_SELECTION_H_
#define WEIGHTSERVER_CLIENT_SELECTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "weightserver/format/model_info.h"
#include "weightserver/format/slice.h"

namespace weightserver::client {

using Range = format::IndexRange;

struct Selection {
  // One entry per dimension of the tensor, or none (the whole tensor).
  std::vector<format::DimRanges> dims;

  bool whole() const { return dims.empty(); }
  friend bool operator==(const Selection&, const Selection&) = default;
};

// A tensor to fetch, whole or a selection of it (PlanLoad).
struct TensorSlice {
  std::string name;
  Selection selection;  // Whole tensor by default.
};

// Rank `rank` of `world`'s even part of dimension `dim` of `shape` (negative
// `dim` counts from the end, -1 the last). Other dimensions are whole.
// Errors:
//   InvalidArgument  world < 1; rank outside [0, world); the dimension's size
//                    is not a multiple of world;
//   OutOfRange       dim outside [-rank(shape), rank(shape)).
absl::StatusOr<Selection> ShardDim(absl::Span<const uint64_t> shape, int dim,
                                   int rank, int world);

// Rank `rank` of `world`'s part of each of the consecutive blocks
// `block_sizes` along dimension `dim`, concatenated in block order.
// Errors: ShardDim's; InvalidArgument when there are no blocks, the blocks do
// not add up to the dimension's size, or a block is not a multiple of world.
absl::StatusOr<Selection> ShardFused(absl::Span<const uint64_t> shape, int dim,
                                     absl::Span<const uint64_t> block_sizes,
                                     int rank, int world);

// The shape, byte size and span count of `selection` over `tensor` (a table of
// contents entry), as the server will plan it.
// Errors: InvalidArgument for a dtype unknown to this client, and
// format::MeasureSlice's (wrong rank, start > stop, MisalignedSlice, ...;
// OutOfRange for a range past its dimension); messages name the tensor.
absl::StatusOr<format::SliceSummary> MeasureSelection(
    const format::ModelTensor& tensor, const Selection& selection);

// "0:512+1024:1088,:" for messages (":" a whole dimension; "" whole tensor).
std::string SelectionText(const Selection& selection);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_SELECTION_H_
