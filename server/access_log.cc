// Copyright 2026 The Weightserver Authors.
//
// server/access_log.cc
#include "server/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "util/errno_status.h"

namespace weightserver::server {
namespace {

constexpr size_t kMaxNameBytes = 256;

std::string Cut(absl::string_view s) {
  if (s.size() <= kMaxNameBytes) return std::string(s);
  return absl::StrCat(s.substr(0, kMaxNameBytes), "...(", s.size(), " bytes)");
}

// A text value: bare when it is plain, else quoted and C-escaped.
std::string TextValue(absl::string_view s) {
  if (s.empty()) return "-";
  for (char c : s) {
    if (c <= ' ' || c > '~' || c == '"' || c == '=' || c == '\\') {
      return absl::StrCat("\"", absl::CHexEscape(Cut(s)), "\"");
    }
  }
  return Cut(s);
}

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.6f", absl::ToDoubleSeconds(d));
}

std::string Timestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

// JSON strings must be UTF-8: names are bytes, so escape the rest.
std::string JsonSafe(absl::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return absl::CHexEscape(Cut(s));
  }
  return Cut(s);
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log_format: '", text, "' is not one of text, json"));
}

std::string FormatAccessRecord(const AccessRecord& r, LogFormat format) {
  const std::string code = absl::StatusCodeToString(r.status.code());
  if (format == LogFormat::kJson) {
    nlohmann::json j = {{"type", "access"},
                        {"time", Timestamp(r.end)},
                        {"method", r.method},
                        {"peer", JsonSafe(r.peer)},
                        {"identity", JsonSafe(r.identity)},
                        {"model", JsonSafe(r.model)},
                        {"revision", JsonSafe(r.revision)},
                        {"entries", r.entries},
                        {"file", JsonSafe(r.file)},
                        {"bytes", r.bytes},
                        {"duration_s", absl::ToDoubleSeconds(r.duration)},
                        {"code", code}};
    if (r.first_chunk >= absl::ZeroDuration()) {
      j["first_chunk_s"] = absl::ToDoubleSeconds(r.first_chunk);
    }
    if (!r.status.ok()) j["error"] = JsonSafe(r.status.message());
    return j.dump();
  }
  std::string line = absl::StrCat(
      "access: ", Timestamp(r.end), " method=", r.method,
      " peer=", TextValue(r.peer), " identity=", TextValue(r.identity),
      " model=", TextValue(r.model), " revision=", TextValue(r.revision),
      " entries=", r.entries);
  if (!r.file.empty()) absl::StrAppend(&line, " file=", TextValue(r.file));
  absl::StrAppend(&line, " bytes=", r.bytes, " duration_s=",
                  Seconds(r.duration));
  if (r.first_chunk >= absl::ZeroDuration()) {
    absl::StrAppend(&line, " first_chunk_s=", Seconds(r.first_chunk));
  }
  absl::StrAppend(&line, " code=", code);
  if (!r.status.ok()) {
    absl::StrAppend(&line, " error=", TextValue(r.status.message()));
  }
  return line;
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(
    const AccessLogOptions& options) {
  if (!options.enabled()) {
    return absl::InvalidArgumentError("access log: no path (\"off\")");
  }
  if (options.path == "-") {
    return std::unique_ptr<AccessLog>(
        new AccessLog(STDERR_FILENO, false, options.format));
  }
  const int fd = open(options.path.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus(errno, "open access log", options.path);
  return std::unique_ptr<AccessLog>(new AccessLog(fd, true, options.format));
}

AccessLog::~AccessLog() {
  if (owned_) close(fd_);
}

void AccessLog::Write(const AccessRecord& record) {
  std::string line = FormatAccessRecord(record, format_);
  line += '\n';
  // One write(2) per line: whole lines (O_APPEND, or a pipe below 4 KiB).
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace weightserver::server
