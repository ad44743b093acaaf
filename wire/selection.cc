// Copyright 2026 The Weightserver Authors.
//
// wire/selection.cc
#include "wire/selection.h"

namespace weightserver::wire {

void SelectionToProto(absl::Span<const format::DimRanges> selection,
                      v1::TensorRequest* entry) {
  entry->clear_selection();
  for (const format::DimRanges& ranges : selection) {
    v1::DimSelection* dim = entry->add_selection();
    for (const format::IndexRange& r : ranges) {
      v1::Range* range = dim->add_ranges();
      range->set_start(r.start);
      range->set_stop(r.stop);
    }
  }
}

std::vector<format::DimRanges> SelectionFromProto(
    const v1::TensorRequest& entry) {
  std::vector<format::DimRanges> selection(entry.selection_size());
  for (int d = 0; d < entry.selection_size(); ++d) {
    const v1::DimSelection& dim = entry.selection(d);
    selection[d].reserve(dim.ranges_size());
    for (const v1::Range& r : dim.ranges()) {
      selection[d].push_back({r.start(), r.stop()});
    }
  }
  return selection;
}

}  // namespace weightserver::wire
