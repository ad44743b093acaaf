// Copyright 2026 The Weightserver Authors.
//
// client/device_ring.h: a FetchSink that lands verified chunks in device
// memory through a ring of pinned host slots.
//
// The ring owns copier->slots() pinned slots of `slot_bytes` each. Acquire
// hands a whole free slot to one chunk (chunks are at most the server's chunk
// size, 4 MiB, so slot_bytes must be at least the chunk size asked for); the
// fetch engine decodes and CRC-checks the chunk there; Commit starts the
// slot's asynchronous copy to targets[item].device + offset. A slot is handed
// out again only after its copy is known complete (WaitSlot on the oldest
// copy when no slot is free), so the network fills one slot while earlier
// ones travel to the device. Chunks from several streams interleave freely:
// every chunk carries its own destination.
//
// Example:
//   ASSIGN_OR_RETURN(auto ring, DeviceRing::Create(copier, 4 << 20, targets));
//   absl::Status s = client->FetchTo(toc, items, ring.get());
//   absl::Status copies = ring->Finish();   // waits for the last copies
//
// Thread-safety: Acquire, Commit and Abandon may be called from any threads;
// Finish and destruction only once those have stopped. The copier must
// outlive the ring. Destruction waits for outstanding copies and frees the
// pinned slots, on every path.
#ifndef WEIGHTSERVER_CLIENT_DEVICE_RING_H_
#define WEIGHTSERVER_CLIENT_DEVICE_RING_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "weightserver/client/device_copier.h"
#include "weightserver/client/fetch_sink.h"

namespace weightserver::client {

// Where item i of a FetchTo call goes: `size` bytes at device address
// `device`.
struct DeviceTarget {
  void* device = nullptr;
  uint64_t size = 0;
};

// Told that bytes [offset, offset + size) of item `item` are on the device
// (their copy completed); called with the ring's lock held, so it must be
// quick and must not call the ring.
using CopiedCallback =
    std::function<void(size_t item, uint64_t offset, uint64_t size)>;

class DeviceRing final : public FetchSink {
 public:
  // Allocates the pinned slots. Errors: INVALID_ARGUMENT for no slots or
  // slot_bytes 0; AllocPinned's (RESOURCE_EXHAUSTED), with nothing left
  // allocated.
  static absl::StatusOr<std::unique_ptr<DeviceRing>> Create(
      DeviceCopier* copier, size_t slot_bytes,
      std::vector<DeviceTarget> targets, CopiedCallback on_copied = nullptr);
  ~DeviceRing() override;
  DeviceRing(const DeviceRing&) = delete;
  DeviceRing& operator=(const DeviceRing&) = delete;

  // FetchSink. Acquire errors: INVALID_ARGUMENT for a chunk larger than a
  // slot, OUT_OF_RANGE for bytes past the item's target; an earlier copy's
  // failure (every later call fails with it).
  absl::StatusOr<std::byte*> Acquire(size_t item, uint64_t offset,
                                     uint64_t size) override;
  // Errors: CopyAsync's, or an earlier copy's failure.
  absl::Status Commit(size_t item, uint64_t offset, uint64_t size,
                      std::byte* bytes) override;
  void Abandon(std::byte* bytes) override;

  // Waits for every outstanding copy. Errors: the first failure of any copy
  // (or Commit) so far.
  absl::Status Finish();

 private:
  enum class SlotState { kFree, kHeld, kInFlight };
  // What slot s's copy carries, for on_copied_.
  struct Copy {
    size_t item = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  DeviceRing(DeviceCopier* copier, size_t slot_bytes,
             std::vector<DeviceTarget> targets, CopiedCallback on_copied);
  absl::Status CheckRange(size_t item, uint64_t offset, uint64_t size) const;
  int SlotOf(const std::byte* bytes) const;
  void Fail(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits for slot `s`'s copy with mu_ released meanwhile.
  absl::Status WaitSlotUnlocked(int s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Slot s's copy completed: tells on_copied_.
  void Copied(int s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DeviceCopier* const copier_;
  const size_t slot_bytes_;
  const std::vector<DeviceTarget> targets_;
  std::vector<std::byte*> pinned_;  // One per slot; fixed after Create.
  const CopiedCallback on_copied_;

  Mutex mu_;
  CondVar freed_;  // A slot became free, or in flight.
  std::vector<SlotState> state_ ABSL_GUARDED_BY(mu_);
  std::deque<int> in_flight_ ABSL_GUARDED_BY(mu_);  // Oldest copy first.
  std::vector<Copy> copies_ ABSL_GUARDED_BY(mu_);  // Of each in-flight slot.
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_DEVICE_RING_H_
