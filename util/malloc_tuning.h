// Copyright 2026 The Weightserver Authors.
//
// util/malloc_tuning.h: glibc malloc settings for processes that stream
// gigabytes through gRPC.
//
// gRPC allocates and frees its message and socket buffers continuously. With
// glibc's defaults, buffers of 128 KiB and more are mmap'ed and unmapped each
// time, and freed heap tops are trimmed: every new buffer then costs page
// faults and zeroing of fresh pages (a third of a client's CPU time in
// profiles). This keeps freed memory for reuse instead: blocks below 64 MiB
// come from the heap, and up to 256 MiB of free heap stays mapped.
//
// Example (first thing in main):
//   weightserver::TuneMallocForStreaming();
//
// Thread-safety: call once, before other threads start.
#ifndef WEIGHTSERVER_UTIL_MALLOC_TUNING_H_
#define WEIGHTSERVER_UTIL_MALLOC_TUNING_H_

namespace weightserver {

void TuneMallocForStreaming();

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_MALLOC_TUNING_H_
