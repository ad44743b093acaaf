// Copyright 2026 The Weightserver Authors.
//
// server/fetch_plan.h: turn a FetchRequest into the byte spans to stream.
//
// PlanFetch validates a request against a model of the catalog and resolves
// every entry to the source byte spans of its output (in output order) and the
// part of the output to send ([begin, end), from the entry's offset and
// limit). A whole tensor is one span; a selection is planned by
// format::PlanSlice (offset and limit then count in the sliced output). It
// touches no file bytes; the service streams the plan.
//
// Example:
//   ASSIGN_OR_RETURN(FetchPlan plan, PlanFetch(model, request, limits));
//   for (const PlannedEntry& e : plan.entries) { ... e.spans ... }
//
// Thread-safety: pure function.
#ifndef WEIGHTSERVER_SERVER_FETCH_PLAN_H_
#define WEIGHTSERVER_SERVER_FETCH_PLAN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/memory_budget.h"
#include "server/model_repository.h"
#include "server/source_span.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::server {

struct FetchLimits {
  uint32_t default_chunk_bytes = 1 << 20;
  uint32_t min_chunk_bytes = 64 << 10;
  uint32_t max_chunk_bytes = 4 << 20;
  // Entries in one request (a request is also bounded by gRPC's maximum
  // receive message size). The client sends at most 8,192 per call.
  size_t max_entries = 1 << 16;
  // Longest tensor name accepted in a request.
  size_t max_name_bytes = 64 << 10;
  // Source spans of all the selections of one request (a whole tensor is one
  // span, bounded by max_entries): a selection fragmented into more (millions
  // of 2-byte spans) is refused rather than served slowly.
  uint64_t max_spans = uint64_t{1} << 20;
};

struct PlannedEntry {
  const ServedFile* file = nullptr;  // Owned by FetchPlan::model.
  absl::string_view tensor;          // Its name, owned by FetchPlan::model.
  // Output = concatenation of spans (one, inline, for a whole tensor).
  absl::InlinedVector<SourceSpan, 1> spans;
  uint64_t output_size = 0;
  uint64_t begin = 0;  // Output bytes [begin, end) are sent.
  uint64_t end = 0;
};

struct FetchPlan {
  // What the stream holds of the server's request budget, returned when the
  // plan goes (with the stream). Set by the service, not by PlanFetch. First:
  // destroyed last, once the entries' memory is freed (memory_budget.h).
  std::optional<MemoryBudget::Charge> charge;
  std::shared_ptr<const Model> model;  // Keeps the mappings alive.
  std::vector<PlannedEntry> entries;
  uint32_t chunk_bytes = 0;
  uint64_t total_bytes = 0;  // Sum of (end - begin).

  // The heap memory the plan holds (entries and their spans), for the
  // server's request budget (memory_budget.h).
  uint64_t MemoryBytes() const;
};

// The checks of every call that names a model (Fetch, ReadFile): `name`
// not empty (INVALID_ARGUMENT), `model` (its catalog entry) found
// (NOT_FOUND), servable and, when `revision` is given, at that revision
// (FAILED_PRECONDITION). `call` names the RPC in messages; echoed input is
// cut (util/quote.h).
absl::Status CheckRequestedModel(const Model* model, absl::string_view name,
                                 absl::string_view revision,
                                 absl::string_view call);

// Plans `request` against `model` (nullptr when the name is unknown).
// Errors:
//   InvalidArgument     empty model name, no entries, too many entries, empty
//                       or over-long tensor name, limit without room;
//   NotFound            unknown model or tensor;
//   FailedPrecondition  model not servable, or `revision` set and different;
//   InvalidArgument     also: a selection without exactly one DimSelection
//                       per dimension, a range with start > stop, a cut
//                       inside a byte of a sub-byte dtype (MisalignedSlice),
//                       more than max_spans spans in the request, more
//                       output bytes than the model's tensors hold (bytes
//                       asked for more than once: the request would cost the
//                       server more than a whole-model fetch);
//   OutOfRange          offset (or offset + limit) past the entry's output, or
//                       a selection range past its dimension.
absl::StatusOr<FetchPlan> PlanFetch(std::shared_ptr<const Model> model,
                                    const v1::FetchRequest& request,
                                    const FetchLimits& limits);

// Plans a ReadBytes call: bytes [offset, offset + length) of one of the
// model's .safetensors files as entry 0, whose output is the whole file.
// Errors: CheckRequestedModel's; NotFound for a file the model does not
// have; OutOfRange for a range past the end of the file.
absl::StatusOr<FetchPlan> PlanFileBytes(std::shared_ptr<const Model> model,
                                        const v1::ReadBytesRequest& request,
                                        const FetchLimits& limits);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_FETCH_PLAN_H_
