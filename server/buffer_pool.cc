// Copyright 2026 The Weightserver Authors.
//
// server/buffer_pool.cc
#include "server/buffer_pool.h"

#include <cstdlib>

namespace weightserver::server {
namespace {
constexpr size_t kAlignment = 4096;
}  // namespace

BufferPool::BufferPool(size_t buffer_bytes, size_t max_buffers)
    : buffer_bytes_((buffer_bytes + kAlignment - 1) / kAlignment * kAlignment),
      max_buffers_(max_buffers) {}

BufferPool::~BufferPool() {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::byte* b : free_) std::free(b);
}

std::byte* BufferPool::TryAcquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!free_.empty()) {
    std::byte* b = free_.back();
    free_.pop_back();
    ++in_use_;
    return b;
  }
  if (allocated_ >= max_buffers_) return nullptr;
  void* p = std::aligned_alloc(kAlignment, buffer_bytes_);
  if (p == nullptr) return nullptr;
  ++allocated_;
  ++in_use_;
  return static_cast<std::byte*>(p);
}

void BufferPool::Release(std::byte* buffer) {
  std::deque<std::function<void()>> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(buffer);
    --in_use_;
    waiters.swap(waiters_);
  }
  for (auto& waiter : waiters) waiter();
}

void BufferPool::WaitForRelease(std::function<void()> callback) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty() && allocated_ >= max_buffers_) {
      waiters_.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

size_t BufferPool::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

}  // namespace weightserver::server
