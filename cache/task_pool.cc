// Copyright 2026 The Weightserver Authors.
//
// cache/task_pool.cc
#include "cache/task_pool.h"

#include <utility>

namespace weightserver::cache {

TaskPool::TaskPool(int threads) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

TaskPool::~TaskPool() {
  std::deque<std::function<void()>> dropped;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  cv_.SignalAll();
  for (std::thread& t : threads_) t.join();
  dropped.clear();  // What the tasks held, outside the lock.
}

void TaskPool::Post(std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(task));
  }
  cv_.Signal();
}

size_t TaskPool::pending() const {
  MutexLock lock(&mu_);
  return queue_.size() + running_;
}

void TaskPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // Stopping, and nothing left.
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    task();
    task = nullptr;  // What it captured goes before the count drops.
    MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace weightserver::cache
