// Copyright 2026 The Weightserver Authors.
//
// util/log.cc: the stderr sink behind util/log.h.
#include "util/log.h"

#include <unistd.h>

#include <atomic>
#include <ctime>

namespace weightserver::log_internal {
namespace {
std::atomic<int> min_severity{0};
}  // namespace

void SetMinSeverity(Severity severity) {
  min_severity.store(static_cast<int>(severity));
}

LogMessage::~LogMessage() {
  if (static_cast<int>(severity_) < min_severity.load()) return;
  static constexpr char kLetters[] = {'I', 'W', 'E'};
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  char prefix[48];
  int n = snprintf(prefix, sizeof(prefix), "%c%02d%02d %02d:%02d:%02d.%06ld ",
                   kLetters[static_cast<int>(severity_)], utc.tm_mon + 1,
                   utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                   ts.tv_nsec / 1000);
  std::string line(prefix, n);
  line += stream_.str();
  line += '\n';
  // One write(2) per line keeps lines whole when threads log at once.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace weightserver::log_internal
