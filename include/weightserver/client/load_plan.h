// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/load_plan.h: what a load will produce, computed once.
//
// A LoadPlan turns tensor names (and optional selections, selection.h) into
// the outputs every destination needs: each output's dtype, shape and byte
// size, and its offset in one block of memory laid out with every tensor at
// an aligned address. Host and GPU loads (tensor_table.h), file outputs
// (output_file.h) and the fetch engine (Client::Fetch) all take the same plan,
// so a selection works the same way into every destination, and nothing is
// measured twice.
//
// Example:
//   ASSIGN_OR_RETURN(ModelInfo toc, client->GetModel("llama"));
//   ASSIGN_OR_RETURN(Selection cols, ShardDim({4096, 11008}, 1, rank, 4));
//   ASSIGN_OR_RETURN(LoadPlan plan,
//                    PlanLoad(toc, {{"up.weight", cols}, {"lm_head.weight", {}}}));
//   plan.tensors[0].shape;   // {4096, 2752}
//   plan.total_bytes;        // bytes that will cross the network
//   ASSIGN_OR_RETURN(LoadPlan all, PlanWholeTensors(toc, {}));   // every tensor
//
// Thread-safety: a LoadPlan is a value. It points into the ModelInfo it was
// made from, which must outlive it and stay unchanged.
#ifndef WEIGHTSERVER_CLIENT_LOAD_PLAN_H_
#define WEIGHTSERVER_CLIENT_LOAD_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "weightserver/client/selection.h"
#include "weightserver/format/model_info.h"

namespace weightserver::client {

// One output of a plan: a whole tensor, or the dense result of a selection.
struct PlannedTensor {
  const format::ModelTensor* source = nullptr;  // In the plan's ModelInfo.
  Selection selection;          // Whole tensor when empty.
  std::vector<uint64_t> shape;  // Of the output.
  uint64_t size = 0;            // Output bytes.
  uint64_t offset = 0;          // In a block laid out by the plan (aligned).

  const std::string& name() const { return source->name; }
  const std::string& dtype() const { return source->dtype; }
};

struct LoadPlan {
  std::vector<PlannedTensor> tensors;  // In the order asked for.
  uint64_t total_bytes = 0;   // Sum of the outputs' sizes.
  uint64_t layout_bytes = 0;  // Size of the block the offsets are in.
  uint64_t alignment = 0;     // Of every offset.
};

struct PlanOptions {
  // Of every output's offset; 256 suits cudaMalloc'ed memory and any host
  // SIMD code. A power of two.
  uint64_t alignment = 256;
};

// Plans `tensors` of `model`, in the given order.
// Errors: NOT_FOUND for a name the model does not have; INVALID_ARGUMENT for
// a name given twice or an alignment that is not a power of two;
// MeasureSelection's errors for a bad selection (INVALID_ARGUMENT, also for a
// dtype unknown to this client; OUT_OF_RANGE). A whole tensor is planned as
// it is, whatever its dtype. Messages name the model and tensor.
absl::StatusOr<LoadPlan> PlanLoad(const format::ModelInfo& model,
                                  absl::Span<const TensorSlice> tensors,
                                  const PlanOptions& options = {});

// PlanLoad of the whole tensors `names` (every tensor of the model, in file
// order, when empty).
absl::StatusOr<LoadPlan> PlanWholeTensors(const format::ModelInfo& model,
                                          absl::Span<const std::string> names,
                                          const PlanOptions& options = {});

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_LOAD_PLAN_H_
