// Copyright 2026 The Weightserver Authors.
//
// cli/progress.cc: the progress bar (see progress.h).
#include "cli/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/text.h"

namespace weightserver::cli {
namespace {

constexpr int kBarWidth = 30;
// Carriage return, then erase to the end of the line.
constexpr char kClearLine[] = "\r\033[K";

}  // namespace

ProgressBar::ProgressBar(std::ostream& out, bool enabled,
                         absl::Duration min_interval)
    : out_(out),
      enabled_(enabled),
      min_interval_(min_interval),
      start_(absl::Now()) {}

ProgressBar::~ProgressBar() { Finish(); }

std::string ProgressBar::Render(uint64_t done, uint64_t total, double seconds) {
  const double fraction = total == 0
                              ? 1.0
                              : std::min(1.0, static_cast<double>(done) /
                                                  static_cast<double>(total));
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar = absl::StrCat(std::string(filled, '#'),
                                 std::string(kBarWidth - filled, '.'));
  return absl::StrFormat("[%s] %s / %s  %5.1f%%  %s", bar, HumanBytes(done),
                         HumanBytes(total), fraction * 100,
                         Rate(done, seconds));
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  MutexLock lock(&mu_);
  if (finished_) return;
  const absl::Time now = absl::Now();
  if (now - last_draw_ < min_interval_ && done < total) return;
  last_draw_ = now;
  drawn_ = true;
  out_ << kClearLine << Render(done, total, absl::ToDoubleSeconds(now - start_))
       << std::flush;
}

client::ProgressCallback ProgressBar::Callback() {
  return [this](const client::Progress& p) {
    Update(p.done_bytes, p.total_bytes);
  };
}

void ProgressBar::Finish() {
  MutexLock lock(&mu_);
  if (finished_) return;
  finished_ = true;
  if (drawn_) out_ << kClearLine << std::flush;
}

}  // namespace weightserver::cli
