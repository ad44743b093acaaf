// Copyright 2026 The Weightserver Authors.
//
// cli/slice_spec.h: weightctl's --slice NAME=SPEC and --shard DIM/RANK/WORLD.
//
// A SPEC gives each dimension, outermost first, separated by ',': ':' for the
// whole dimension, or one or more half-open ranges 'a:b' joined by '+' (they
// are concatenated: '0:512+1024:1088'). Dimensions left out at the end are
// whole. No spaces, no negative or open-ended bounds.
//
//   --slice lm_head.weight=0:16000          rows [0, 16000)
//   --slice qkv.weight=0:512+1024:1088,:    two row ranges, all columns
//   --shard 1/3/8                           rank 3 of 8's columns of every
//                                           --tensor (dimension -1: the last)
//
// FetchList turns the flags into the tensors to fetch, checked against the
// model's table of contents.
//
// Example:
//   ASSIGN_OR_RETURN(client::TensorSlice s, ParseSliceFlag("w=0:2,:"));
//   ASSIGN_OR_RETURN(ShardSpec shard, ParseShardFlag("0/1/4"));
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_CLI_SLICE_SPEC_H_
#define WEIGHTSERVER_CLI_SLICE_SPEC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "weightserver/client/client.h"
#include "weightserver/client/selection.h"

namespace weightserver::cli {

// Parses a SPEC; the result has as many dimensions as the SPEC names.
// Errors: InvalidArgument naming the SPEC and what is wrong in it (empty, a
// dimension that is neither ':' nor ranges, a bound that is not a number,
// start > stop).
absl::StatusOr<client::Selection> ParseSliceSpec(absl::string_view spec);

// Parses "NAME=SPEC" (split at the last '='). Errors: ParseSliceSpec's; a
// missing '=' or an empty NAME.
absl::StatusOr<client::TensorSlice> ParseSliceFlag(absl::string_view flag);

struct ShardSpec {
  int dim = 0;  // Negative counts from the end.
  int rank = 0;
  int world = 1;
};

// Parses "DIM/RANK/WORLD" ("1/0/8", "-1/0/8"). Errors: InvalidArgument for
// anything else, world < 1 or rank outside [0, world).
absl::StatusOr<ShardSpec> ParseShardFlag(absl::string_view flag);

// The tensors `weightctl fetch` and `load` ask for: each --tensor (whole, or
// its shard when `shard` is set; with `shard` and neither --tensor nor
// --slice, every tensor of the model, those that do not split evenly along
// the dimension whole) and each --slice (its selection,
// padded with whole dimensions to the tensor's rank), in that order.
// Errors: NotFound for a name not in `model`; InvalidArgument for a name given
// twice, a SPEC with more dimensions than its tensor, or a shard that does
// not fit a tensor (client::ShardDim's errors, the tensor named).
absl::StatusOr<std::vector<client::TensorSlice>> FetchList(
    const client::ModelInfo& model, absl::Span<const std::string> tensors,
    absl::Span<const client::TensorSlice> slices,
    const std::optional<ShardSpec>& shard);

}  // namespace weightserver::cli

#endif  // WEIGHTSERVER_CLI_SLICE_SPEC_H_
