// Copyright 2026 The Weightserver Authors.
//
// fuzz/check.h: the fuzzers' invariant check. A broken invariant aborts,
// which libFuzzer reports as a crash and saves the input that did it.
#ifndef WEIGHTSERVER_FUZZ_CHECK_H_
#define WEIGHTSERVER_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

namespace weightserver::fuzz {

// Aborts, naming `fuzzer` and the invariant `what`, unless `ok`.
inline void Check(bool ok, const char* fuzzer, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s: invariant broken: %s\n", fuzzer, what);
    std::abort();
  }
}

}  // namespace weightserver::fuzz

#endif  // WEIGHTSERVER_FUZZ_CHECK_H_
