// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/device_copier.h: the few device operations the GPU destination needs.
//
// DeviceRing (device_ring.h) moves verified chunks from pinned host slots to
// device memory through this interface, so its ordering and recycling logic
// runs, and is tested, without a GPU: CudaCopier (cuda_copier.h) is the CUDA
// runtime (one stream, one event per slot); tests use a fake whose "device"
// is host memory and whose copies complete late, or fail, on demand.
//
// Copies are asynchronous and tagged with a slot (0 <= slot < slots()): the
// source of a slot's copy must stay untouched until WaitSlot(slot) returned.
// A slot has at most one copy outstanding at a time (the ring guarantees it).
//
// Example:
//   ASSIGN_OR_RETURN(void* pinned, copier->AllocPinned(n));
//   RETURN_IF_ERROR(copier->CopyAsync(device_dst, pinned, n, /*slot=*/0));
//   RETURN_IF_ERROR(copier->WaitSlot(0));   // pinned may be rewritten now
//
// Thread-safety: every method may be called from several threads at once.
#ifndef WEIGHTSERVER_CLIENT_DEVICE_COPIER_H_
#define WEIGHTSERVER_CLIENT_DEVICE_COPIER_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weightserver::client {

class DeviceCopier {
 public:
  virtual ~DeviceCopier() = default;

  // Number of slots copies can be tagged with.
  virtual int slots() const = 0;

  // Page-locked host memory of `n` bytes. Errors: RESOURCE_EXHAUSTED.
  virtual absl::StatusOr<void*> AllocPinned(size_t n) = 0;
  virtual void FreePinned(void* p) = 0;
  // Device memory of `n` bytes. Errors: RESOURCE_EXHAUSTED (out of device
  // memory).
  virtual absl::StatusOr<void*> AllocDevice(size_t n) = 0;
  virtual void FreeDevice(void* p) = 0;

  // Starts copying `n` bytes from pinned `src` to device `dst`, tagged with
  // `slot`. Errors: the enqueue's failure (INTERNAL); a failure of the copy
  // itself shows in WaitSlot.
  virtual absl::Status CopyAsync(void* dst, const void* src, size_t n,
                                 int slot) = 0;
  // Blocks until the last copy tagged `slot` (if any) is done. Errors: that
  // copy's failure (INTERNAL, DATA_LOSS...).
  virtual absl::Status WaitSlot(int slot) = 0;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_DEVICE_COPIER_H_
