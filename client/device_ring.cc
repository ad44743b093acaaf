// Copyright 2026 The Weightserver Authors.
//
// client/device_ring.cc
#include "client/device_ring.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/status_context.h"

namespace weightserver::client {

absl::StatusOr<std::unique_ptr<DeviceRing>> DeviceRing::Create(
    DeviceCopier* copier, size_t slot_bytes,
    std::vector<DeviceTarget> targets, CopiedCallback on_copied) {
  if (copier == nullptr || copier->slots() <= 0 || slot_bytes == 0) {
    return absl::InvalidArgumentError(
        "device ring: needs a copier with at least one slot and slot_bytes > 0");
  }
  std::unique_ptr<DeviceRing> ring(
      new DeviceRing(copier, slot_bytes, std::move(targets),
                     std::move(on_copied)));
  for (int s = 0; s < copier->slots(); ++s) {
    absl::StatusOr<void*> p = copier->AllocPinned(slot_bytes);
    if (!p.ok()) {
      // The destructor frees the slots allocated so far.
      return absl::Status(
          p.status().code(),
          absl::StrCat("device ring: pinned slot ", s, " of ", copier->slots(),
                       " (", slot_bytes, " bytes): ", p.status().message()));
    }
    ring->pinned_.push_back(static_cast<std::byte*>(*p));
  }
  return ring;
}

DeviceRing::DeviceRing(DeviceCopier* copier, size_t slot_bytes,
                       std::vector<DeviceTarget> targets,
                       CopiedCallback on_copied)
    : copier_(copier),
      slot_bytes_(slot_bytes),
      targets_(std::move(targets)),
      on_copied_(std::move(on_copied)),
      state_(copier->slots(), SlotState::kFree),
      copies_(copier->slots()) {}

DeviceRing::~DeviceRing() {
  MutexLock lock(&mu_);
  // A slot's source must not be freed under a running copy.
  for (int s : in_flight_) copier_->WaitSlot(s).IgnoreError();
  in_flight_.clear();
  for (std::byte* p : pinned_) copier_->FreePinned(p);
}

absl::Status DeviceRing::CheckRange(size_t item, uint64_t offset,
                                    uint64_t size) const {
  if (item >= targets_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device ring: item ", item, " of ", targets_.size()));
  }
  if (size > slot_bytes_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device ring: chunk of ", size, " bytes exceeds the pinned slot size ",
        slot_bytes_, " (ask for smaller chunks or larger slots)"));
  }
  const uint64_t limit = targets_[item].size;
  if (offset > limit || size > limit - offset) {
    return absl::OutOfRangeError(absl::StrCat(
        "device ring: bytes [", offset, ", ", offset + size,
        ") past the end of item ", item, " (", limit, " bytes)"));
  }
  return absl::OkStatus();
}

int DeviceRing::SlotOf(const std::byte* bytes) const {
  auto it = std::find(pinned_.begin(), pinned_.end(), bytes);
  return it == pinned_.end() ? -1 : static_cast<int>(it - pinned_.begin());
}

void DeviceRing::Fail(absl::Status status) {
  if (error_.ok()) error_ = std::move(status);
  freed_.SignalAll();
}

absl::Status DeviceRing::WaitSlotUnlocked(int s) {
  mu_.Unlock();
  absl::Status done = copier_->WaitSlot(s);
  mu_.Lock();
  return done;
}

void DeviceRing::Copied(int s) {
  if (on_copied_) {
    const Copy& c = copies_[s];
    on_copied_(c.item, c.offset, c.size);
  }
}

absl::StatusOr<std::byte*> DeviceRing::Acquire(size_t item, uint64_t offset,
                                               uint64_t size) {
  if (absl::Status s = CheckRange(item, offset, size); !s.ok()) return s;
  MutexLock lock(&mu_);
  while (true) {
    if (!error_.ok()) return error_;
    auto free = std::find(state_.begin(), state_.end(), SlotState::kFree);
    if (free != state_.end()) {
      *free = SlotState::kHeld;
      return pinned_[free - state_.begin()];
    }
    if (!in_flight_.empty()) {
      // Recycle the oldest copy's slot once that copy is done.
      const int s = in_flight_.front();
      in_flight_.pop_front();
      state_[s] = SlotState::kHeld;
      absl::Status done = WaitSlotUnlocked(s);
      if (!done.ok()) {
        state_[s] = SlotState::kFree;
        Fail(WithContext("copy to device", done));
        return error_;
      }
      Copied(s);
      return pinned_[s];
    }
    freed_.Wait(&mu_);  // Every slot is being filled by another worker.
  }
}

absl::Status DeviceRing::Commit(size_t item, uint64_t offset, uint64_t size,
                                std::byte* bytes) {
  const int s = SlotOf(bytes);
  if (s < 0) return absl::InvalidArgumentError("device ring: foreign bytes");
  absl::Status status = CheckRange(item, offset, size);
  if (status.ok()) {
    status = copier_->CopyAsync(
        static_cast<std::byte*>(targets_[item].device) + offset, bytes, size, s);
    if (!status.ok()) {
      status = WithContext("copy to device", status);
    }
  }
  MutexLock lock(&mu_);
  if (!status.ok()) {
    state_[s] = SlotState::kFree;
    Fail(status);
    return status;
  }
  state_[s] = SlotState::kInFlight;
  copies_[s] = Copy{item, offset, size};
  in_flight_.push_back(s);
  freed_.Signal();
  return error_;
}

void DeviceRing::Abandon(std::byte* bytes) {
  const int s = SlotOf(bytes);
  if (s < 0) return;
  MutexLock lock(&mu_);
  state_[s] = SlotState::kFree;
  freed_.Signal();
}

absl::Status DeviceRing::Finish() {
  MutexLock lock(&mu_);
  while (!in_flight_.empty()) {
    const int s = in_flight_.front();
    in_flight_.pop_front();
    absl::Status done = copier_->WaitSlot(s);
    state_[s] = SlotState::kFree;
    if (done.ok()) {
      Copied(s);
    } else {
      Fail(absl::Status(done.code(),
                        absl::StrCat("copy to device: ", done.message())));
    }
  }
  return error_;
}

}  // namespace weightserver::client
