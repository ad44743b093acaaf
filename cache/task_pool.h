// Copyright 2026 The Weightserver Authors.
//
// cache/task_pool.h: the threads that fetch and check a cache's blocks.
//
// A fixed number of threads runs posted tasks in order of posting. The
// pool bounds the cache's upstream reads in flight, and with them its
// block buffers (threads x block size). Tasks must not wait for other tasks.
//
// Example:
//   TaskPool pool(8);
//   pool.Post([] { ... });
//
// Thread-safety: Post may be called from any thread, tasks included.
#ifndef WEIGHTSERVER_CACHE_TASK_POOL_H_
#define WEIGHTSERVER_CACHE_TASK_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace weightserver::cache {

class TaskPool {
 public:
  explicit TaskPool(int threads);
  // Drops the tasks not started yet (a cache going away fetches nothing
  // more; its streams are gone), lets the running ones finish, and joins.
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  void Post(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks posted and not yet finished.
  size_t pending() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();

  mutable Mutex mu_;
  CondVar cv_;  // A task was posted, or stopping_ was set.
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace weightserver::cache

#endif  // WEIGHTSERVER_CACHE_TASK_POOL_H_
