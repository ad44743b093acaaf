// Copyright 2026 The Weightserver Authors.
//
// server/fetch_plan.cc
#include "server/fetch_plan.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace weightserver::server {
namespace {

std::string Quoted(absl::string_view name) {
  return absl::StrCat("'", absl::CHexEscape(name.substr(0, 256)),
                      name.size() > 256 ? "...'" : "'");
}

}  // namespace

absl::StatusOr<FetchPlan> PlanFetch(std::shared_ptr<const Model> model,
                                    const v1::FetchRequest& request,
                                    const FetchLimits& limits) {
  if (request.model().empty()) {
    return absl::InvalidArgumentError("Fetch: empty model name");
  }
  if (model == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("Fetch: no model ", Quoted(request.model())));
  }
  const std::string& m = model->name;
  if (!model->servable()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", m, "' is not servable: ", model->error));
  }
  if (!request.revision().empty() && request.revision() != model->revision) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", m, "' changed: requested revision ",
        Quoted(request.revision()), ", current ", model->revision));
  }
  if (request.tensors().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Fetch model '", m, "': no tensors requested"));
  }
  if (static_cast<size_t>(request.tensors_size()) > limits.max_entries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Fetch model '", m, "': ", request.tensors_size(),
        " entries, over the limit of ", limits.max_entries));
  }
  FetchPlan plan;
  uint32_t chunk = request.chunk_size_hint() == 0 ? limits.default_chunk_bytes
                                                  : request.chunk_size_hint();
  plan.chunk_bytes =
      std::clamp(chunk, limits.min_chunk_bytes, limits.max_chunk_bytes);
  plan.entries.reserve(request.tensors_size());
  for (int i = 0; i < request.tensors_size(); ++i) {
    const v1::TensorRequest& tr = request.tensors(i);
    if (tr.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Fetch model '", m, "': entry ", i, " has no name"));
    }
    if (tr.name().size() > limits.max_name_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Fetch model '", m, "': entry ", i, " name of ", tr.name().size(),
          " bytes, over the limit of ", limits.max_name_bytes));
    }
    auto it = model->tensors.find(tr.name());
    if (it == model->tensors.end()) {
      return absl::NotFoundError(absl::StrCat("model '", m, "': no tensor ",
                                              Quoted(tr.name())));
    }
    if (!tr.selection().empty()) {
      return absl::UnimplementedError(absl::StrCat(
          "model '", m, "': tensor ", Quoted(tr.name()),
          ": selections are not implemented by this server yet"));
    }
    const ServedFile& file = model->files[it->second.file];
    const format::TensorInfo& t = model->tensor(it->second);
    PlannedEntry entry;
    entry.file = &file;
    entry.tensor = t.name;
    entry.output_size = t.size();
    entry.spans.push_back({file.header.data_offset() + t.begin, t.size()});
    if (tr.offset() > entry.output_size ||
        tr.limit() > entry.output_size - tr.offset()) {
      return absl::OutOfRangeError(absl::StrCat(
          "model '", m, "': tensor ", Quoted(tr.name()), ": bytes [",
          tr.offset(), ", ",
          tr.limit() == 0 ? std::string("end")
                          : absl::StrCat(tr.offset() + tr.limit()),
          ") requested, output has ", entry.output_size));
    }
    entry.begin = tr.offset();
    entry.end = tr.limit() == 0 ? entry.output_size : tr.offset() + tr.limit();
    plan.total_bytes += entry.end - entry.begin;
    plan.entries.push_back(std::move(entry));
  }
  plan.model = std::move(model);
  return plan;
}

}  // namespace weightserver::server
