// Copyright 2026 The Weightserver Authors.
//
// wire/selection.h: a selection (format/slice.h) in a Fetch request entry.
//
// A selection is one list of concatenated ranges per dimension
// (format::DimRanges); on the wire, TensorRequest.selection holds one
// DimSelection per dimension, or none for the whole tensor.
//
// Example:
//   SelectionToProto({{}, {{0, 512}}}, &entry);   // client
//   std::vector<format::DimRanges> s = SelectionFromProto(entry);  // server
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_WIRE_SELECTION_H_
#define WEIGHTSERVER_WIRE_SELECTION_H_

#include <vector>

#include "absl/types/span.h"
#include "weightserver/format/slice.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::wire {

// Replaces `entry`'s selection with `selection` (empty: the whole tensor).
void SelectionToProto(absl::Span<const format::DimRanges> selection,
                      v1::TensorRequest* entry);

// `entry`'s selection, one DimRanges per DimSelection (empty: the whole
// tensor). Validation against the tensor is format::MeasureSlice's job.
std::vector<format::DimRanges> SelectionFromProto(
    const v1::TensorRequest& entry);

}  // namespace weightserver::wire

#endif  // WEIGHTSERVER_WIRE_SELECTION_H_
