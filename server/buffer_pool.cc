// Copyright 2026 The Weightserver Authors.
//
// server/buffer_pool.cc
#include "server/buffer_pool.h"

#include <algorithm>
#include <cstdlib>

#include "util/clock.h"

namespace weightserver::server {
namespace {
constexpr size_t kAlignment = 4096;

size_t ClassCount(size_t max_buffer_bytes, size_t min_class) {
  size_t n = 1;
  while ((min_class << (n - 1)) < max_buffer_bytes) ++n;
  return n;
}
}  // namespace

BufferPool::BufferPool(size_t capacity_bytes, size_t max_buffer_bytes)
    : max_buffer_bytes_(std::max<size_t>(max_buffer_bytes, 1)),
      capacity_bytes_(std::max(
          capacity_bytes,
          kMinClassBytes << (ClassCount(max_buffer_bytes_, kMinClassBytes) - 1))),
      free_(ClassCount(max_buffer_bytes_, kMinClassBytes)) {}

BufferPool::~BufferPool() {
  MutexLock lock(&mu_);
  for (auto& list : free_) {
    for (std::byte* b : list) std::free(b);
  }
}

size_t BufferPool::BufferBytesFor(size_t bytes) {
  size_t size = kMinClassBytes;
  while (size < bytes) size <<= 1;
  return size;
}

size_t BufferPool::ClassOf(size_t bytes) const {
  size_t c = 0;
  while (ClassBytes(c) < bytes) ++c;
  return c;
}

std::byte* BufferPool::TryAcquire(size_t bytes) {
  if (bytes == 0 || bytes > max_buffer_bytes_) return nullptr;
  const size_t c = ClassOf(bytes);
  const size_t size = ClassBytes(c);
  std::vector<std::byte*> drop;  // Freed outside the lock.
  std::byte* buffer = nullptr;
  {
    MutexLock lock(&mu_);
    if (!free_[c].empty()) {
      buffer = free_[c].back();
      free_[c].pop_back();
    } else {
      // Make room by giving back free buffers of other classes, largest
      // first, when a new one would exceed the budget.
      for (size_t o = free_.size(); o-- > 0 &&
                                    allocated_bytes_ + size > capacity_bytes_;) {
        while (!free_[o].empty() && allocated_bytes_ + size > capacity_bytes_) {
          drop.push_back(free_[o].back());
          free_[o].pop_back();
          allocated_bytes_ -= ClassBytes(o);
        }
      }
      if (allocated_bytes_ + size <= capacity_bytes_) {
        buffer = static_cast<std::byte*>(std::aligned_alloc(kAlignment, size));
        if (buffer != nullptr) {
          allocated_bytes_ += size;
        } else {
          allocation_failed_ = true;
        }
      }
    }
    if (buffer != nullptr) {
      ++in_use_;
      bytes_in_use_ += size;
    }
  }
  for (std::byte* b : drop) std::free(b);
  return buffer;
}

void BufferPool::Release(std::byte* buffer, size_t bytes) {
  const size_t c = ClassOf(bytes);
  std::deque<std::function<void()>> waiters;
  {
    MutexLock lock(&mu_);
    free_[c].push_back(buffer);
    --in_use_;
    bytes_in_use_ -= ClassBytes(c);
    allocation_failed_ = false;
    waiters.swap(waiters_);
    starved_since_ns_ = 0;  // Those that lose the race wait anew.
  }
  for (auto& waiter : waiters) waiter();
}

bool BufferPool::WaitForRelease(size_t bytes, std::function<void()> callback,
                                bool under_share) {
  const size_t size = ClassBytes(ClassOf(std::min(bytes, max_buffer_bytes_)));
  {
    MutexLock lock(&mu_);
    if (allocation_failed_ && in_use_ == 0) return false;
    // TryAcquire succeeds exactly when the buffers in use leave room for
    // this class (free buffers of other classes can be given back).
    if (allocation_failed_ || bytes_in_use_ + size > capacity_bytes_) {
      if (under_share && starved_since_ns_ == 0) starved_since_ns_ = SteadyNowNs();
      waiters_.push_back(std::move(callback));
      waits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  callback();
  return true;
}

void BufferPool::AddUser(User* user) {
  MutexLock users(&users_mu_);
  users_.push_back(user);
  MutexLock lock(&mu_);
  users_count_ = users_.size();
}

void BufferPool::RemoveUser(User* user) {
  MutexLock users(&users_mu_);
  std::erase(users_, user);
  MutexLock lock(&mu_);
  users_count_ = users_.size();
}

size_t BufferPool::FairShareBytes(size_t bytes) const {
  const size_t one = ClassBytes(ClassOf(std::min(bytes, max_buffer_bytes_)));
  MutexLock lock(&mu_);
  return std::max(one, capacity_bytes_ / std::max<size_t>(users_count_, 1));
}

bool BufferPool::contended() const {
  MutexLock lock(&mu_);
  return !waiters_.empty();
}

int64_t BufferPool::starved_since_ns() const {
  MutexLock lock(&mu_);
  return starved_since_ns_;
}

void BufferPool::ShedFor(const User* requester, size_t bytes) {
  const size_t share = FairShareBytes(bytes);
  std::vector<std::pair<std::byte*, size_t>> shed;
  {
    MutexLock users(&users_mu_);
    for (User* u : users_) {
      if (u == requester) continue;
      for (auto& b : u->Shed(share)) shed.push_back(b);
    }
  }
  // Outside the locks: each release runs the waiters, which pump streams
  // (and may end them, removing users).
  for (const auto& [b, n] : shed) Release(b, n);
}

size_t BufferPool::in_use() const {
  MutexLock lock(&mu_);
  return in_use_;
}

size_t BufferPool::bytes_in_use() const {
  MutexLock lock(&mu_);
  return bytes_in_use_;
}

}  // namespace weightserver::server
