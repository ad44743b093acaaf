// Copyright 2026 The Weightserver Authors.
//
// client/device_model.cc
#include "client/device_model.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/device_ring.h"
#include "util/status_macros.h"
#ifndef WS_HAVE_CUDA
#define WS_HAVE_CUDA 0
#endif
#if WS_HAVE_CUDA
#include "client/cuda_copier.h"
#endif

namespace weightserver::client {
namespace {
constexpr uint64_t kAlignment = 256;  // cudaMalloc's own alignment.
}  // namespace

absl::StatusOr<DeviceSpec> ParseDevice(absl::string_view text) {
  if (text == "cpu") return DeviceSpec{DeviceSpec::Kind::kCpu, 0};
  if (text == "cuda") return DeviceSpec{DeviceSpec::Kind::kCuda, 0};
  absl::string_view rest = text;
  int index = -1;
  if (absl::ConsumePrefix(&rest, "cuda:") && !rest.empty() &&
      rest.find_first_not_of("0123456789") == absl::string_view::npos &&
      rest.size() <= 4 && absl::SimpleAtoi(rest, &index)) {
    return DeviceSpec{DeviceSpec::Kind::kCuda, index};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid device '", text, "' (expected cpu, cuda or cuda:N)"));
}

bool HaveCuda() { return WS_HAVE_CUDA != 0; }

absl::StatusOr<std::shared_ptr<DeviceCopier>> OpenCudaCopier(
    int index, const DeviceOptions& options) {
#if WS_HAVE_CUDA
  absl::StatusOr<std::unique_ptr<CudaCopier>> c =
      CudaCopier::Create(index, options.pinned_slots);
  if (!c.ok()) return c.status();
  return std::shared_ptr<DeviceCopier>(*std::move(c));
#else
  return absl::FailedPreconditionError(
      "this build has no CUDA support (the CUDA toolkit was not found when it "
      "was built)");
#endif
}

DeviceModel::DeviceModel(DeviceModel&& other) noexcept {
  *this = std::move(other);
}

DeviceModel& DeviceModel::operator=(DeviceModel&& other) noexcept {
  if (this != &other) {
    if (arena_ != nullptr) copier_->FreeDevice(arena_);
    copier_ = std::move(other.copier_);
    arena_ = std::exchange(other.arena_, nullptr);
    tensors_ = std::move(other.tensors_);
    index_ = std::move(other.index_);
    total_bytes_ = std::exchange(other.total_bytes_, 0);
  }
  return *this;
}

DeviceModel::~DeviceModel() {
  if (arena_ != nullptr) copier_->FreeDevice(arena_);
}

const DeviceTensor* DeviceModel::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::Status FetchToDevice(const Client& client, const v1::Model& model,
                           absl::Span<const DeviceFetchItem> items,
                           DeviceCopier* copier, const DeviceOptions& options) {
  std::vector<DeviceTarget> targets;
  std::vector<FetchItem> sized;  // Destinations only give sizes.
  for (const DeviceFetchItem& item : items) {
    targets.push_back({item.device, item.size});
    sized.push_back(FetchItem{
        item.tensor, absl::Span<std::byte>(nullptr, item.size), {}});
  }
  ASSIGN_OR_RETURN(std::unique_ptr<DeviceRing> ring,
                   DeviceRing::Create(copier, options.slot_bytes,
                                      std::move(targets)));
  absl::Status fetched = client.FetchTo(model, sized, ring.get());
  absl::Status copied = ring->Finish();
  // A fetch stopped by a failed copy already carries the copy's status.
  return fetched.ok() ? copied : fetched;
}

absl::StatusOr<DeviceModel> LoadToDevice(const Client& client,
                                         const v1::Model& model,
                                         absl::Span<const std::string> names,
                                         std::shared_ptr<DeviceCopier> copier,
                                         const DeviceOptions& options) {
  ASSIGN_OR_RETURN(std::vector<const v1::TensorInfo*> chosen,
                   SelectTensors(model, names));
  DeviceModel out;
  if (chosen.empty()) return out;
  std::vector<uint64_t> offsets;
  uint64_t arena_size = 0;
  for (const v1::TensorInfo* t : chosen) {
    offsets.push_back(arena_size);
    arena_size += (t->length() + kAlignment - 1) / kAlignment * kAlignment;
  }
  absl::StatusOr<void*> arena = copier->AllocDevice(std::max<uint64_t>(arena_size, 1));
  if (!arena.ok()) {
    return absl::Status(arena.status().code(),
                        absl::StrCat("model '", model.name(), "': ",
                                     arena.status().message()));
  }
  out.copier_ = copier;
  out.arena_ = *arena;  // Freed by `out` on every path from here.
  std::vector<DeviceFetchItem> items;
  for (size_t i = 0; i < chosen.size(); ++i) {
    const v1::TensorInfo& t = *chosen[i];
    void* dest = static_cast<std::byte*>(out.arena_) + offsets[i];
    items.push_back({t.name(), dest, t.length()});
    out.index_[t.name()] = out.tensors_.size();
    out.tensors_.push_back(DeviceTensor{
        t.name(), t.dtype(), {t.shape().begin(), t.shape().end()}, dest,
        t.length()});
    out.total_bytes_ += t.length();
  }
  RETURN_IF_ERROR(FetchToDevice(client, model, items, copier.get(), options));
  return out;
}

}  // namespace weightserver::client
