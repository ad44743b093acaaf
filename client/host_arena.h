// Copyright 2026 The Weightserver Authors.
//
// client/host_arena.h: one block of host memory for a model's tensors.
//
// A fresh gigabyte of memory costs its page faults and their zeroing when it
// is first written; with 4 KiB pages that is a quarter of a million faults,
// which showed as ~35% of the client's CPU in a load. HostArena maps
// anonymous memory and asks for transparent huge pages (MADV_HUGEPAGE), which
// cuts the faults 512-fold where the kernel allows it, except on a VM that
// hands freed memory back to its host (ArenaUsesHugePages). Zeroing the
// pages is still the ceiling of a load into new memory on a slow VM;
// ArenaPrefaulter moves it to a second thread, ahead of the stream (bench/:
// 1.7x).
//
// Example:
//   ASSIGN_OR_RETURN(HostArena arena, HostArena::Allocate(n));
//   std::byte* p = arena.data();
//   ArenaPrefaulter prefault(arena.data(), arena.size());  // While filling.
//
// Thread-safety: a value; distinct arenas are independent.
#ifndef WEIGHTSERVER_CLIENT_HOST_ARENA_H_
#define WEIGHTSERVER_CLIENT_HOST_ARENA_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace weightserver::client {

// Whether HostArena asks for huge pages; decided once per process. On a VM
// whose balloon reports free pages to its host (virtio-balloon
// VIRTIO_BALLOON_F_REPORTING, as Firecracker's), memory the host took back
// is about 4x slower to fault in as huge pages than as 4 KiB pages, and a
// starting worker's memory mostly is such (docs/benchmarks.md): there the
// arena asks for 4 KiB pages (MADV_NOHUGEPAGE). WEIGHTSERVER_HUGE_PAGES=1 or
// =0 in the environment decides instead.
bool ArenaUsesHugePages();

// The decision from its inputs: WEIGHTSERVER_HUGE_PAGES (null: unset; any
// value but "0" and "1" is ignored) and the feature bits of each virtio
// balloon device (the contents of /sys/bus/virtio/drivers/virtio_balloon/
// */features: one '0' or '1' per bit, bit 0 first).
bool HugePagesFor(const char* env,
                  const std::vector<std::string>& balloon_features);

class HostArena {
 public:
  HostArena() = default;
  // `size` bytes, 2 MiB aligned (at least one byte is mapped), in huge
  // pages when ArenaUsesHugePages().
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

// Faults [data, data + size) in, writable, on a thread of its own, 32 MiB at a
// time in address order, while the caller fills the memory: the kernel's
// page zeroing then runs beside the receive instead of inside it. It uses
// MADV_POPULATE_WRITE (Linux 5.14), which never changes a page's contents, so
// it is safe next to concurrent writes; on older kernels it does nothing.
// Destruction stops the thread (after the step in progress) and joins it.
class ArenaPrefaulter {
 public:
  ArenaPrefaulter(std::byte* data, uint64_t size);
  ArenaPrefaulter(const ArenaPrefaulter&) = delete;
  ArenaPrefaulter& operator=(const ArenaPrefaulter&) = delete;
  ~ArenaPrefaulter();

  // Bytes faulted in so far (for tests).
  uint64_t faulted() const { return faulted_.load(); }
  // Waits until the thread has finished (all faulted in, or unsupported).
  void Join();

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> faulted_{0};
  std::thread thread_;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_HOST_ARENA_H_
