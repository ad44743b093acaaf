// Copyright 2026 The Weightserver Authors.
//
// client/tensor_table.cc: host and device loads, one table over either memory.
#include "weightserver/client/tensor_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/device_ring.h"
#include "client/host_arena.h"
#include "client/memory_sink.h"
#include "client/table_memory.h"
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

}  // namespace

const TensorView* TensorTable::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<TensorTable> NewHostTable(const ModelInfo& model,
                                         const LoadPlan& plan,
                                         std::byte** base) {
  absl::StatusOr<HostArena> arena = HostArena::Allocate(plan.layout_bytes);
  if (!arena.ok()) return InModel(model, arena.status());
  auto owner = std::make_shared<HostArena>(*std::move(arena));
  *base = owner->data();
  return TableBuilder::Build(plan, MemoryKind::kHost, *base, std::move(owner));
}

absl::StatusOr<TensorTable> NewDeviceTable(
    const ModelInfo& model, const LoadPlan& plan,
    std::shared_ptr<DeviceCopier> copier) {
  absl::StatusOr<void*> block =
      copier->AllocDevice(std::max<uint64_t>(plan.layout_bytes, 1));
  if (!block.ok()) return InModel(model, block.status());
  // Freed with the table (or at once, on error), through the copier it came
  // from, which the owner keeps alive.
  std::shared_ptr<void> owner(*block, [copier](void* p) { copier->FreeDevice(p); });
  return TableBuilder::Build(plan, MemoryKind::kDevice,
                             static_cast<std::byte*>(*block), std::move(owner));
}

std::vector<std::byte*> OutputAddresses(const TensorTable& table) {
  std::vector<std::byte*> addresses;
  addresses.reserve(table.tensors().size());
  for (const TensorView& v : table.tensors()) addresses.push_back(v.data);
  return addresses;
}

absl::StatusOr<TensorTable> LoadToHost(const Client& client,
                                       const ModelInfo& model,
                                       const LoadPlan& plan) {
  std::byte* base = nullptr;
  ASSIGN_OR_RETURN(TensorTable table, NewHostTable(model, plan, &base));
  MemorySink sink(plan, OutputAddresses(table));
  {
    // The pages' zeroing on another core, ahead of the stream (host_arena.h).
    ArenaPrefaulter prefault(base, plan.layout_bytes);
    RETURN_IF_ERROR(client.Fetch(model, plan, sink));
  }
  return table;
}

absl::Status FetchThroughRing(
    const Client& client, const ModelInfo& model, const LoadPlan& plan,
    absl::Span<void* const> destinations, DeviceCopier* copier,
    const DeviceOptions& options, CopiedCallback on_copied,
    const std::function<std::unique_ptr<FetchSink>(FetchSink&)>& sink_wrapper,
    FetchCancel* cancel) {
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
                                      std::move(targets), std::move(on_copied)));
  std::unique_ptr<FetchSink> wrapped;
  if (sink_wrapper) wrapped = sink_wrapper(*ring);
  absl::Status fetched =
      client.Fetch(model, plan, wrapped ? *wrapped : *ring, cancel);
  absl::Status copied = ring->Finish();
  // A fetch stopped by a failed copy already carries the copy's status.
  return fetched.ok() ? copied : fetched;
}

absl::Status FetchToDevice(const Client& client, const ModelInfo& model,
                           const LoadPlan& plan,
                           absl::Span<void* const> destinations,
                           DeviceCopier* copier, const DeviceOptions& options) {
  return FetchThroughRing(client, model, plan, destinations, copier, options,
                          nullptr, nullptr);
}

absl::StatusOr<TensorTable> LoadToDevice(const Client& client,
                                         const ModelInfo& model,
                                         const LoadPlan& plan,
                                         std::shared_ptr<DeviceCopier> copier,
                                         const DeviceOptions& options) {
  ASSIGN_OR_RETURN(TensorTable table, NewDeviceTable(model, plan, copier));
  std::vector<void*> destinations;
  destinations.reserve(plan.tensors.size());
  for (std::byte* b : OutputAddresses(table)) destinations.push_back(b);
  RETURN_IF_ERROR(
      FetchToDevice(client, model, plan, destinations, copier.get(), options));
  return table;
}

}  // namespace weightserver::client
