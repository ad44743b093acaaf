// Copyright 2026 The Weightserver Authors.
//
// client/cuda_copier.h: DeviceCopier over the CUDA runtime API.
//
// One dedicated non-blocking stream carries every copy; each slot has an
// event recorded after its copy, and WaitSlot synchronizes on that event.
// Pinned memory is cudaHostAlloc'd, device memory cudaMalloc'd, all on
// device `index`. Built only when CMake found the CUDA toolkit (WS_HAVE_CUDA);
// no CUDA header leaks out of here.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<CudaCopier> c, CudaCopier::Create(0, 8));
//
// Thread-safety: as DeviceCopier (the CUDA runtime is thread-safe; every call
// selects the copier's device first).
#ifndef WEIGHTSERVER_CLIENT_CUDA_COPIER_H_
#define WEIGHTSERVER_CLIENT_CUDA_COPIER_H_

#include <memory>
#include <vector>

#include "weightserver/client/device_copier.h"

namespace weightserver::client {

// The number of CUDA devices. Errors: FAILED_PRECONDITION "no CUDA device
// available (cudaGetDeviceCount: <reason>)" when there is none (no driver,
// driver too old, no device).
absl::StatusOr<int> CudaDeviceCount();

class CudaCopier final : public DeviceCopier {
 public:
  // A copier on device `index` with `slots` events. Errors: CudaDeviceCount's;
  // INVALID_ARGUMENT when there is no device `index` or slots < 1; INTERNAL
  // when the stream or events cannot be created (nothing leaks).
  static absl::StatusOr<std::unique_ptr<CudaCopier>> Create(int index,
                                                            int slots);
  ~CudaCopier() override;

  int slots() const override { return static_cast<int>(events_.size()); }
  absl::StatusOr<void*> AllocPinned(size_t n) override;
  void FreePinned(void* p) override;
  absl::StatusOr<void*> AllocDevice(size_t n) override;
  void FreeDevice(void* p) override;
  absl::Status CopyAsync(void* dst, const void* src, size_t n,
                         int slot) override;
  absl::Status WaitSlot(int slot) override;

 private:
  explicit CudaCopier(int index) : index_(index) {}
  const int index_;
  void* stream_ = nullptr;      // cudaStream_t
  std::vector<void*> events_;   // cudaEvent_t, one per slot
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_CUDA_COPIER_H_
