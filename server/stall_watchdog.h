// Copyright 2026 The Weightserver Authors.
//
// server/stall_watchdog.h: cancels Fetch streams whose client stopped
// reading.
//
// A client that stops reading stops its stream (HTTP/2 flow control) with a
// write in flight and its read-ahead buffers held. Bounded, but enough such
// clients would hold the whole buffer pool, and the cold reads of every
// other stream would wait for them. The watchdog bounds that in time: a
// stream whose write has been in flight for longer than the timeout is
// cancelled (the client, if it ever reads again, gets CANCELLED) and its
// buffers return to the pool. A slow client is not stalled: each write that
// completes restarts its clock. (A write completes when the client's HTTP/2
// window has room, so a client that reads, however slowly, frees room for
// one within window / read rate: ~8 MiB at 140 KB/s for the default 60 s.)
//
// Example:
//   StallWatchdog watchdog(absl::Seconds(60));
//   std::shared_ptr<StallWatch> w = watchdog.Watch(context);
//   w->WriteStarted(); StartWrite(...);   // In the reactor.
//   w->WriteDone();                       // OnWriteDone.
//   w->Detach();                          // OnDone, before the context goes.
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef WEIGHTSERVER_SERVER_STALL_WATCHDOG_H_
#define WEIGHTSERVER_SERVER_STALL_WATCHDOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <grpcpp/support/server_callback.h>

#include "absl/base/thread_annotations.h"
#include "server/buffer_pool.h"
#include "util/clock.h"
#include "util/mutex.h"
#include "absl/time/time.h"

namespace weightserver::server {

// One stream's clock. Made by StallWatchdog::Watch.
class StallWatch {
 public:
  explicit StallWatch(grpc::CallbackServerContext* context)
      : context_(context) {}

  // `pooled`: the write's payload is a pool buffer.
  void WriteStarted(bool pooled = false) {
    write_pooled_.store(pooled);
    write_started_ns_.store(SteadyNowNs());
  }
  void WriteDone() { write_started_ns_.store(0); }
  // The stream waits for a pool buffer / got one.
  void WaitStarted() { wait_started_ns_.store(SteadyNowNs()); }
  void WaitDone() { wait_started_ns_.store(0); }
  // A write holding a pool buffer waits for its client's bandwidth tokens
  // (client_limits.h) / has started or ended. Not a stall: the timeout
  // ignores it. But the buffer is held: when a stream under its fair share
  // starves, the busy timeout cuts it like a pooled write in flight, so a
  // capped client cannot keep the pool at its own pace.
  void PacedHoldStarted() { paced_started_ns_.store(SteadyNowNs()); }
  void PacedHoldDone() { paced_started_ns_.store(0); }
  // The stream is done: never cancel it (its context is about to go).
  void Detach();

 private:
  friend class StallWatchdog;
  // Cancels the call when a write has been in flight, or a wait for a
  // buffer has lasted, since before `deadline_ns`; true when it did.
  bool CancelIfStalledSince(int64_t deadline_ns);
  // Cancels the call when a write holding a pool buffer has been in flight,
  // or waiting for tokens, since before `deadline_ns`; true when it did.
  bool CancelIfHoldingBufferSince(int64_t deadline_ns);
  // Cancels the call if `clock` still reads `started` (not a later event).
  bool CancelIfStill(const std::atomic<int64_t>& clock, int64_t started);
  bool detached() const { return detached_.load(); }

  std::atomic<int64_t> write_started_ns_{0};  // 0: no write in flight.
  std::atomic<bool> write_pooled_{false};
  std::atomic<int64_t> wait_started_ns_{0};  // 0: not waiting.
  std::atomic<int64_t> paced_started_ns_{0};  // 0: no pooled write paced.
  std::atomic<bool> detached_{false};
  // Recursive: cancelling may run the reactor's callbacks, and so Detach,
  // on this thread.
  RecursiveMutex mu_;
  grpc::CallbackServerContext* context_ ABSL_GUARDED_BY(mu_);
};

class StallWatchdog {
 public:
  // A zero or infinite timeout watches nothing (no thread). With a `pool`
  // and a finite `busy_timeout`, also frees what holds a pool in which a
  // stream under its fair share waits: every check first asks the streams
  // to shed read-ahead beyond their share (filled since that stream asked),
  // and when it has waited for `busy_timeout` with no buffer released, cuts
  // the streams whose pooled write has been in flight as long.
  explicit StallWatchdog(absl::Duration timeout,
                         BufferPool* pool = nullptr,
                         absl::Duration busy_timeout = absl::InfiniteDuration());
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;
  // Stops and joins the thread.
  ~StallWatchdog();

  std::shared_ptr<StallWatch> Watch(grpc::CallbackServerContext* context);

  // Streams cancelled so far (both reasons), and of them for holding a
  // contended pool's buffer.
  uint64_t cancelled() const { return cancelled_.load(); }
  uint64_t cancelled_busy() const { return cancelled_busy_.load(); }

 private:
  void Loop();
  void Check();

  const absl::Duration timeout_;
  BufferPool* const pool_;
  const absl::Duration busy_timeout_;
  std::atomic<uint64_t> cancelled_busy_{0};
  std::atomic<uint64_t> cancelled_{0};
  Mutex mu_;
  CondVar cv_;  // Signalled when stopping_ is set.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<StallWatch>> watches_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: started once the rest is ready.
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_STALL_WATCHDOG_H_
