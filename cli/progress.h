// Copyright 2026 The Weightserver Authors.
//
// cli/progress.h: a one-line progress bar for fetch and load.
//
// The bar is drawn on a terminal (weightctl enables it only when stderr is a
// tty): bytes done / total, percent and rate, redrawn at most every
// `min_interval` (about 10 times a second), and erased by Finish() so that
// the summary line that follows stands alone. A disabled bar writes nothing.
//
// Example:
//   ProgressBar bar(std::cerr, isatty(2));
//   options.progress = bar.Callback();    // client::ClientOptions
//   ... fetch ...
//   bar.Finish();
//
// Thread-safety: Update and Finish may be called from any thread.
#ifndef WEIGHTSERVER_CLI_PROGRESS_H_
#define WEIGHTSERVER_CLI_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "absl/time/time.h"
#include "weightserver/client/client.h"

namespace weightserver::cli {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool enabled,
              absl::Duration min_interval = absl::Milliseconds(100));
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar();  // Finish()es.

  // Records progress; redraws when enabled and min_interval has passed since
  // the last draw (or when done reaches total).
  void Update(uint64_t done, uint64_t total);
  // A callback for ClientOptions::progress that forwards to Update. The bar
  // must outlive every call of it.
  client::ProgressCallback Callback();
  // Erases the bar (if drawn); later Updates are ignored.
  void Finish();

  // The line Update would draw, without terminal control characters.
  static std::string Render(uint64_t done, uint64_t total, double seconds);

 private:
  std::ostream& out_;
  const bool enabled_;
  const absl::Duration min_interval_;
  const absl::Time start_;
  Mutex mu_;
  absl::Time last_draw_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool drawn_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace weightserver::cli

#endif  // WEIGHTSERVER_CLI_PROGRESS_H_
