// Copyright 2026 The Weightserver Authors.
//
// client/host_arena.cc
#include "client/host_arena.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace weightserver::client {
namespace {
constexpr uint64_t kHugePage = 2 << 20;
}  // namespace

absl::StatusOr<HostArena> HostArena::Allocate(uint64_t size) {
  const uint64_t mapped =
      std::max<uint64_t>(1, (size + kHugePage - 1) / kHugePage) * kHugePage;
  // Over-map by one huge page to align the start to 2 MiB.
  void* raw = mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map ", size, " bytes of host memory: ",
                     std::strerror(errno)));
  }
  auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + mapped + kHugePage;
  if (end > aligned + mapped) {
    munmap(reinterpret_cast<void*>(aligned + mapped), end - (aligned + mapped));
  }
  // Best effort: without THP the memory still works with small pages.
  madvise(reinterpret_cast<void*>(aligned), mapped, MADV_HUGEPAGE);
  return HostArena(reinterpret_cast<std::byte*>(aligned), mapped);
}

HostArena::HostArena(HostArena&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

HostArena& HostArena::operator=(HostArena&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HostArena::~HostArena() {
  if (data_ != nullptr) munmap(data_, size_);
}

}  // namespace weightserver::client
