// Copyright 2026 The Weightserver Authors.
//
// client/host_model.cc
#include "client/host_model.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace weightserver::client {
namespace {
constexpr uint64_t kAlignment = 64;
}  // namespace

const HostTensor* HostModel::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<HostModel> LoadToHost(const Client& client,
                                     const v1::Model& model,
                                     absl::Span<const std::string> names) {
  ASSIGN_OR_RETURN(std::vector<const v1::TensorInfo*> chosen,
                   SelectTensors(model, names));
  std::vector<TensorSlice> whole;
  whole.reserve(chosen.size());
  for (const v1::TensorInfo* t : chosen) whole.push_back({t->name(), {}});
  return LoadSlicesToHost(client, model, whole);
}

absl::StatusOr<HostModel> LoadSlicesToHost(
    const Client& client, const v1::Model& model,
    absl::Span<const TensorSlice> tensors) {
  std::vector<std::string> names;
  names.reserve(tensors.size());
  for (const TensorSlice& t : tensors) names.push_back(t.name);
  if (names.empty()) return HostModel();
  ASSIGN_OR_RETURN(std::vector<const v1::TensorInfo*> chosen,
                   SelectTensors(model, names));
  std::vector<uint64_t> offsets, sizes;
  std::vector<std::vector<uint64_t>> shapes;
  uint64_t arena_size = 0;
  for (size_t i = 0; i < chosen.size(); ++i) {
    const v1::TensorInfo& t = *chosen[i];
    if (tensors[i].selection.whole()) {
      sizes.push_back(t.length());
      shapes.emplace_back(t.shape().begin(), t.shape().end());
    } else {
      ASSIGN_OR_RETURN(format::SliceSummary s,
                       MeasureSelection(t, tensors[i].selection));
      sizes.push_back(s.byte_size);
      shapes.push_back(std::move(s.shape));
    }
    offsets.push_back(arena_size);
    arena_size += (sizes.back() + kAlignment - 1) / kAlignment * kAlignment;
  }
  HostModel out;
  absl::StatusOr<HostArena> arena = HostArena::Allocate(arena_size);
  if (!arena.ok()) {
    return absl::Status(arena.status().code(),
                        absl::StrCat("model '", model.name(), "': ",
                                     arena.status().message()));
  }
  out.arena_ = *std::move(arena);
  std::vector<FetchItem> items;
  items.reserve(chosen.size());
  for (size_t i = 0; i < chosen.size(); ++i) {
    const v1::TensorInfo& t = *chosen[i];
    absl::Span<std::byte> dest(out.arena_.data() + offsets[i], sizes[i]);
    items.push_back(FetchItem{t.name(), dest, tensors[i].selection});
    out.index_[t.name()] = out.tensors_.size();
    out.tensors_.push_back(
        HostTensor{t.name(), t.dtype(), std::move(shapes[i]), dest});
    out.total_bytes_ += sizes[i];
  }
  RETURN_IF_ERROR(client.Fetch(model, items));
  return out;
}

}  // namespace weightserver::client
