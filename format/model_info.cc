// Copyright 2026 The Weightserver Authors.
//
// format/model_info.cc
#include "weightserver/format/model_info.h"

namespace weightserver::format {

const ModelTensor* ModelInfo::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors[it->second];
}

void ModelInfo::Reindex() {
  index_.clear();
  index_.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) index_.emplace(tensors[i].name, i);
}

}  // namespace weightserver::format
