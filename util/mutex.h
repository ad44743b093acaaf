// Copyright 2026 The Weightserver Authors.
//
// util/mutex.h: the mutex, scoped lock and condition variable of this code.
//
// Why not absl::Mutex: Debian's Abseil is a shared library built without
// ThreadSanitizer, and absl::Mutex synchronises through its own futex code,
// so a TSan build cannot see its happens-before edges (every guarded field
// then reads as a race). Why not bare std::mutex: libstdc++ does not carry
// clang's capability annotations, so ABSL_GUARDED_BY would go unchecked.
// These wrap std::mutex / std::condition_variable (pthreads, which TSan
// intercepts) and carry the annotations (-Wthread-safety checks them).
//
// Example:
//   Mutex mu_;
//   CondVar ready_;
//   std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
//   ...
//   MutexLock lock(&mu_);
//   while (queue_.empty()) ready_.Wait(&mu_);
//
// Thread-safety: these are the synchronisation.
#ifndef WEIGHTSERVER_UTIL_MUTEX_H_
#define WEIGHTSERVER_UTIL_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace weightserver {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// A Mutex the holding thread may lock again (for a callback that re-enters).
class ABSL_LOCKABLE RecursiveMutex {
 public:
  RecursiveMutex() = default;
  RecursiveMutex(const RecursiveMutex&) = delete;
  RecursiveMutex& operator=(const RecursiveMutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::recursive_mutex mu_;
};

// Holds `mu` (a Mutex or RecursiveMutex) from construction to destruction.
template <typename M>
class ABSL_SCOPED_LOCKABLE BasicMutexLock {
 public:
  explicit BasicMutexLock(M* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~BasicMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  BasicMutexLock(const BasicMutexLock&) = delete;
  BasicMutexLock& operator=(const BasicMutexLock&) = delete;

 private:
  M* const mu_;
};
using MutexLock = BasicMutexLock<Mutex>;
using RecursiveMutexLock = BasicMutexLock<RecursiveMutex>;

class CondVar {
 public:
  // Releases `mu`, waits for a Signal (or a spurious wake-up), re-acquires.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Wait, for at most `timeout` (infinite: Wait); true when it timed out.
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (timeout == absl::InfiniteDuration()) {
      Wait(mu);
      return false;
    }
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool timed_out =
        cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout)) ==
        std::cv_status::timeout;
    lock.release();
    return timed_out;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_MUTEX_H_
