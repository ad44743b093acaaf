// Copyright 2026 The Weightserver Authors.
//
// tests/testing/daemon.h: the real weightserver binary as a child process.
//
// For tests that measure the daemon itself (its resident memory, threads and
// file descriptors, apart from the test's clients) or need its signals.
// Start runs `binary --listen 127.0.0.1:0 ARGS...`, waits for its
// "weightserver: listening on ADDR" line, and returns; the destructor sends
// SIGTERM and reaps it (SIGKILL after 10 s). Its output goes to a
// temporary file (Log()).
//
// Example:
//   auto d = Daemon::Start(WS_DAEMON_BINARY, {"--repo", dir});
//   ASSERT_TRUE(d.ok()) << d.status();
//   auto client = Client::Connect((*d)->address());
//   uint64_t rss = (*d)->RssAnon();
//
// Thread-safety: one thread at a time.
#ifndef WEIGHTSERVER_TESTS_TESTING_DAEMON_H_
#define WEIGHTSERVER_TESTS_TESTING_DAEMON_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weightserver::testing {

class Daemon {
 public:
  // Errors: Internal when it cannot be started, or exits, or prints no
  // address within 30 s (its output is in the message).
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(
      const std::string& binary, const std::vector<std::string>& args);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

  // From /proc/PID: anonymous resident bytes (RssAnon + RssShmem: what the
  // daemon allocated, not the file pages it maps), threads, open fds.
  uint64_t RssAnon() const;
  int Threads() const;
  int OpenFds() const;
  // What it has printed so far (stdout and stderr).
  std::string Log() const;

 private:
  Daemon(pid_t pid, std::string address, std::string log)
      : pid_(pid), address_(std::move(address)), log_(std::move(log)) {}
  pid_t pid_;
  std::string address_;
  std::string log_;  // Its output, a temporary file removed with it.
};

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_DAEMON_H_
