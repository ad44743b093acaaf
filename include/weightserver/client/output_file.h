// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/output_file.h: fetch tensors straight into
// .safetensors files.
//
// Each output file is laid out first (the reference writer's layout), created
// under a temporary name beside its destination at its final size and
// mapped; the fetched chunks land directly in the mapped file pages (one
// copy), and the file is flushed and renamed into place only once every byte
// is verified. On any error the temporary file is removed and the
// destination is untouched.
//
// Example:
//   // Chosen tensors (from any shards) as one file:
//   ASSIGN_OR_RETURN(LoadPlan plan, PlanWholeTensors(toc, {"lm_head.weight"}));
//   RETURN_IF_ERROR(FetchToFile(*client, toc, plan, "out.safetensors"));
//   // A rank's shard of a tensor, with its sliced shape:
//   ASSIGN_OR_RETURN(Selection rows, ShardDim({32000, 4096}, 0, rank, 8));
//   ASSIGN_OR_RETURN(LoadPlan mine, PlanLoad(toc, {{"lm_head.weight", rows}}));
//   RETURN_IF_ERROR(FetchToFile(*client, toc, mine, "rank.safetensors"));
//   // The model's own files (config, tokenizer, shards, the index):
//   RETURN_IF_ERROR(MirrorModel(*client, toc, "out_dir"));
//
// Thread-safety: functions; concurrent calls must use different paths.
#ifndef WEIGHTSERVER_CLIENT_OUTPUT_FILE_H_
#define WEIGHTSERVER_CLIENT_OUTPUT_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "weightserver/client/client.h"
#include "weightserver/client/load_plan.h"

namespace weightserver::client {

// Writes the outputs of `plan` as one .safetensors file at `path`, laid out
// as the reference writer would; a sliced tensor is written under its own
// name with the shape of its selection. The file's __metadata__ is the union
// of the metadata of the source files involved (for a key present with
// different values, the first file's value wins).
// Errors: INVALID_ARGUMENT when a dtype is not known to this client; errno
// statuses for the file system; Client::Fetch's errors.
absl::Status FetchToFile(const Client& client, const ModelInfo& model,
                         const LoadPlan& plan, const std::string& path);

// Recreates the model's own files in directory `dir` (created if missing):
// its extra files (config.json, tokenizer files, ...: Client::
// DownloadExtraFiles), each .safetensors file with its tensors and metadata,
// and for a sharded model its model.safetensors.index.json (metadata +
// weight_map), so that transformers or vLLM can load the directory.
// Errors as FetchToFile and DownloadExtraFiles.
absl::Status MirrorModel(const Client& client, const ModelInfo& model,
                         const std::string& dir);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_OUTPUT_FILE_H_
