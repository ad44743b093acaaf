// Copyright 2026 The Weightserver Authors.
//
// client/host_arena.h: one block of host memory for a model's tensors.
//
// A fresh gigabyte of memory costs its page faults and their zeroing when it
// is first written; with 4 KiB pages that is a quarter of a million faults,
// which showed as ~35% of the client's CPU in a load. HostArena maps
// anonymous memory and asks for transparent huge pages (MADV_HUGEPAGE), which
// cuts the faults 512-fold where the kernel allows it.
//
// Example:
//   ASSIGN_OR_RETURN(HostArena arena, HostArena::Allocate(n));
//   std::byte* p = arena.data();
//
// Thread-safety: a value; distinct arenas are independent.
#ifndef WEIGHTSERVER_CLIENT_HOST_ARENA_H_
#define WEIGHTSERVER_CLIENT_HOST_ARENA_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace weightserver::client {

class HostArena {
 public:
  HostArena() = default;
  // `size` bytes, 2 MiB aligned (at least one byte is mapped).
  // Errors: ResourceExhausted when the memory cannot be mapped.
  static absl::StatusOr<HostArena> Allocate(uint64_t size);

  HostArena(HostArena&& other) noexcept;
  HostArena& operator=(HostArena&& other) noexcept;
  HostArena(const HostArena&) = delete;
  HostArena& operator=(const HostArena&) = delete;
  ~HostArena();

  std::byte* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  HostArena(std::byte* data, uint64_t mapped) : data_(data), size_(mapped) {}
  std::byte* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_HOST_ARENA_H_
