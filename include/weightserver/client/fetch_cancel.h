// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/fetch_cancel.h: stops a Client::Fetch from another
// thread, at once.
//
// A Fetch given a FetchCancel starts no call once it is cancelled, and
// Cancel() also cancels the calls open at that moment and cuts short a
// retry's backoff: a worker waiting for its next chunk (a slow, paced or
// stalled server) or between retries returns without waiting for either.
// The Fetch then returns CANCELLED.
//
// Example:
//   FetchCancel cancel;
//   absl::Status status;
//   std::thread t([&] { status = client->Fetch(model, plan, sink, &cancel); });
//   cancel.Cancel();  // t's Fetch returns promptly, CANCELLED.
//   t.join();
//
// Thread-safety: every method may be called from any thread. A callback
// added with OnCancel must not call back into its FetchCancel.
#ifndef WEIGHTSERVER_CLIENT_FETCH_CANCEL_H_
#define WEIGHTSERVER_CLIENT_FETCH_CANCEL_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/time/time.h"

namespace weightserver::client {

class FetchCancel {
 public:
  FetchCancel();
  ~FetchCancel();
  FetchCancel(const FetchCancel&) = delete;
  FetchCancel& operator=(const FetchCancel&) = delete;

  // Cancels, once: runs the callbacks added and wakes the sleepers.
  void Cancel();
  bool cancelled() const;

  // For the fetch engine. OnCancel runs `callback` at Cancel (at once, and
  // returns 0, when already cancelled); otherwise returns an id for Forget,
  // which must be called before what the callback touches goes away (after
  // Forget returns, the callback is not running and never will).
  uint64_t OnCancel(std::function<void()> callback);
  void Forget(uint64_t id);
  // Sleeps `duration`, or less when cancelled; false when cancelled.
  bool SleepFor(absl::Duration duration);

 private:
  struct State;
  const std::unique_ptr<State> state_;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_FETCH_CANCEL_H_
