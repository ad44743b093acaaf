// Copyright 2026 The Weightserver Authors.
//
// client/host_model.h: a model's tensors loaded into host memory.
//
// LoadToHost allocates one arena for the chosen tensors (each tensor starts at
// a 64-byte aligned address), fetches them verified, and returns the arena
// with a view of every tensor.
//
// Example:
//   ASSIGN_OR_RETURN(v1::Model toc, client->GetModel("llama"));
//   ASSIGN_OR_RETURN(HostModel m, LoadToHost(*client, toc, {}));
//   const HostTensor* w = m.Find("lm_head.weight");
//   // w->data, w->dtype ("BF16"), w->shape
//
//   // A tensor-parallel rank's slices (see selection.h):
//   ASSIGN_OR_RETURN(Selection cols, ShardDim({4096, 11008}, 1, rank, 4));
//   ASSIGN_OR_RETURN(HostModel mine,
//                    LoadSlicesToHost(*client, toc, {{"up.weight", cols}}));
//   // mine.Find("up.weight")->shape == {4096, 2752}
//
// Thread-safety: a HostModel is an immutable value once returned.
#ifndef WEIGHTSERVER_CLIENT_HOST_MODEL_H_
#define WEIGHTSERVER_CLIENT_HOST_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "client/client.h"
#include "client/host_arena.h"
#include "client/selection.h"

namespace weightserver::client {

struct HostTensor {
  std::string name;
  std::string dtype;  // The safetensors dtype string.
  std::vector<uint64_t> shape;
  absl::Span<const std::byte> data;
};

class HostModel {
 public:
  HostModel() = default;
  HostModel(HostModel&&) = default;
  HostModel& operator=(HostModel&&) = default;

  const std::vector<HostTensor>& tensors() const { return tensors_; }
  // The tensor named `name`, or nullptr.
  const HostTensor* Find(absl::string_view name) const;
  // Sum of the tensors' byte lengths (of their selections, when sliced).
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  friend absl::StatusOr<HostModel> LoadSlicesToHost(
      const Client&, const v1::Model&, absl::Span<const TensorSlice>);
  HostArena arena_;  // 2 MiB aligned, huge pages where allowed.
  std::vector<HostTensor> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  uint64_t total_bytes_ = 0;
};

// Loads the tensors `names` of `model` (all when empty) through `client`.
// Errors: NOT_FOUND for an unknown name; RESOURCE_EXHAUSTED when the arena
// cannot be allocated; otherwise Client::Fetch's errors.
absl::StatusOr<HostModel> LoadToHost(const Client& client,
                                     const v1::Model& model,
                                     absl::Span<const std::string> names);

// Loads `tensors` of `model`, each whole or the dense result of its
// selection (cut by the server): a HostTensor has the selection's shape and
// the tensor's name. Errors: NOT_FOUND for an unknown name; MeasureSelection's
// errors (INVALID_ARGUMENT, OUT_OF_RANGE) for a bad selection; otherwise
// LoadToHost's.
absl::StatusOr<HostModel> LoadSlicesToHost(const Client& client,
                                           const v1::Model& model,
                                           absl::Span<const TensorSlice> tensors);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_HOST_MODEL_H_
