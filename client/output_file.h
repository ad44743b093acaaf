// Copyright 2026 The Weightserver Authors.
//
// client/output_file.h: fetch tensors straight into .safetensors files.
//
// The output file is laid out first (format::PlanFile), created under a
// temporary name beside its destination at its final size and mapped; the
// fetched chunks land directly in the mapped file pages (one copy), and the
// file is flushed and renamed into place only once every byte is verified. On
// any error the temporary file is removed and the destination is untouched.
//
// Example:
//   // Chosen tensors (from any shards) as one file:
//   RETURN_IF_ERROR(FetchToFile(*client, toc, {"lm_head.weight"}, "out.safetensors"));
//   // A rank's shards of chosen tensors, with their sliced shapes:
//   ASSIGN_OR_RETURN(Selection rows, ShardDim({32000, 4096}, 0, rank, 8));
//   RETURN_IF_ERROR(FetchSlicesToFile(*client, toc,
//                                     {{"lm_head.weight", rows}}, "out.safetensors"));
//   // The model's own files (shards + model.safetensors.index.json):
//   RETURN_IF_ERROR(MirrorModel(*client, toc, "out_dir"));
//
// Thread-safety: functions; concurrent calls must use different paths.
#ifndef WEIGHTSERVER_CLIENT_OUTPUT_FILE_H_
#define WEIGHTSERVER_CLIENT_OUTPUT_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "client/client.h"
#include "client/selection.h"

namespace weightserver::client {

// Writes the tensors `names` of `model` (all when empty) as one .safetensors
// file at `path`, laid out as the reference writer would. The file's
// __metadata__ is the union of the metadata of the source files involved
// (for a key present with different values, the first file's value wins).
// Errors: NOT_FOUND for an unknown name; INVALID_ARGUMENT when a dtype is not
// known to this client; errno statuses for the file system; Fetch's errors.
absl::Status FetchToFile(const Client& client, const v1::Model& model,
                         absl::Span<const std::string> names,
                         const std::string& path);

// Writes `tensors` of `model` as one .safetensors file at `path`, like
// FetchToFile: a sliced tensor is written under its own name with the shape
// of its selection (and only its selected bytes cross the network).
// Errors: FetchToFile's; MeasureSelection's for a bad selection;
// InvalidHeaderDeserialization (INVALID_ARGUMENT) for a name given twice.
absl::Status FetchSlicesToFile(const Client& client, const v1::Model& model,
                               absl::Span<const TensorSlice> tensors,
                               const std::string& path);

// Recreates the model's own files in directory `dir` (created if missing):
// each .safetensors file with its tensors and metadata, and for a sharded
// model its model.safetensors.index.json (metadata + weight_map), so that
// transformers or vLLM can load the directory. Errors as FetchToFile.
absl::Status MirrorModel(const Client& client, const v1::Model& model,
                         const std::string& dir);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_OUTPUT_FILE_H_
