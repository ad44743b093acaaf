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

void HostModel::FreeArena::operator()(std::byte* p) const { std::free(p); }

const HostTensor* HostModel::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<HostModel> LoadToHost(const Client& client,
                                     const v1::Model& model,
                                     absl::Span<const std::string> names) {
  ASSIGN_OR_RETURN(std::vector<const v1::TensorInfo*> chosen,
                   SelectTensors(model, names));
  std::vector<uint64_t> offsets;
  offsets.reserve(chosen.size());
  uint64_t arena_size = 0;
  for (const v1::TensorInfo* t : chosen) {
    offsets.push_back(arena_size);
    arena_size += (t->length() + kAlignment - 1) / kAlignment * kAlignment;
  }
  HostModel out;
  void* arena = std::aligned_alloc(kAlignment, std::max<uint64_t>(arena_size, kAlignment));
  if (arena == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "model '", model.name(), "': cannot allocate ", arena_size,
        " bytes of host memory"));
  }
  out.arena_.reset(static_cast<std::byte*>(arena));
  std::vector<FetchItem> items;
  items.reserve(chosen.size());
  for (size_t i = 0; i < chosen.size(); ++i) {
    const v1::TensorInfo& t = *chosen[i];
    absl::Span<std::byte> dest(out.arena_.get() + offsets[i], t.length());
    items.push_back(FetchItem{t.name(), dest});
    out.index_[t.name()] = out.tensors_.size();
    out.tensors_.push_back(HostTensor{
        t.name(), t.dtype(), std::vector<uint64_t>(t.shape().begin(), t.shape().end()),
        dest});
    out.total_bytes_ += t.length();
  }
  RETURN_IF_ERROR(client.Fetch(model, items));
  return out;
}

}  // namespace weightserver::client
