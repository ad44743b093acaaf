// Copyright 2026 The Weightserver Authors.
//
// server/write_pacer.h: delays a reactor's next write without blocking a
// thread.
//
// A stream whose token bucket is in debt (client_limits.h) must wait before
// its next write. Sleeping would hold a gRPC thread; WritePacer sets a
// grpc::Alarm instead, whose callback runs on a gRPC executor thread once
// the time has passed. Cancel (from the reactor's OnCancel) ends a pending
// wait at once, so a cancelled stream or a server shutting down never waits
// for its tokens.
//
// Example:
//   pacer_.After(wait, [this](bool fired) {
//     if (fired) StartWrite(&message_);
//     else       ...the write never started: finish as cancelled...;
//   });
//   void OnCancel() override { pacer_.Cancel(); ... }
//
// Thread-safety: After and Cancel may be called concurrently. At most one
// wait may be pending at a time (one write in flight per stream).
#ifndef WEIGHTSERVER_SERVER_WRITE_PACER_H_
#define WEIGHTSERVER_SERVER_WRITE_PACER_H_

#include <functional>
#include <memory>

#include <grpcpp/alarm.h>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace weightserver::server {

class WritePacer {
 public:
  WritePacer() = default;
  WritePacer(const WritePacer&) = delete;
  WritePacer& operator=(const WritePacer&) = delete;
  // Cancels a pending wait; its callback may still be running, and must not
  // touch the pacer (the owner keeps itself alive across it).
  ~WritePacer() = default;

  // Runs `then(true)` once `wait` has passed, or `then(false)` once the
  // pacer is cancelled (at once, if it already is), on a gRPC thread, never
  // inside this call.
  void After(absl::Duration wait, std::function<void(bool fired)> then);

  // Ends the pending wait, and every later one, with `then(false)`.
  void Cancel();

 private:
  // Recursive: should gRPC ever run an alarm's callback inline, that
  // callback may call After or Cancel on this thread.
  RecursiveMutex mu_;
  // Replaced by each wait: a fired alarm's callback may still be running
  // while the next one is set (the impl keeps itself alive for it).
  std::unique_ptr<grpc::Alarm> alarm_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_WRITE_PACER_H_
