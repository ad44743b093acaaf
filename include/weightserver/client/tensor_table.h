// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/tensor_table.h: a plan's tensors loaded into one block
// of host or GPU memory.
//
// LoadToHost allocates one host arena (transparent huge pages where the
// kernel allows them) laid out by the LoadPlan, fetches every output straight
// into it, verified, and returns a TensorTable: one view per output, over
// memory the table owns. LoadToDevice does the same into one block of device
// memory, through a ring of pinned host slots (every chunk checked there
// before its copy); FetchToDevice fills device memory the caller owns. All of
// them take the same plan, so a tensor-parallel rank loads its selections
// into the GPU exactly as into host memory.
//
// Example:
//   ASSIGN_OR_RETURN(ModelInfo toc, client->GetModel("llama"));
//   ASSIGN_OR_RETURN(LoadPlan plan, PlanWholeTensors(toc, {}));
//   ASSIGN_OR_RETURN(TensorTable host, LoadToHost(*client, toc, plan));
//   const TensorView* w = host.Find("lm_head.weight");
//   // w->data, w->dtype ("BF16"), w->shape, w->size
//
//   ASSIGN_OR_RETURN(auto gpu, OpenCudaCopier(0, DeviceOptions{}));
//   ASSIGN_OR_RETURN(TensorTable dev, LoadToDevice(*client, toc, plan, gpu));
//   // dev.Find("lm_head.weight")->data is a device pointer
//
// Thread-safety: a TensorTable is immutable once returned; its memory lives
// as long as the table or any copy of memory_owner().
#ifndef WEIGHTSERVER_CLIENT_TENSOR_TABLE_H_
#define WEIGHTSERVER_CLIENT_TENSOR_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "weightserver/client/client.h"
#include "weightserver/client/device.h"
#include "weightserver/client/device_copier.h"
#include "weightserver/client/load_plan.h"

namespace weightserver::client {

enum class MemoryKind { kHost, kDevice };

// One loaded output: a whole tensor, or the result of its selection.
struct TensorView {
  std::string name;
  std::string dtype;            // The safetensors dtype string.
  std::vector<uint64_t> shape;  // Of the output.
  std::byte* data = nullptr;    // Host or device memory (see memory()).
  uint64_t size = 0;            // Bytes.
};

class TensorTable {
 public:
  TensorTable() = default;
  TensorTable(TensorTable&&) = default;
  TensorTable& operator=(TensorTable&&) = default;

  const std::vector<TensorView>& tensors() const { return tensors_; }
  // The tensor named `name`, or nullptr.
  const TensorView* Find(absl::string_view name) const;
  // Sum of the outputs' sizes.
  uint64_t total_bytes() const { return total_bytes_; }
  MemoryKind memory() const { return memory_; }
  // Keeps the memory alive (e.g. for views handed to another framework).
  const std::shared_ptr<void>& memory_owner() const { return owner_; }

 private:
  friend class TableBuilder;
  MemoryKind memory_ = MemoryKind::kHost;
  std::shared_ptr<void> owner_;
  std::vector<TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  uint64_t total_bytes_ = 0;
};

// Loads `plan` (made from `model`) into one new host arena.
// Errors: RESOURCE_EXHAUSTED when the arena cannot be allocated; otherwise
// Client::Fetch's.
absl::StatusOr<TensorTable> LoadToHost(const Client& client,
                                       const ModelInfo& model,
                                       const LoadPlan& plan);

// Loads `plan` into one block of device memory allocated through `copier`
// (the plan's alignment is kept; 256, cudaMalloc's own, by default).
// Errors: RESOURCE_EXHAUSTED when the block cannot be allocated (out of
// device memory); otherwise FetchToDevice's.
absl::StatusOr<TensorTable> LoadToDevice(const Client& client,
                                         const ModelInfo& model,
                                         const LoadPlan& plan,
                                         std::shared_ptr<DeviceCopier> copier,
                                         const DeviceOptions& options = {});

// Fetches `plan` into device memory the caller owns: output i to
// destinations[i], which holds plan.tensors[i].size bytes. Returns once every
// copy is complete. Errors: INVALID_ARGUMENT when the destination count
// differs from the plan's; Client::Fetch's; the ring's (RESOURCE_EXHAUSTED
// for pinned memory, INVALID_ARGUMENT for chunks larger than slot_bytes, a
// failed copy's status), with nothing leaked.
absl::Status FetchToDevice(const Client& client, const ModelInfo& model,
                           const LoadPlan& plan,
                           absl::Span<void* const> destinations,
                           DeviceCopier* copier, const DeviceOptions& options);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_TENSOR_TABLE_H_
