// Copyright 2026 The Weightserver Authors.
//
// client/selection.cc
#include "weightserver/client/selection.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "weightserver/format/dtype.h"

namespace weightserver::client {
namespace {

std::string ShapeText(absl::Span<const uint64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Checks world/rank/dim; returns dim made non-negative.
absl::StatusOr<size_t> CheckShard(absl::Span<const uint64_t> shape, int dim,
                                  int rank, int world) {
  if (world < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard: world size ", world, " is not positive"));
  }
  if (rank < 0 || rank >= world) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard: rank ", rank, " is outside [0, ", world, ")"));
  }
  const int n = static_cast<int>(shape.size());
  if (dim < -n || dim >= n) {
    return absl::OutOfRangeError(
        absl::StrCat("shard: dimension ", dim, " of a tensor of shape ",
                     ShapeText(shape), " (rank ", n, ")"));
  }
  return static_cast<size_t>(dim < 0 ? dim + n : dim);
}

}  // namespace

absl::StatusOr<Selection> ShardDim(absl::Span<const uint64_t> shape, int dim,
                                   int rank, int world) {
  absl::StatusOr<size_t> d = CheckShard(shape, dim, rank, world);
  if (!d.ok()) return d.status();
  const uint64_t n = shape[*d], w = static_cast<uint64_t>(world);
  if (n % w != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard: dimension ", *d, " of shape ", ShapeText(shape), " (size ", n,
        ") does not split evenly over ", world, " ranks"));
  }
  Selection s;
  s.dims.resize(shape.size());
  const uint64_t part = n / w;
  s.dims[*d].push_back({part * rank, part * (rank + 1)});
  return s;
}

absl::StatusOr<Selection> ShardFused(absl::Span<const uint64_t> shape, int dim,
                                     absl::Span<const uint64_t> block_sizes,
                                     int rank, int world) {
  absl::StatusOr<size_t> d = CheckShard(shape, dim, rank, world);
  if (!d.ok()) return d.status();
  if (block_sizes.empty()) {
    return absl::InvalidArgumentError("shard: no fused blocks given");
  }
  const uint64_t w = static_cast<uint64_t>(world);
  uint64_t begin = 0;
  Selection s;
  s.dims.resize(shape.size());
  for (size_t b = 0; b < block_sizes.size(); ++b) {
    const uint64_t size = block_sizes[b];
    if (size % w != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard: fused block ", b, " of size ", size,
                       " does not split evenly over ", world, " ranks"));
    }
    if (size > shape[*d] - begin) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shard: fused blocks [", absl::StrJoin(block_sizes, ", "),
          "] exceed dimension ", *d, " of shape ", ShapeText(shape)));
    }
    const uint64_t part = size / w;
    if (part > 0) {
      s.dims[*d].push_back({begin + part * rank, begin + part * (rank + 1)});
    }
    begin += size;
  }
  if (begin != shape[*d]) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard: fused blocks [", absl::StrJoin(block_sizes, ", "),
                     "] add up to ", begin, ", dimension ", *d, " of shape ",
                     ShapeText(shape), " has ", shape[*d]));
  }
  if (s.dims[*d].empty()) s.dims[*d].push_back({0, 0});  // All blocks empty.
  return s;
}

absl::StatusOr<format::SliceSummary> MeasureSelection(
    const format::ModelTensor& tensor, const Selection& selection) {
  const std::string what =
      absl::StrCat("tensor '", absl::CHexEscape(tensor.name), "'");
  std::optional<format::DType> dtype = format::ParseDType(tensor.dtype);
  if (!dtype.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " has dtype '", tensor.dtype, "', unknown to this client"));
  }
  const std::vector<uint64_t>& shape = tensor.shape;
  absl::StatusOr<format::SliceSummary> s =
      format::MeasureSlice(*dtype, shape, selection.dims);
  if (!s.ok()) {
    return absl::Status(
        s.status().code(),
        absl::StrCat(what, " ", tensor.dtype, " ", ShapeText(shape),
                     ": selection ", SelectionText(selection), ": ",
                     s.status().message()));
  }
  return s;
}

std::string SelectionText(const Selection& selection) {
  std::vector<std::string> dims;
  for (const format::DimRanges& ranges : selection.dims) {
    if (ranges.empty()) {
      dims.push_back(":");
      continue;
    }
    dims.push_back(absl::StrJoin(
        ranges, "+", [](std::string* out, const format::IndexRange& r) {
          absl::StrAppend(out, r.start, ":", r.stop);
        }));
  }
  return absl::StrJoin(dims, ",");
}

}  // namespace weightserver::client
