// Copyright 2026 The Weightserver Authors.
//
// client/retry.h: the waits between a failed call and the next (README
// "Retries"), shared by the fetch engine and ReadBytes.
//
// Example:
//   BackoffSleep(Jittered(backoff), cancel);
//   backoff = std::min(backoff * 2, options.retry_max_backoff);
//
// Thread-safety: Jittered keeps a generator per thread.
#ifndef WEIGHTSERVER_CLIENT_RETRY_H_
#define WEIGHTSERVER_CLIENT_RETRY_H_

#include "absl/time/time.h"
#include "weightserver/client/fetch_cancel.h"

namespace weightserver::client {

// `d` times a uniform factor in [0.5, 1.5): retries of many clients spread.
absl::Duration Jittered(absl::Duration d);

// Sleeps `wait`, or less once `cancel` (optional) is cancelled.
void BackoffSleep(absl::Duration wait, FetchCancel* cancel);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_RETRY_H_
