// Copyright 2026 The Weightserver Authors.
//
// server/sigbus_guard.h: copy from a file mapping without dying of SIGBUS.
//
// Touching a mapped page past the end of a file that was truncated after it
// was mapped raises SIGBUS, which would kill the daemon. GuardedGather and
// GuardedCrc32c read under a thread-local recovery point: the process-wide
// SIGBUS handler jumps back to it, and the call reports failure instead. A
// SIGBUS outside a guarded read in a registered mapping gets a zero page
// (see RegisterMapping); any other is not ours: the handler restores the
// default action and re-raises it. A guarded call costs no system call: the
// handler runs with SA_NODEFER and an empty sa_mask, so the signal mask is
// the same inside it as outside, and the recovery point need not save and
// restore it.
//
// Example:
//   GatherPiece piece{mapping + offset, n, dest};
//   if (!GuardedGather(&piece, 1, nullptr)) {
//     return absl::DataLossError("file truncated while served");
//   }
//
// Thread-safety: safe from any number of threads at once.
#ifndef WEIGHTSERVER_SERVER_SIGBUS_GUARD_H_
#define WEIGHTSERVER_SERVER_SIGBUS_GUARD_H_

#include <cstddef>
#include <cstdint>

namespace weightserver::server {

// Extends *crc (CRC32C) over `n` bytes at `src`; false when a SIGBUS
// interrupted it (*crc is then unspecified).
bool GuardedCrc32c(const void* src, size_t n, uint32_t* crc);

// One piece of a gather: `length` bytes at `src` go to `dest`.
struct GatherPiece {
  const std::byte* src;
  size_t length;
  std::byte* dest;
};

// Copies every piece, in order, under one recovery point (a fragmented slice
// has thousands of small pieces per chunk). False when a SIGBUS interrupted
// it; *failed (if non-null) is then the piece's index.
bool GuardedGather(const GatherPiece* pieces, size_t count, size_t* failed);

// Reads one byte of every page of [src, src + n), so that a page fault
// happens here, under the guard, rather than later on a gRPC thread; false
// when a SIGBUS interrupted it.
bool GuardedTouch(const void* src, size_t n);

// Registers a served file's mapping [start, start + length) and returns its
// slot, or -1 when the registry (4096 mappings) is full (that mapping keeps
// the default behaviour). A SIGBUS (BUS_ADRERR) on one of its pages outside
// a guarded read then replaces that page with a zero page, marks the mapping
// poisoned and lets the read go on, instead of killing the daemon. The
// reader is gRPC copying part of a payload slice that points into the
// mapping after the file shrank or its storage failed (the kernel's own send
// fails with EFAULT instead, and gRPC closes that connection). The chunk's
// CRC, computed from the real bytes, makes the client reject it. Installs
// the handler.
int RegisterMapping(const void* start, size_t length);
// Before unmapping.
void UnregisterMapping(int slot);
// Whether a page of the mapping in `slot` was replaced by a zero page: its
// bytes can no longer be trusted.
bool MappingPoisoned(int slot);

// Pages replaced so far (for tests and logs).
uint64_t PagesPatched();

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_SIGBUS_GUARD_H_
