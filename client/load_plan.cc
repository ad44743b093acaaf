// Copyright 2026 The Weightserver Authors.
//
// client/load_plan.cc
#include "weightserver/client/load_plan.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "util/status_context.h"

namespace weightserver::client {

absl::StatusOr<LoadPlan> PlanLoad(const format::ModelInfo& model,
                                  absl::Span<const TensorSlice> tensors,
                                  const PlanOptions& options) {
  const uint64_t align = options.alignment;
  if (align == 0 || (align & (align - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "load plan: alignment ", align, " is not a power of two"));
  }
  LoadPlan plan;
  plan.alignment = align;
  plan.tensors.reserve(tensors.size());
  absl::flat_hash_set<absl::string_view> seen;
  seen.reserve(tensors.size());
  for (const TensorSlice& want : tensors) {
    const format::ModelTensor* t = model.Find(want.name);
    if (t == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("model '", model.name, "': no tensor '",
                       absl::CHexEscape(want.name), "'"));
    }
    if (!seen.insert(t->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", model.name, "': tensor '",
                       absl::CHexEscape(want.name), "' asked for twice"));
    }
    PlannedTensor& p = plan.tensors.emplace_back();
    p.source = t;
    if (want.selection.whole()) {
      // Any dtype, even one this client does not know: its bytes as they are.
      p.shape = t->shape;
      p.size = t->length;
    } else {
      absl::StatusOr<format::SliceSummary> out =
          MeasureSelection(*t, want.selection);
      if (!out.ok()) return WithContext(absl::StrCat("model '", model.name, "'"),
                                     out.status());
      p.selection = want.selection;
      p.shape = std::move(out->shape);
      p.size = out->byte_size;
    }
    p.offset = plan.layout_bytes;
    plan.total_bytes += p.size;
    plan.layout_bytes += (p.size + align - 1) / align * align;
  }
  return plan;
}

absl::StatusOr<LoadPlan> PlanWholeTensors(const format::ModelInfo& model,
                                          absl::Span<const std::string> names,
                                          const PlanOptions& options) {
  std::vector<TensorSlice> whole;
  if (names.empty()) {
    whole.reserve(model.tensors.size());
    for (const format::ModelTensor& t : model.tensors) whole.push_back({t.name, {}});
  } else {
    whole.reserve(names.size());
    for (const std::string& n : names) whole.push_back({n, {}});
  }
  return PlanLoad(model, whole, options);
}

}  // namespace weightserver::client
