// Copyright 2026 The Weightserver Authors.
//
// client/pending_load.cc: PendingLoad, a load on a thread of its own that
// counts each output's bytes in place (verified in host memory, or copied to
// the device) and wakes whoever waits for it.
#include "weightserver/client/pending_load.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/host_arena.h"
#include "client/memory_sink.h"
#include "client/table_memory.h"
#include "util/mutex.h"
#include "util/status_macros.h"
#include "weightserver/client/fetch_cancel.h"

namespace weightserver::client {

struct PendingLoad::State {
  State(const Client& c, ModelInfo m) : client(c), model(std::move(m)) {}

  // `size` more bytes of output `item` are in place.
  void Arrived(size_t item, uint64_t size) {
    MutexLock lock(&mu);
    if (item >= missing.size()) return;
    missing[item] -= std::min(missing[item], size);
    if (missing[item] == 0) changed.SignalAll();
  }
  // The fetch, on `thread`.
  void Run();
  void End(absl::Status status) {
    MutexLock lock(&mu);
    status_ = std::move(status);
    ended = true;
    changed.SignalAll();
  }

  const Client& client;
  const ModelInfo model;  // The plan points into it.
  LoadPlan plan;
  TensorTable table;
  std::byte* host_base = nullptr;  // Null for device memory.
  std::shared_ptr<DeviceCopier> copier;
  DeviceOptions device_options;
  FetchCancel cancel;  // Ends the fetch's calls and backoffs at once.
  std::thread thread;

  Mutex mu;
  CondVar changed;  // An output completed, or the fetch ended.
  std::vector<uint64_t> missing ABSL_GUARDED_BY(mu);  // Bytes, per output.
  bool ended ABSL_GUARDED_BY(mu) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu);
};

namespace {

// Passes every call to `inner`; refuses new bytes once the load is
// cancelled (which stops the fetch: sink errors are not retried), and, when
// `count` is set, reports each committed range (host memory: committed
// means verified in place).
class CountingSink final : public FetchSink {
 public:
  CountingSink(FetchSink& inner, const FetchCancel& cancel,
               std::function<void(size_t, uint64_t)> count)
      : inner_(inner), cancel_(cancel), count_(std::move(count)) {}

  absl::StatusOr<std::byte*> Acquire(size_t item, uint64_t offset,
                                     uint64_t size) override {
    if (cancel_.cancelled()) return absl::CancelledError("load cancelled");
    return inner_.Acquire(item, offset, size);
  }
  absl::Status Commit(size_t item, uint64_t offset, uint64_t size,
                      std::byte* bytes) override {
    RETURN_IF_ERROR(inner_.Commit(item, offset, size, bytes));
    if (count_) count_(item, size);
    return absl::OkStatus();
  }
  void Abandon(std::byte* bytes) override { inner_.Abandon(bytes); }

 private:
  FetchSink& inner_;
  const FetchCancel& cancel_;
  const std::function<void(size_t, uint64_t)> count_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PendingLoad>> PendingLoad::Start(
    const Client& client, ModelInfo model, std::vector<TensorSlice> wanted,
    std::shared_ptr<DeviceCopier> copier, const DeviceOptions& device_options) {
  auto s = std::make_unique<State>(client, std::move(model));
  if (wanted.empty()) {
    ASSIGN_OR_RETURN(s->plan, PlanWholeTensors(s->model, {}));
  } else {
    ASSIGN_OR_RETURN(s->plan, PlanLoad(s->model, wanted));
  }
  if (copier == nullptr) {
    ASSIGN_OR_RETURN(s->table, NewHostTable(s->model, s->plan, &s->host_base));
  } else {
    ASSIGN_OR_RETURN(s->table, NewDeviceTable(s->model, s->plan, copier));
  }
  s->copier = std::move(copier);
  s->device_options = device_options;
  {
    MutexLock lock(&s->mu);
    for (const PlannedTensor& p : s->plan.tensors) s->missing.push_back(p.size);
  }
  State* raw = s.get();
  s->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<PendingLoad>(new PendingLoad(std::move(s)));
}

void PendingLoad::State::Run() {
  absl::Status status;
  if (copier == nullptr) {
    MemorySink memory(plan, OutputAddresses(table));
    CountingSink sink(memory, cancel,
                      [this](size_t item, uint64_t size) { Arrived(item, size); });
    // The pages' zeroing on another core, ahead of the stream (host_arena.h).
    ArenaPrefaulter prefault(host_base, plan.layout_bytes);
    status = client.Fetch(model, plan, sink, &cancel);
  } else {
    std::vector<void*> destinations;
    for (std::byte* b : OutputAddresses(table)) destinations.push_back(b);
    status = FetchThroughRing(
        client, model, plan, destinations, copier.get(), device_options,
        [this](size_t item, uint64_t, uint64_t size) { Arrived(item, size); },
        [this](FetchSink& ring) {
          return std::make_unique<CountingSink>(ring, cancel, nullptr);
        },
        &cancel);
  }
  End(std::move(status));
}

PendingLoad::PendingLoad(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

PendingLoad::~PendingLoad() {
  Cancel();
  state_->thread.join();
}

const ModelInfo& PendingLoad::model() const { return state_->model; }
const LoadPlan& PendingLoad::plan() const { return state_->plan; }
const TensorTable& PendingLoad::table() const { return state_->table; }

absl::Status PendingLoad::WaitFor(size_t i) {
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (i >= s.missing.size()) {
    return absl::OutOfRangeError(absl::StrCat(
        "PendingLoad: output ", i, " of ", s.missing.size()));
  }
  while (s.missing[i] != 0 && !s.ended) s.changed.Wait(&s.mu);
  if (s.missing[i] == 0) return absl::OkStatus();
  if (!s.status_.ok()) return s.status_;
  return absl::InternalError(absl::StrCat(
      "PendingLoad: the fetch ended without output ", i, " ('",
      s.plan.tensors[i].name(), "')"));
}

absl::Status PendingLoad::Wait() {
  State& s = *state_;
  MutexLock lock(&s.mu);
  while (!s.ended) s.changed.Wait(&s.mu);
  return s.status_;
}

bool PendingLoad::done() const {
  MutexLock lock(&state_->mu);
  return state_->ended;
}

void PendingLoad::Cancel() { state_->cancel.Cancel(); }

}  // namespace weightserver::client
