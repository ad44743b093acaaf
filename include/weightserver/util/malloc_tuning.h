// Copyright 2026 The Weightserver Authors.
//
// weightserver/util/malloc_tuning.h: glibc malloc settings for processes that stream
// gigabytes through gRPC.
//
// gRPC allocates and frees its message and socket buffers continuously. With
// glibc's defaults, buffers of 128 KiB and more are mmap'ed and unmapped each
// time, and freed heap tops are trimmed: every new buffer then costs page
// faults and zeroing of fresh pages (a third of a client's CPU time in
// profiles). This keeps freed memory for reuse instead: blocks below 64 MiB
// come from the heap, and up to 256 MiB of free heap stays mapped.
//
// Both want one arena. A client: with a heap per thread, the tops of the
// fetch workers' heaps are given back and faulted in again (a 2 GiB load
// took 3.5 times the page faults and 1.7 times the CPU, median of 6
// alternating runs). The server: malloc_trim, which its MemoryTrimmer calls
// after a spike of requests, never shrinks the top of a thread's arena, so
// with many arenas a spike stayed resident (25-35 MiB after 16 large
// requests in tests/integration/admission_test.cc); the server's CPU per GB
// did not change with one arena. MallocUse is kept for callers; both uses
// now get the same settings.
//
// Example (first thing in main):
//   weightserver::TuneMallocForStreaming(weightserver::MallocUse::kClient);
//
// Thread-safety: call once, before other threads start.
#ifndef WEIGHTSERVER_UTIL_MALLOC_TUNING_H_
#define WEIGHTSERVER_UTIL_MALLOC_TUNING_H_

namespace weightserver {

enum class MallocUse { kServer, kClient };

void TuneMallocForStreaming(MallocUse use);

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_MALLOC_TUNING_H_
