// Copyright 2026 The Weightserver Authors.
//
// server/fetch_plan.cc
#include "server/fetch_plan.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/quote.h"
#include "util/status_macros.h"
#include "weightserver/format/slice.h"
#include "wire/selection.h"

namespace weightserver::server {
namespace {

// `status` with `prefix` before its message, payloads (format error kinds)
// kept.
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

// The selection of `tr` over `t`; `used` spans of the request's `max_spans`
// are taken by the entries before it.
absl::StatusOr<format::SlicePlan> PlanSelection(const format::TensorInfo& t,
                                                const v1::TensorRequest& tr,
                                                uint64_t used,
                                                uint64_t max_spans) {
  if (static_cast<size_t>(tr.selection_size()) != t.shape.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        tr.selection_size(), " dimension selections for a tensor of rank ",
        t.shape.size(), " (one per dimension, or none for the whole tensor)"));
  }
  const std::vector<format::DimRanges> selection = wire::SelectionFromProto(tr);
  ASSIGN_OR_RETURN(format::SliceSummary summary,
                   format::MeasureSlice(t.dtype, t.shape, selection));
  if (summary.span_count > max_spans - used) {
    return absl::InvalidArgumentError(absl::StrCat(
        "needs ", summary.span_count, " byte spans", used > 0 ? " (" : "",
        used > 0 ? absl::StrCat(used, " more before it in the request)") : "",
        ", over the limit of ", max_spans,
        " spans per request (max_spans); select fewer, larger ranges"));
  }
  format::SliceOptions options;
  options.max_spans = max_spans;
  return format::PlanSlice(t.dtype, t.shape, selection, options);
}

}  // namespace

absl::Status CheckRequestedModel(const Model* model, absl::string_view name,
                                 absl::string_view revision,
                                 absl::string_view call) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(call, ": empty model name"));
  }
  if (model == nullptr) {
    return absl::NotFoundError(absl::StrCat(call, ": no model ", QuoteInput(name)));
  }
  if (!model->servable()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", model->name, "' is not servable: ", model->error));
  }
  if (!revision.empty() && revision != model->revision) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", model->name, "' changed: requested revision ",
        QuoteInput(revision), ", current ", model->revision));
  }
  return absl::OkStatus();
}

uint64_t FetchPlan::MemoryBytes() const {
  uint64_t bytes = sizeof(FetchPlan) + entries.capacity() * sizeof(PlannedEntry);
  for (const PlannedEntry& e : entries) {
    if (e.spans.size() > 1) bytes += e.spans.capacity() * sizeof(SourceSpan);
  }
  return bytes;
}

absl::StatusOr<FetchPlan> PlanFetch(std::shared_ptr<const Model> model,
                                    const v1::FetchRequest& request,
                                    const FetchLimits& limits) {
  RETURN_IF_ERROR(CheckRequestedModel(model.get(), request.model(),
                                      request.revision(), "Fetch"));
  const std::string& m = model->name;
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
  uint64_t spans = 0;  // Of all selections so far, against max_spans.
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
                                              QuoteInput(tr.name())));
    }
    const ServedFile& file = model->files[it->second.file];
    const format::TensorInfo& t = model->tensor(it->second);
    PlannedEntry entry;
    entry.file = &file;
    entry.tensor = t.name;
    const uint64_t tensor_offset = file.header.data_offset() + t.begin;
    if (tr.selection().empty()) {
      entry.output_size = t.size();
      entry.spans.push_back({tensor_offset, t.size()});
    } else {
      auto planned = PlanSelection(t, tr, spans, limits.max_spans);
      if (!planned.ok()) {
        return Prefixed(planned.status(),
                        absl::StrCat("model '", m, "': tensor ",
                                     QuoteInput(tr.name()), " ",
                                     format::DTypeName(t.dtype), " [",
                                     absl::StrJoin(t.shape, ", "),
                                     "]: selection: "));
      }
      entry.output_size = planned->byte_size;
      entry.spans.reserve(planned->spans.size());
      for (const format::ByteSpan& b : planned->spans) {
        entry.spans.push_back({tensor_offset + b.offset, b.length});
      }
      spans += planned->spans.size();
    }
    if (tr.offset() > entry.output_size ||
        tr.limit() > entry.output_size - tr.offset()) {
      return absl::OutOfRangeError(absl::StrCat(
          "model '", m, "': tensor ", QuoteInput(tr.name()), ": bytes [",
          tr.offset(), ", ",
          tr.limit() == 0 ? std::string("end")
                          : absl::StrCat(tr.offset() + tr.limit()),
          ") requested, output has ", entry.output_size));
    }
    entry.begin = tr.offset();
    entry.end = tr.limit() == 0 ? entry.output_size : tr.offset() + tr.limit();
    plan.total_bytes += entry.end - entry.begin;
    if (plan.total_bytes > model->total_tensor_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Fetch model '", m, "': the request asks for more than ",
          model->total_tensor_bytes,
          " bytes, all the model's tensors hold (by entry ", i,
          "): bytes requested more than once; ask for each byte once"));
    }
    plan.entries.push_back(std::move(entry));
  }
  plan.model = std::move(model);
  return plan;
}

absl::StatusOr<FetchPlan> PlanFileBytes(std::shared_ptr<const Model> model,
                                        const v1::ReadBytesRequest& request,
                                        const FetchLimits& limits) {
  RETURN_IF_ERROR(CheckRequestedModel(model.get(), request.model(),
                                      request.revision(), "ReadBytes"));
  const ServedFile* file = nullptr;
  for (const ServedFile& f : model->files) {
    if (f.name == request.file()) file = &f;
  }
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("model '", model->name,
                                            "': no file ",
                                            QuoteInput(request.file())));
  }
  const uint64_t size = file->file->size();
  if (request.offset() > size || request.length() > size - request.offset()) {
    return absl::OutOfRangeError(absl::StrCat(
        "model '", model->name, "' file '", file->name, "': bytes [",
        request.offset(), ", ",
        request.length() == 0 ? std::string("end")
                              : absl::StrCat(request.offset() + request.length()),
        ") requested, the file has ", size));
  }
  FetchPlan plan;
  const uint32_t chunk = request.chunk_size_hint() == 0
                             ? limits.default_chunk_bytes
                             : request.chunk_size_hint();
  plan.chunk_bytes =
      std::clamp(chunk, limits.min_chunk_bytes, limits.max_chunk_bytes);
  PlannedEntry entry;
  entry.file = file;
  entry.tensor = file->name;
  entry.output_size = size;
  entry.spans.push_back({0, size});
  entry.begin = request.offset();
  entry.end = request.length() == 0 ? size : request.offset() + request.length();
  plan.total_bytes = entry.end - entry.begin;
  plan.entries.push_back(std::move(entry));
  plan.model = std::move(model);
  return plan;
}

}  // namespace weightserver::server
