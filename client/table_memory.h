// Copyright 2026 The Weightserver Authors.
//
// client/table_memory.h: the steps that LoadToHost, LoadToDevice and
// PendingLoad share: a table laid out over new host or device memory (not
// yet filled), and the fetch into device memory through a ring.
//
// Example:
//   std::byte* base = nullptr;
//   ASSIGN_OR_RETURN(TensorTable t, NewHostTable(model, plan, &base));
//   MemorySink sink(plan, OutputAddresses(t));
//
// Thread-safety: free functions; the tables they return are values.
#ifndef WEIGHTSERVER_CLIENT_TABLE_MEMORY_H_
#define WEIGHTSERVER_CLIENT_TABLE_MEMORY_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "client/device_ring.h"
#include "weightserver/client/client.h"
#include "weightserver/client/device.h"
#include "weightserver/client/device_copier.h"
#include "weightserver/client/fetch_cancel.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/tensor_table.h"

namespace weightserver::client {

// A table over a new host arena of plan.layout_bytes; *base is its start.
// Errors: RESOURCE_EXHAUSTED (naming the model) when it cannot be mapped.
absl::StatusOr<TensorTable> NewHostTable(const ModelInfo& model,
                                         const LoadPlan& plan,
                                         std::byte** base);

// A table over a new block of `copier`'s device memory, freed through the
// copier (which the table keeps alive). Errors: AllocDevice's, naming the
// model.
absl::StatusOr<TensorTable> NewDeviceTable(
    const ModelInfo& model, const LoadPlan& plan,
    std::shared_ptr<DeviceCopier> copier);

// Where each of the table's outputs lives, in plan order.
std::vector<std::byte*> OutputAddresses(const TensorTable& table);

// FetchToDevice (tensor_table.h), telling `on_copied` (may be null) of every
// range whose copy to the device completed. `sink_wrapper` (may be null)
// wraps the ring before the fetch sees it; `cancel` (may be null) is the
// fetch's (fetch_cancel.h).
absl::Status FetchThroughRing(
    const Client& client, const ModelInfo& model, const LoadPlan& plan,
    absl::Span<void* const> destinations, DeviceCopier* copier,
    const DeviceOptions& options, CopiedCallback on_copied,
    const std::function<std::unique_ptr<FetchSink>(FetchSink&)>& sink_wrapper,
    FetchCancel* cancel = nullptr);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_TABLE_MEMORY_H_
