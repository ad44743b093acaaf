// Copyright 2026 The Weightserver Authors.
//
// server/sigbus_guard.cc
#include "server/sigbus_guard.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "util/crc32c.h"

namespace weightserver::server {
namespace {

// Read by the signal handler on the same thread: every store to it is
// fenced (atomic_signal_fence) so the compiler can neither drop it as dead
// nor move the guarded access across it.
thread_local sigjmp_buf* recovery = nullptr;

// The served file mappings, readable from the signal handler: a slot is
// free when its start is 0; the length is stored before the start.
constexpr size_t kMaxMappings = 4096;
std::atomic<uintptr_t> mapping_start[kMaxMappings];
std::atomic<size_t> mapping_length[kMaxMappings];
std::atomic<uint64_t> pages_patched{0};
uintptr_t page_size = 4096;  // Set before the handler is installed.

bool InRegisteredMapping(uintptr_t addr) {
  for (size_t i = 0; i < kMaxMappings; ++i) {
    const uintptr_t start = mapping_start[i].load(std::memory_order_acquire);
    if (start != 0 && addr >= start &&
        addr - start < mapping_length[i].load(std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void OnSigbus(int sig, siginfo_t* info, void*) {
  if (sigjmp_buf* r = recovery) {
    recovery = nullptr;
    siglongjmp(*r, 1);
  }
  // An unguarded read of a served file's vanished page (gRPC or the kernel
  // sending a payload slice): put a zero page there and let the read go on.
  // The chunk's CRC was computed from the real bytes, so the client rejects
  // it; the next read of the file reports the truncation.
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (InRegisteredMapping(addr)) {
    void* page = reinterpret_cast<void*>(addr & ~(page_size - 1));
    if (mmap(page, page_size, PROT_READ,
             MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) {
      pages_patched.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  // Not ours: behave as if we had no handler.
  signal(sig, SIG_DFL);
  raise(sig);
}

void EnsureHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, nullptr);
  });
}

// The rows of a column shard are each on a different page: the hardware
// prefetcher does not follow them, so the gather asks for the lines of a
// piece a few pieces ahead. (A prefetch never faults, so it is safe on a
// truncated mapping.)
constexpr size_t kPrefetchAhead = 4;
constexpr size_t kPrefetchBytes = 2048;  // Longer pieces stream by themselves.

inline void Prefetch(const GatherPiece& p) {
  const size_t n = std::min(p.length, kPrefetchBytes);
  for (size_t line = 0; line < n; line += 64) __builtin_prefetch(p.src + line);
}

}  // namespace

// sigsetjmp(here, 0): the mask is not saved, see the header.
// In these functions nothing with a destructor lives between sigsetjmp and
// the end of the guarded access, so a jump back leaks nothing.
bool GuardedCrc32c(const void* src, size_t n, uint32_t* crc) {
  EnsureHandler();
  sigjmp_buf here;
  if (sigsetjmp(here, 0) != 0) return false;
  recovery = &here;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  *crc = Crc32cExtend(*crc, src, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  recovery = nullptr;
  return true;
}

bool GuardedGather(const GatherPiece* pieces, size_t count, size_t* failed) {
  EnsureHandler();
  sigjmp_buf here;
  // Volatile: read after a jump back, so it must not live in a register.
  volatile size_t at = 0;
  if (sigsetjmp(here, 0) != 0) {
    if (failed != nullptr) *failed = at;
    return false;
  }
  recovery = &here;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  for (size_t i = 0; i < count; ++i) {
    at = i;
    if (i + kPrefetchAhead < count) Prefetch(pieces[i + kPrefetchAhead]);
    const GatherPiece& p = pieces[i];
    std::memcpy(p.dest, p.src, p.length);
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  recovery = nullptr;
  return true;
}

bool RegisterMapping(const void* start, size_t length) {
  EnsureHandler();
  if (start == nullptr || length == 0) return false;
  for (size_t i = 0; i < kMaxMappings; ++i) {
    uintptr_t expected = 0;
    if (mapping_start[i].load(std::memory_order_relaxed) != 0) continue;
    mapping_length[i].store(length, std::memory_order_relaxed);
    if (mapping_start[i].compare_exchange_strong(
            expected, reinterpret_cast<uintptr_t>(start),
            std::memory_order_release)) {
      return true;
    }
  }
  return false;
}

void UnregisterMapping(const void* start) {
  const auto s = reinterpret_cast<uintptr_t>(start);
  if (s == 0) return;
  for (size_t i = 0; i < kMaxMappings; ++i) {
    uintptr_t expected = s;
    if (mapping_start[i].compare_exchange_strong(expected, 0,
                                                 std::memory_order_release)) {
      return;
    }
  }
}

uint64_t PagesPatched() { return pages_patched.load(std::memory_order_relaxed); }

}  // namespace weightserver::server
