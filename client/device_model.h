// Copyright 2026 The Weightserver Authors.
//
// client/device_model.h: a model's tensors loaded into GPU memory.
//
// LoadToDevice allocates one device arena for the chosen tensors (each tensor
// at a 256-byte aligned address), fetches them through a DeviceRing (every
// chunk verified on pinned host bytes before its copy) and returns the arena
// with a view of every tensor. FetchToDevice does the same into device
// memory the caller owns. Both work with any DeviceCopier: OpenCudaCopier for
// a real GPU, a fake in tests.
//
// Example:
//   ASSIGN_OR_RETURN(DeviceSpec dev, ParseDevice("cuda:0"));
//   ASSIGN_OR_RETURN(std::shared_ptr<DeviceCopier> gpu,
//                    OpenCudaCopier(dev.index, DeviceOptions{}));
//   ASSIGN_OR_RETURN(DeviceModel m, LoadToDevice(*client, toc, {}, gpu));
//   const DeviceTensor* w = m.Find("lm_head.weight");
//   // w->data (a device pointer), w->dtype ("BF16"), w->shape
//
// Thread-safety: a DeviceModel is an immutable value once returned.
#ifndef WEIGHTSERVER_CLIENT_DEVICE_MODEL_H_
#define WEIGHTSERVER_CLIENT_DEVICE_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "client/client.h"
#include "client/device_copier.h"

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

struct DeviceTensor {
  std::string name;
  std::string dtype;  // The safetensors dtype string.
  std::vector<uint64_t> shape;
  void* data = nullptr;  // Device memory.
  uint64_t size = 0;     // Bytes.
};

class DeviceModel {
 public:
  DeviceModel() = default;
  DeviceModel(DeviceModel&& other) noexcept;
  DeviceModel& operator=(DeviceModel&& other) noexcept;
  DeviceModel(const DeviceModel&) = delete;
  DeviceModel& operator=(const DeviceModel&) = delete;
  ~DeviceModel();  // Frees the device arena.

  const std::vector<DeviceTensor>& tensors() const { return tensors_; }
  // The tensor named `name`, or nullptr.
  const DeviceTensor* Find(absl::string_view name) const;
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  friend absl::StatusOr<DeviceModel> LoadToDevice(
      const Client&, const v1::Model&, absl::Span<const std::string>,
      std::shared_ptr<DeviceCopier>, const DeviceOptions&);
  std::shared_ptr<DeviceCopier> copier_;  // Frees arena_.
  void* arena_ = nullptr;
  std::vector<DeviceTensor> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  uint64_t total_bytes_ = 0;
};

// A destination in device memory the caller owns: `size` bytes at `device`,
// exactly the tensor's length.
struct DeviceFetchItem {
  std::string tensor;
  void* device = nullptr;
  uint64_t size = 0;
};

// Fetches `items` of `model` into device memory through `copier`; returns
// once every copy is complete. Errors: Client::Fetch's; the ring's
// (RESOURCE_EXHAUSTED for pinned memory, INVALID_ARGUMENT for chunks larger
// than slot_bytes, a failed copy's status), with nothing leaked.
absl::Status FetchToDevice(const Client& client, const v1::Model& model,
                           absl::Span<const DeviceFetchItem> items,
                           DeviceCopier* copier, const DeviceOptions& options);

// Loads the tensors `names` of `model` (all when empty) into one device
// arena allocated through `copier`. Errors: NOT_FOUND for an unknown name;
// RESOURCE_EXHAUSTED when the arena cannot be allocated (out of device
// memory); otherwise FetchToDevice's.
absl::StatusOr<DeviceModel> LoadToDevice(const Client& client,
                                         const v1::Model& model,
                                         absl::Span<const std::string> names,
                                         std::shared_ptr<DeviceCopier> copier,
                                         const DeviceOptions& options = {});

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_DEVICE_MODEL_H_
