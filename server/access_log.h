// Copyright 2026 The Weightserver Authors.
//
// server/access_log.h: one line per finished Fetch or ReadFile stream.
//
// Each line says who asked (gRPC's peer string, the identity under the
// access policy or "-"), for what (method, model, revision, entries: the
// tensors of a Fetch, the file of a ReadFile), what it got (payload bytes,
// duration, time to first chunk, gRPC code, and the error message when not
// OK). Refused calls are logged too. Two formats:
//
//   text: access: 2026-12-04T20:38:20.123456Z method=Fetch
//         peer=ipv4:10.0.0.5:41234 identity=- model=org/llama revision=9f2c..
//         entries=291 bytes=16060522496 duration_s=12.401 first_chunk_s=0.002
//         code=OK                                        (one line)
//   json: {"type":"access","time":"2026-12-04T20:38:20.123456Z",
//          "method":"Fetch","peer":"ipv4:10.0.0.5:41234","identity":"",
//          "model":"org/llama",...,"code":"OK"}          (one line)
//
// Text values that hold a space, a quote, '=' or a byte outside printable
// ASCII are written C-escaped in double quotes; names from clients are cut
// to 256 bytes. Each line is written with one write(2) (O_APPEND for a
// file): lines of concurrent streams never interleave, and an external
// rotation (copytruncate) keeps working.
//
// Example:
//   ASSIGN_OR_RETURN(auto log, AccessLog::Open({.path = "-",
//                                               .format = LogFormat::kJson}));
//   log->Write(record);
//
// Thread-safety: Write may be called concurrently.
#ifndef WEIGHTSERVER_SERVER_ACCESS_LOG_H_
#define WEIGHTSERVER_SERVER_ACCESS_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace weightserver::server {

enum class LogFormat { kText, kJson };

// "text" or "json"; InvalidArgument otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);

struct AccessLogOptions {
  // A file (appended to), "-" for stderr, or "off" / "" for no access log.
  std::string path;
  LogFormat format = LogFormat::kText;

  bool enabled() const { return !path.empty() && path != "off"; }
};

// One finished call.
struct AccessRecord {
  absl::Time end;
  std::string method;  // "Fetch", "ReadFile".
  std::string peer;    // gRPC's: "ipv4:10.0.0.5:41234".
  std::string identity;  // Empty: none (no access policy, or refused).
  std::string model;
  std::string revision;
  // Tensors asked for (Fetch), or the file's name (ReadFile).
  uint64_t entries = 0;
  std::string file;
  uint64_t bytes = 0;
  absl::Duration duration;
  absl::Duration first_chunk = -absl::Seconds(1);  // Negative: none sent.
  absl::Status status;
};

// The record as one line of `format`, without the newline.
std::string FormatAccessRecord(const AccessRecord& record, LogFormat format);

class AccessLog {
 public:
  // Errors: InvalidArgument when options.enabled() is false; the open(2)
  // error of the file otherwise.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(
      const AccessLogOptions& options);
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  ~AccessLog();

  // Writes the record's line; a failed write is dropped (the log must not
  // stop the stream it describes).
  void Write(const AccessRecord& record);

  LogFormat format() const { return format_; }

 private:
  AccessLog(int fd, bool owned, LogFormat format)
      : fd_(fd), owned_(owned), format_(format) {}

  const int fd_;
  const bool owned_;  // Closed when destroyed (not stderr).
  const LogFormat format_;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_ACCESS_LOG_H_
