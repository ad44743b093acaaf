// Copyright 2026 The Weightserver Authors.
//
// client/tensor_table.cc: host and device loads, one table over either memory.
#include "weightserver/client/tensor_table.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/device_ring.h"
#include "client/host_arena.h"
#include "client/memory_sink.h"
#include "util/status_context.h"
#include "util/status_macros.h"

namespace weightserver::client {

// Lays the plan's outputs over `base` (memory `owner` keeps alive).
class TableBuilder {
 public:
  static TensorTable Build(const LoadPlan& plan, MemoryKind memory,
                           std::byte* base, std::shared_ptr<void> owner) {
    TensorTable t;
    t.memory_ = memory;
    t.owner_ = std::move(owner);
    t.tensors_.reserve(plan.tensors.size());
    t.index_.reserve(plan.tensors.size());
    for (const PlannedTensor& p : plan.tensors) {
      t.index_.emplace(p.name(), t.tensors_.size());
      t.tensors_.push_back(
          TensorView{p.name(), p.dtype(), p.shape, base + p.offset, p.size});
    }
    t.total_bytes_ = plan.total_bytes;
    return t;
  }
};

namespace {

absl::Status InModel(const ModelInfo& model, const absl::Status& s) {
  return WithContext(absl::StrCat("model '", model.name, "'"), s);
}

std::vector<std::byte*> Bases(const LoadPlan& plan, std::byte* base) {
  std::vector<std::byte*> bases;
  bases.reserve(plan.tensors.size());
  for (const PlannedTensor& p : plan.tensors) bases.push_back(base + p.offset);
  return bases;
}

}  // namespace

const TensorView* TensorTable::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<TensorTable> LoadToHost(const Client& client,
                                       const ModelInfo& model,
                                       const LoadPlan& plan) {
  absl::StatusOr<HostArena> arena = HostArena::Allocate(plan.layout_bytes);
  if (!arena.ok()) return InModel(model, arena.status());
  auto owner = std::make_shared<HostArena>(*std::move(arena));
  std::byte* base = owner->data();
  MemorySink sink(plan, Bases(plan, base));
  {
    // The pages' zeroing on another core, ahead of the stream (host_arena.h).
    ArenaPrefaulter prefault(base, plan.layout_bytes);
    RETURN_IF_ERROR(client.Fetch(model, plan, sink));
  }
  return TableBuilder::Build(plan, MemoryKind::kHost, base, std::move(owner));
}

absl::Status FetchToDevice(const Client& client, const ModelInfo& model,
                           const LoadPlan& plan,
                           absl::Span<void* const> destinations,
                           DeviceCopier* copier, const DeviceOptions& options) {
  if (destinations.size() != plan.tensors.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FetchToDevice model '", model.name, "': ", destinations.size(),
        " destinations for ", plan.tensors.size(), " outputs"));
  }
  std::vector<DeviceTarget> targets;
  targets.reserve(plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    targets.push_back({destinations[i], plan.tensors[i].size});
  }
  ASSIGN_OR_RETURN(std::unique_ptr<DeviceRing> ring,
                   DeviceRing::Create(copier, options.slot_bytes,
                                      std::move(targets)));
  absl::Status fetched = client.Fetch(model, plan, *ring);
  absl::Status copied = ring->Finish();
  // A fetch stopped by a failed copy already carries the copy's status.
  return fetched.ok() ? copied : fetched;
}

absl::StatusOr<TensorTable> LoadToDevice(const Client& client,
                                         const ModelInfo& model,
                                         const LoadPlan& plan,
                                         std::shared_ptr<DeviceCopier> copier,
                                         const DeviceOptions& options) {
  absl::StatusOr<void*> block =
      copier->AllocDevice(std::max<uint64_t>(plan.layout_bytes, 1));
  if (!block.ok()) return InModel(model, block.status());
  // Freed with the table (or here, on error), through the copier it came
  // from, which the owner keeps alive.
  std::shared_ptr<void> owner(*block, [copier](void* p) { copier->FreeDevice(p); });
  auto* base = static_cast<std::byte*>(*block);
  std::vector<void*> destinations;
  destinations.reserve(plan.tensors.size());
  for (std::byte* b : Bases(plan, base)) destinations.push_back(b);
  RETURN_IF_ERROR(
      FetchToDevice(client, model, plan, destinations, copier.get(), options));
  return TableBuilder::Build(plan, MemoryKind::kDevice, base, std::move(owner));
}

}  // namespace weightserver::client
