// Copyright 2026 The Weightserver Authors.
//
// util/log.h: a minimal streaming logger to stderr.
//
// Abseil 20220623 has no absl/log; this is spelled like it (`LOG(INFO) << ...`)
// so that switching is a rename. Each statement writes one line, atomically,
// prefixed with the severity letter and a UTC timestamp.
//
// Example:
//   LOG(INFO) << "serving " << n << " models";
//   LOG(WARNING) << "io_uring unavailable, using pread";
//
// Thread-safety: safe to use from any thread.
#ifndef WEIGHTSERVER_UTIL_LOG_H_
#define WEIGHTSERVER_UTIL_LOG_H_

#include <sstream>
#include <string>

namespace weightserver::log_internal {

enum class Severity { kInfo, kWarning, kError };

// Collects one message and writes it to stderr when destroyed.
class LogMessage {
 public:
  explicit LogMessage(Severity severity) : severity_(severity) {}
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage();

  template <typename T>
  LogMessage& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  Severity severity_;
  std::ostringstream stream_;
};

// Sets the minimum severity written (default kInfo). Used by --quiet flags.
void SetMinSeverity(Severity severity);

}  // namespace weightserver::log_internal

#define WS_LOG_SEVERITY_INFO ::weightserver::log_internal::Severity::kInfo
#define WS_LOG_SEVERITY_WARNING ::weightserver::log_internal::Severity::kWarning
#define WS_LOG_SEVERITY_ERROR ::weightserver::log_internal::Severity::kError

#ifndef LOG
#define LOG(severity) \
  ::weightserver::log_internal::LogMessage(WS_LOG_SEVERITY_##severity)
#endif

#endif  // WEIGHTSERVER_UTIL_LOG_H_
