// Copyright 2026 The Weightserver Authors.
//
// client/cuda_copier.cc: compiled only with the CUDA toolkit (WS_HAVE_CUDA).
#include "client/cuda_copier.h"

#include <cuda_runtime_api.h>

#include "absl/strings/str_cat.h"

namespace weightserver::client {
namespace {

std::string Why(const char* call, cudaError_t e) {
  return absl::StrCat(call, ": ", cudaGetErrorString(e));
}

cudaStream_t Stream(void* s) { return static_cast<cudaStream_t>(s); }
cudaEvent_t Event(void* e) { return static_cast<cudaEvent_t>(e); }

}  // namespace

absl::StatusOr<int> CudaDeviceCount() {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no CUDA device available (",
        e != cudaSuccess ? Why("cudaGetDeviceCount", e)
                         : std::string("cudaGetDeviceCount: 0 devices"),
        ")"));
  }
  return count;
}

absl::StatusOr<std::unique_ptr<CudaCopier>> CudaCopier::Create(int index,
                                                               int slots) {
  absl::StatusOr<int> count = CudaDeviceCount();
  if (!count.ok()) return count.status();
  if (index < 0 || index >= *count || slots < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no CUDA device ", index, " (", *count, " present), or slots ", slots,
        " < 1"));
  }
  if (cudaError_t e = cudaSetDevice(index); e != cudaSuccess) {
    return absl::InternalError(Why("cudaSetDevice", e));
  }
  // The destructor releases whatever was created before a failure.
  std::unique_ptr<CudaCopier> c(new CudaCopier(index));
  cudaStream_t stream;
  if (cudaError_t e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
      e != cudaSuccess) {
    return absl::InternalError(Why("cudaStreamCreate", e));
  }
  c->stream_ = stream;
  for (int s = 0; s < slots; ++s) {
    cudaEvent_t ev;
    if (cudaError_t e = cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
        e != cudaSuccess) {
      return absl::InternalError(Why("cudaEventCreate", e));
    }
    c->events_.push_back(ev);
  }
  return c;
}

CudaCopier::~CudaCopier() {
  cudaSetDevice(index_);
  if (stream_ != nullptr) cudaStreamSynchronize(Stream(stream_));
  for (void* e : events_) cudaEventDestroy(Event(e));
  if (stream_ != nullptr) cudaStreamDestroy(Stream(stream_));
}

absl::StatusOr<void*> CudaCopier::AllocPinned(size_t n) {
  cudaSetDevice(index_);
  void* p = nullptr;
  if (cudaError_t e = cudaHostAlloc(&p, n, cudaHostAllocDefault);
      e != cudaSuccess) {
    return absl::ResourceExhaustedError(
        absl::StrCat(Why("cudaHostAlloc", e), " (", n, " bytes)"));
  }
  return p;
}

void CudaCopier::FreePinned(void* p) {
  if (p != nullptr) cudaFreeHost(p);
}

absl::StatusOr<void*> CudaCopier::AllocDevice(size_t n) {
  cudaSetDevice(index_);
  void* p = nullptr;
  if (cudaError_t e = cudaMalloc(&p, n); e != cudaSuccess) {
    cudaGetLastError();  // Clear the sticky-free error for later calls.
    return absl::ResourceExhaustedError(absl::StrCat(
        "out of device memory on cuda:", index_, " (", Why("cudaMalloc", e),
        ", ", n, " bytes)"));
  }
  return p;
}

void CudaCopier::FreeDevice(void* p) {
  if (p == nullptr) return;
  cudaSetDevice(index_);
  cudaFree(p);
}

absl::Status CudaCopier::CopyAsync(void* dst, const void* src, size_t n,
                                   int slot) {
  if (slot < 0 || slot >= slots()) {
    return absl::InvalidArgumentError(absl::StrCat("CUDA copier: slot ", slot));
  }
  cudaSetDevice(index_);
  if (cudaError_t e = cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice,
                                      Stream(stream_));
      e != cudaSuccess) {
    return absl::InternalError(Why("cudaMemcpyAsync", e));
  }
  if (cudaError_t e = cudaEventRecord(Event(events_[slot]), Stream(stream_));
      e != cudaSuccess) {
    return absl::InternalError(Why("cudaEventRecord", e));
  }
  return absl::OkStatus();
}

absl::Status CudaCopier::WaitSlot(int slot) {
  if (slot < 0 || slot >= slots()) {
    return absl::InvalidArgumentError(absl::StrCat("CUDA copier: slot ", slot));
  }
  cudaSetDevice(index_);
  if (cudaError_t e = cudaEventSynchronize(Event(events_[slot]));
      e != cudaSuccess) {
    return absl::InternalError(Why("cudaEventSynchronize", e));
  }
  return absl::OkStatus();
}

}  // namespace weightserver::client
