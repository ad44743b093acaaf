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

// The served file mappings, readable from the signal handler. A slot's
// start is 0 when free and kClaimed while it is being filled in; the length
// and the poisoned flag are written before the start is published.
constexpr size_t kMaxMappings = 4096;
constexpr uintptr_t kClaimed = 1;
std::atomic<uintptr_t> mapping_start[kMaxMappings];
std::atomic<size_t> mapping_length[kMaxMappings];
std::atomic<bool> mapping_poisoned[kMaxMappings];
std::atomic<uint64_t> pages_patched{0};
uintptr_t page_size = 4096;  // Set before the handler is installed.

// The slot of the registered mapping holding `addr`, or -1.
int FindMapping(uintptr_t addr) {
  for (size_t i = 0; i < kMaxMappings; ++i) {
    const uintptr_t start = mapping_start[i].load(std::memory_order_acquire);
    if (start > kClaimed && addr >= start &&
        addr - start < mapping_length[i].load(std::memory_order_relaxed)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void OnSigbus(int sig, siginfo_t* info, void*) {
  if (sigjmp_buf* r = recovery) {
    recovery = nullptr;
    siglongjmp(*r, 1);
  }
  // An unguarded read (gRPC copying part of a payload slice) of a served
  // file's page that cannot be read (the file shrank, or the disk or a
  // network file system failed): put a zero page there and let the read go
  // on. The chunk's CRC was computed from the real bytes, so the client
  // rejects it, and the poisoned mapping fails every later read of the file
  // (MappedFile::Poisoned). Hardware memory errors (BUS_MCEERR_*) are not
  // ours to paper over.
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  const int slot = info->si_code == BUS_ADRERR ? FindMapping(addr) : -1;
  if (slot >= 0) {
    mapping_poisoned[slot].store(true, std::memory_order_release);
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

int RegisterMapping(const void* start, size_t length) {
  EnsureHandler();
  if (reinterpret_cast<uintptr_t>(start) <= kClaimed || length == 0) return -1;
  for (size_t i = 0; i < kMaxMappings; ++i) {
    uintptr_t expected = 0;
    if (mapping_start[i].load(std::memory_order_relaxed) != 0 ||
        !mapping_start[i].compare_exchange_strong(expected, kClaimed,
                                                  std::memory_order_acquire)) {
      continue;
    }
    mapping_length[i].store(length, std::memory_order_relaxed);
    mapping_poisoned[i].store(false, std::memory_order_relaxed);
    mapping_start[i].store(reinterpret_cast<uintptr_t>(start),
                           std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;
}

void UnregisterMapping(int slot) {
  if (slot >= 0 && static_cast<size_t>(slot) < kMaxMappings) {
    mapping_start[slot].store(0, std::memory_order_release);
  }
}

bool MappingPoisoned(int slot) {
  return slot >= 0 && static_cast<size_t>(slot) < kMaxMappings &&
         mapping_poisoned[slot].load(std::memory_order_acquire);
}

bool GuardedTouch(const void* src, size_t n) {
  EnsureHandler();
  if (n == 0) return true;
  sigjmp_buf here;
  if (sigsetjmp(here, 0) != 0) return false;
  recovery = &here;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const volatile char* p = static_cast<const char*>(src);
  for (size_t at = 0; at < n; at += page_size) (void)p[at];
  (void)p[n - 1];
  std::atomic_signal_fence(std::memory_order_seq_cst);
  recovery = nullptr;
  return true;
}

uint64_t PagesPatched() { return pages_patched.load(std::memory_order_relaxed); }

}  // namespace weightserver::server
