// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/pending_load.h: a load that runs in the background and
// hands out each output as soon as its bytes are in place.
//
// PendingLoad::Start plans the wanted tensors, allocates their block (a host
// arena, or device memory through a copier), lays out table() at once and
// fetches on a thread of its own. Output i may be read once WaitFor(i)
// returned OK: every chunk of it was verified in host memory (and, for
// device memory, its copies to the device completed). Each stream fetches
// its pieces in plan order, so outputs tend to complete in plan order: a
// consumer that walks the outputs in order (an engine's load_weights)
// overlaps its work with the rest of the transfer.
//
// Example:
//   ASSIGN_OR_RETURN(auto load, PendingLoad::Start(*client, toc, {}));
//   for (size_t i = 0; i < load->table().tensors().size(); ++i) {
//     RETURN_IF_ERROR(load->WaitFor(i));
//     Use(load->table().tensors()[i]);
//   }
//   RETURN_IF_ERROR(load->Wait());
//
// Lifetime: the client must outlive the PendingLoad. Destroying a
// PendingLoad stops its fetch (the remaining outputs are not filled) and
// waits for its thread; the table's memory lives on as long as any copy of
// table().memory_owner().
//
// Thread-safety: every method may be called from any thread.
#ifndef WEIGHTSERVER_CLIENT_PENDING_LOAD_H_
#define WEIGHTSERVER_CLIENT_PENDING_LOAD_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "weightserver/client/client.h"
#include "weightserver/client/device.h"
#include "weightserver/client/device_copier.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/tensor_table.h"

namespace weightserver::client {

class PendingLoad {
 public:
  // Starts loading `wanted` (every tensor of `model`, in file order, when
  // empty) into host memory, or into device memory through `copier` when it
  // is not null. Errors (nothing started): PlanLoad's; RESOURCE_EXHAUSTED
  // when the block cannot be allocated; the device ring's.
  static absl::StatusOr<std::unique_ptr<PendingLoad>> Start(
      const Client& client, ModelInfo model, std::vector<TensorSlice> wanted,
      std::shared_ptr<DeviceCopier> copier = nullptr,
      const DeviceOptions& device_options = {});
  ~PendingLoad();
  PendingLoad(const PendingLoad&) = delete;
  PendingLoad& operator=(const PendingLoad&) = delete;

  const ModelInfo& model() const;
  const LoadPlan& plan() const;
  // Laid out from the start; output i holds its bytes once WaitFor(i) is OK.
  const TensorTable& table() const;

  // Blocks until output `i` is in place (OK) or the load failed before it
  // was (the load's error: Client::Fetch's, a copy's, CANCELLED after
  // Cancel). Errors: OUT_OF_RANGE for an output the plan does not have.
  absl::Status WaitFor(size_t i);
  // Blocks until the fetch ended; its status (OK: every output in place).
  absl::Status Wait();
  // Whether the fetch has ended (Wait would not block).
  bool done() const;
  // Stops the fetch at once: its open calls and retry waits end without
  // waiting for the server (fetch_cancel.h); outputs not yet in place never
  // will be, and the waiters get CANCELLED.
  void Cancel();

 private:
  struct State;  // pending_load.cc
  explicit PendingLoad(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_PENDING_LOAD_H_
