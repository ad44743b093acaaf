// Copyright 2026 The Weightserver Authors.
//
// server/live_repository.cc: the rescan thread (inotify, timer, requests).
#include "server/live_repository.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "util/log.h"

namespace weightserver::server {
namespace {
namespace fs = std::filesystem;

constexpr uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MOVED_TO |
                                IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

bool Enabled(absl::Duration d) {
  return d > absl::ZeroDuration() && d != absl::InfiniteDuration();
}

// An inotify instance watching every directory under a root that is not
// hidden (directory symlinks are not followed, as by the scan).
class Watcher {
 public:
  static std::unique_ptr<Watcher> Create(const std::string& root) {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      LOG(WARNING) << "inotify_init1: " << std::strerror(errno)
                   << "; repository changes are seen at the periodic rescan "
                      "or on SIGHUP only";
      return nullptr;
    }
    auto w = std::unique_ptr<Watcher>(new Watcher(root, fd));
    w->AddWatches();
    return w;
  }
  ~Watcher() { close(fd_); }

  int fd() const { return fd_; }

  // Watches every directory (again: inotify_add_watch of a watched one is a
  // no-op), so that directories created since are watched too. A watch
  // that is refused (the table is full) is logged once.
  void AddWatches() {
    Add(root_);
    std::error_code ec;
    fs::recursive_directory_iterator it(
        root_, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code type_ec;
      if (it->is_symlink(type_ec) || !it->is_directory(type_ec)) continue;
      if (absl::StartsWith(it->path().filename().string(), ".")) {
        it.disable_recursion_pending();
        continue;
      }
      Add(it->path().string());
    }
  }

  // Reads the pending events; true when any was one.
  bool Drain() {
    alignas(inotify_event) char buf[16384];
    bool any = false;
    for (;;) {
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return any;  // EAGAIN: nothing more.
      any = true;
    }
  }

 private:
  Watcher(std::string root, int fd) : root_(std::move(root)), fd_(fd) {}

  void Add(const std::string& dir) {
    if (inotify_add_watch(fd_, dir.c_str(), kWatchMask) >= 0) return;
    if (!warned_) {
      warned_ = true;
      LOG(WARNING) << "inotify_add_watch " << dir << ": "
                   << std::strerror(errno)
                   << "; changes there are seen at the periodic rescan or on "
                      "SIGHUP only (fs.inotify.max_user_watches?)";
    }
  }

  const std::string root_;
  const int fd_;
  bool warned_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LiveRepository>> LiveRepository::Start(
    const LiveRepositoryOptions& options) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Scan(options.repository);
  if (!repo.ok()) return repo.status();
  auto live = std::unique_ptr<LiveRepository>(
      new LiveRepository(options, *std::move(repo)));
  live->Publish(live->Snapshot(), absl::Now() - start);
  live->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (live->wake_fd_ < 0) {
    return absl::InternalError(
        absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  live->thread_ = std::thread([l = live.get()] { l->Run(); });
  return live;
}

LiveRepository::LiveRepository(LiveRepositoryOptions options,
                               std::shared_ptr<const ModelRepository> initial)
    : options_(std::move(options)), current_(std::move(initial)) {}

LiveRepository::~LiveRepository() {
  stop_.store(true);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

std::shared_ptr<const ModelRepository> LiveRepository::Snapshot() const {
  MutexLock lock(&mu_);
  return current_;
}

void LiveRepository::RequestRescan() {
  if (wake_fd_ < 0) return;
  requested_.store(true);
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));  // Full counter: already woken.
}

absl::Status LiveRepository::RescanNow() {
  MutexLock scan_lock(&scan_mu_);
  const absl::Time start = absl::Now();
  std::shared_ptr<const ModelRepository> previous = Snapshot();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Scan(options_.repository, previous.get());
  if (!repo.ok()) {
    MutexLock lock(&mu_);
    ++stats_.scans;
    ++stats_.failed_scans;
    stats_.last_scan_duration = absl::Now() - start;
    stats_.last_scan_end = absl::Now();
    stats_.last_scan_error = std::string(repo.status().message());
    LOG(WARNING) << "rescan failed, serving the previous catalog: "
                 << repo.status().message();
    return repo.status();
  }
  std::shared_ptr<const ModelRepository> next = *std::move(repo);
  // Log what changed, by name.
  std::vector<std::string> added, removed, changed;
  for (const auto& m : next->models()) {
    std::shared_ptr<const Model> old = previous->Find(m->name);
    if (old == nullptr) {
      added.push_back(m->name);
    } else if (old != m && (old->revision != m->revision ||
                            old->error != m->error)) {
      changed.push_back(m->name);
    }
  }
  for (const auto& m : previous->models()) {
    if (next->Find(m->name) == nullptr) removed.push_back(m->name);
  }
  if (!added.empty() || !removed.empty() || !changed.empty()) {
    LOG(INFO) << "rescan: " << added.size() << " added, " << removed.size()
              << " removed, " << changed.size() << " changed, "
              << next->reused() << " unchanged, in "
              << absl::Now() - start;
  }
  Publish(std::move(next), absl::Now() - start);
  return absl::OkStatus();
}

void LiveRepository::Publish(std::shared_ptr<const ModelRepository> repo,
                             absl::Duration took) {
  size_t servable = 0;
  for (const auto& m : repo->models()) servable += m->servable();
  std::shared_ptr<const ModelRepository> old;  // Unmapped after the unlock.
  MutexLock lock(&mu_);
  ++stats_.scans;
  stats_.last_scan_duration = took;
  stats_.last_scan_end = absl::Now();
  stats_.last_scan_error.clear();
  stats_.last_scan_reused = repo->reused();
  stats_.last_scan_loaded = repo->loaded();
  stats_.models_servable = servable;
  stats_.models_unservable = repo->models().size() - servable;
  old = std::exchange(current_, std::move(repo));
}

RepositoryStats LiveRepository::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void LiveRepository::Run() {
  std::unique_ptr<Watcher> watcher;
  if (options_.watch) watcher = Watcher::Create(options_.repository.root);
  {
    MutexLock lock(&mu_);
    stats_.watching = watcher != nullptr;
  }
  const bool periodic = Enabled(options_.rescan_interval);
  absl::Time next_periodic =
      periodic ? absl::Now() + options_.rescan_interval : absl::InfiniteFuture();
  absl::Time first_change = absl::InfiniteFuture();
  absl::Time last_change = absl::InfiniteFuture();
  while (!stop_.load()) {
    const absl::Time due =
        std::min({next_periodic, last_change + options_.debounce,
                  first_change + options_.max_delay});
    const absl::Duration wait = due - absl::Now();
    int timeout_ms = -1;
    if (due != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(wait) + 1, 0, 60'000));
    }
    pollfd fds[2] = {{wake_fd_, POLLIN, 0},
                     {watcher ? watcher->fd() : -1, POLLIN, 0}};
    if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
      LOG(ERROR) << "rescan thread: poll: " << std::strerror(errno);
      return;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      (void)!read(wake_fd_, &count, sizeof(count));
    }
    if (stop_.load()) return;
    const absl::Time now = absl::Now();
    if (watcher != nullptr && (fds[1].revents & POLLIN) && watcher->Drain()) {
      if (first_change == absl::InfiniteFuture()) first_change = now;
      last_change = now;
    }
    const bool requested = requested_.exchange(false);
    if (!requested && now < next_periodic &&
        now < last_change + options_.debounce &&
        now < first_change + options_.max_delay) {
      continue;
    }
    first_change = last_change = absl::InfiniteFuture();
    // Watch new directories before scanning, so that nothing written into
    // them after the scan goes unseen.
    if (watcher != nullptr) watcher->AddWatches();
    (void)RescanNow();  // Failures are logged and counted.
    if (periodic) next_periodic = absl::Now() + options_.rescan_interval;
  }
}

}  // namespace weightserver::server
