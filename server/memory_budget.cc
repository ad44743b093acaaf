// Copyright 2026 The Weightserver Authors.
//
// server/memory_budget.cc
#include "server/memory_budget.h"

#include <malloc.h>

#include <utility>

namespace weightserver::server {

MemoryBudget::Charge::Charge(Charge&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)) {}

MemoryBudget::Charge& MemoryBudget::Charge::operator=(Charge&& other) noexcept {
  if (this != &other) {
    if (budget_ != nullptr) budget_->Release(bytes_);
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

MemoryBudget::Charge::~Charge() {
  if (budget_ != nullptr) budget_->Release(bytes_);
}

MemoryBudget::MemoryBudget(uint64_t capacity_bytes)
    : capacity_(capacity_bytes) {}

std::optional<MemoryBudget::Charge> MemoryBudget::TryCharge(uint64_t bytes) {
  MutexLock lock(&mu_);
  if (bytes > capacity_ - used_) return std::nullopt;
  used_ += bytes;
  return Charge(this, bytes);
}

void MemoryBudget::Release(uint64_t bytes) {
  MutexLock lock(&mu_);
  used_ -= bytes;
}

uint64_t MemoryBudget::used() const {
  MutexLock lock(&mu_);
  return used_;
}

MemoryTrimmer::MemoryTrimmer(absl::Duration interval, uint64_t min_free_bytes)
    : interval_(interval), min_free_bytes_(min_free_bytes) {
  if (interval_ > absl::ZeroDuration() && interval_ != absl::InfiniteDuration()) {
    thread_ = std::thread([this] { Loop(); });
  }
}

MemoryTrimmer::~MemoryTrimmer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void MemoryTrimmer::Loop() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    cv_.WaitWithTimeout(&mu_, interval_);
    if (stopping_) break;
    // fordblks: free bytes in malloc's arenas (not mmap'ed chunks).
    if (mallinfo2().fordblks >= min_free_bytes_) {
      malloc_trim(0);
      trims_.fetch_add(1);
    }
  }
}

}  // namespace weightserver::server
