// Copyright 2026 The Weightserver Authors.
//
// server/sigbus_guard.cc
#include "server/sigbus_guard.h"

#include <setjmp.h>
#include <signal.h>

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

}  // namespace

// In both functions nothing with a destructor lives between sigsetjmp and
// the end of the guarded access, so a jump back leaks nothing.
bool GuardedCopy(void* dest, const void* src, size_t n) {
  EnsureHandler();
  sigjmp_buf here;
  if (sigsetjmp(here, 1) != 0) return false;
  recovery = &here;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(dest, src, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  recovery = nullptr;
  return true;
}

bool GuardedCrc32c(const void* src, size_t n, uint32_t* crc) {
  EnsureHandler();
  sigjmp_buf here;
  if (sigsetjmp(here, 1) != 0) return false;
  recovery = &here;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  *crc = Crc32cExtend(*crc, src, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  recovery = nullptr;
  return true;
}

}  // namespace weightserver::server
