// Copyright 2026 The Weightserver Authors.
//
// client/memory_sink.h: the FetchSink of every destination in host memory.
//
// Output i of the plan lands at bases[i]: a caller's buffer (Client::Fetch
// with FetchItems), a tensor's place in a host arena (tensor_table.h), or a
// tensor's place in a mapped output file (output_file.h). Acquire returns the
// final address, so the engine decodes each chunk straight into place and
// checks its CRC32C there; Commit and Abandon have nothing to do (a chunk that
// fails its check is simply fetched again over the same bytes).
//
// Example:
//   MemorySink sink(plan, {arena + plan.tensors[0].offset, ...});
//   RETURN_IF_ERROR(client.Fetch(model, plan, sink));
//
// Thread-safety: immutable after construction; safe from any thread.
#ifndef WEIGHTSERVER_CLIENT_MEMORY_SINK_H_
#define WEIGHTSERVER_CLIENT_MEMORY_SINK_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "weightserver/client/fetch_sink.h"
#include "weightserver/client/load_plan.h"

namespace weightserver::client {

class MemorySink final : public FetchSink {
 public:
  // bases[i] holds plan.tensors[i].size bytes; both must outlive the sink.
  MemorySink(const LoadPlan& plan, std::vector<std::byte*> bases)
      : plan_(plan), bases_(std::move(bases)) {}

  // Errors: OUT_OF_RANGE for bytes outside output `item` (the engine never
  // asks for them).
  absl::StatusOr<std::byte*> Acquire(size_t item, uint64_t offset,
                                     uint64_t size) override {
    if (item >= bases_.size() || offset > plan_.tensors[item].size ||
        size > plan_.tensors[item].size - offset) {
      return absl::OutOfRangeError(absl::StrCat(
          "memory destination: bytes [", offset, ", ", offset + size,
          ") outside output ", item));
    }
    return bases_[item] + offset;
  }
  absl::Status Commit(size_t, uint64_t, uint64_t, std::byte*) override {
    return absl::OkStatus();
  }
  void Abandon(std::byte*) override {}

 private:
  const LoadPlan& plan_;
  const std::vector<std::byte*> bases_;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_MEMORY_SINK_H_
