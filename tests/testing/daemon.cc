// Copyright 2026 The Weightserver Authors.
//
// tests/testing/daemon.cc
#include "tests/testing/daemon.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weightserver::testing {
namespace {

// The value of the `key:` line of /proc/PID/status, in its unit.
uint64_t StatusField(pid_t pid, const std::string& key) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::stoull(line.substr(key.size() + 1));
    }
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(
    const std::string& binary, const std::vector<std::string>& args) {
  std::string log = "/tmp/ws_daemon_XXXXXX";
  const int log_fd = mkostemp(log.data(), O_CLOEXEC);
  if (log_fd < 0) return absl::InternalError("mkostemp");
  std::vector<std::string> argv_s = {binary, "--listen", "127.0.0.1:0"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(log_fd);
  const std::string marker = "weightserver: listening on ";
  std::string output;
  for (int i = 0; i < 3000; ++i) {
    std::ifstream in(log);
    output.assign(std::istreambuf_iterator<char>(in), {});
    if (size_t at = output.find(marker); at != std::string::npos) {
      if (size_t eol = output.find('\n', at); eol != std::string::npos) {
        return std::unique_ptr<Daemon>(new Daemon(
            pid, output.substr(at + marker.size(), eol - at - marker.size()),
            log));
      }
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) break;  // Exited.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  unlink(log.c_str());
  return absl::InternalError(
      absl::StrCat(binary, " did not start; its output:\n", output));
}

std::string Daemon::Log() const {
  std::ifstream in(log_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Daemon::~Daemon() {
  kill(pid_, SIGTERM);
  bool exited = false;
  for (int i = 0; i < 1000 && !exited; ++i) {
    exited = waitpid(pid_, nullptr, WNOHANG) == pid_;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  unlink(log_.c_str());
}

uint64_t Daemon::RssAnon() const {
  return (StatusField(pid_, "RssAnon") + StatusField(pid_, "RssShmem")) << 10;
}

int Daemon::Threads() const {
  return static_cast<int>(StatusField(pid_, "Threads"));
}

int Daemon::OpenFds() const {
  int n = 0;
  DIR* d = opendir(absl::StrCat("/proc/", pid_, "/fd").c_str());
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // The directory's own fd.
}

}  // namespace weightserver::testing
