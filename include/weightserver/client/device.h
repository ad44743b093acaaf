// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/device.h: naming and opening a GPU for loads.
//
// A load into GPU memory (tensor_table.h: LoadToDevice, FetchToDevice) goes
// through a DeviceCopier (device_copier.h). OpenCudaCopier opens a real GPU;
// tests pass a fake. Chunks are decoded into a ring of pinned host slots
// (DeviceOptions), checked there, and only then copied to the device.
//
// Example:
//   ASSIGN_OR_RETURN(DeviceSpec dev, ParseDevice("cuda:0"));
//   ASSIGN_OR_RETURN(std::shared_ptr<DeviceCopier> gpu,
//                    OpenCudaCopier(dev.index, DeviceOptions{}));
//
// Thread-safety: pure functions; a copier is thread-safe.
#ifndef WEIGHTSERVER_CLIENT_DEVICE_H_
#define WEIGHTSERVER_CLIENT_DEVICE_H_

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "weightserver/client/device_copier.h"

namespace weightserver::client {

// A --device value: "cpu", "cuda" (device 0) or "cuda:N".
struct DeviceSpec {
  enum class Kind { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int index = 0;
};
// Errors: INVALID_ARGUMENT for anything else ("gpu", "cuda:", "cuda:-1",
// "cuda:1x", " cpu").
absl::StatusOr<DeviceSpec> ParseDevice(absl::string_view text);

// Whether this build has the CUDA destination (the toolkit was found).
bool HaveCuda();

struct DeviceOptions {
  // The ring of pinned host slots: each holds one chunk, so slot_bytes must
  // be at least ClientOptions::chunk_bytes.
  int pinned_slots = 8;
  size_t slot_bytes = 4 << 20;
};

// A CUDA copier for device `index` with options.pinned_slots slots.
// Errors: FAILED_PRECONDITION "no CUDA device available (...)" without a
// usable device, or "this build has no CUDA support ..." without the toolkit;
// INVALID_ARGUMENT for a device index not present.
absl::StatusOr<std::shared_ptr<DeviceCopier>> OpenCudaCopier(
    int index, const DeviceOptions& options);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_DEVICE_H_
