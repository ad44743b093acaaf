// Copyright 2026 The Weightserver Authors.
//
// server/sigbus_guard.cc
#include "server/sigbus_guard.h"

#include <setjmp.h>
#include <signal.h>

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

void OnSigbus(int sig, siginfo_t*, void*) {
  if (sigjmp_buf* r = recovery) {
    recovery = nullptr;
    siglongjmp(*r, 1);
  }
  // Not a guarded access: behave as if we had no handler.
  signal(sig, SIG_DFL);
  raise(sig);
}

void EnsureHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
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

}  // namespace weightserver::server
