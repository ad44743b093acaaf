// Copyright 2026 The Weightserver Authors.
//
// client/fetch_cancel.cc
#include "weightserver/client/fetch_cancel.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "util/mutex.h"

namespace weightserver::client {

struct FetchCancel::State {
  mutable Mutex mu;
  CondVar changed;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 1;
  absl::flat_hash_map<uint64_t, std::function<void()>> callbacks
      ABSL_GUARDED_BY(mu);
};

FetchCancel::FetchCancel() : state_(std::make_unique<State>()) {}
FetchCancel::~FetchCancel() = default;

void FetchCancel::Cancel() {
  MutexLock lock(&state_->mu);
  if (state_->cancelled) return;
  state_->cancelled = true;
  // Under the lock: Forget waits for them, so what they touch is alive.
  for (auto& [id, callback] : state_->callbacks) callback();
  state_->callbacks.clear();
  state_->changed.SignalAll();
}

bool FetchCancel::cancelled() const {
  MutexLock lock(&state_->mu);
  return state_->cancelled;
}

uint64_t FetchCancel::OnCancel(std::function<void()> callback) {
  {
    MutexLock lock(&state_->mu);
    if (!state_->cancelled) {
      const uint64_t id = state_->next_id++;
      state_->callbacks.emplace(id, std::move(callback));
      return id;
    }
  }
  callback();
  return 0;
}

void FetchCancel::Forget(uint64_t id) {
  MutexLock lock(&state_->mu);
  state_->callbacks.erase(id);
}

bool FetchCancel::SleepFor(absl::Duration duration) {
  const absl::Time end = absl::Now() + duration;
  MutexLock lock(&state_->mu);
  while (!state_->cancelled) {
    const absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    state_->changed.WaitWithTimeout(&state_->mu, left);
  }
  return false;
}

}  // namespace weightserver::client
