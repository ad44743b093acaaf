// Copyright 2026 The Weightserver Authors.
//
// format/model_info.h: a model's table of contents, in plain C++ types.
//
// A model is a set of safetensors files (one, or the shards of a
// model.safetensors.index.json). ModelInfo lists them and every tensor in
// them: dtype, shape, and where its bytes are (file, absolute offset,
// length). It is what a server answers to GetModel (wire/model_info.h
// converts it to and from the wire), and what every client API takes to name
// tensors. It carries one name index, built once (Reindex), so lookups are
// O(1) in every layer.
//
// Example:
//   ASSIGN_OR_RETURN(ModelInfo toc, client->GetModel("llama"));
//   const ModelTensor* w = toc.Find("lm_head.weight");
//   // w->dtype ("BF16"), w->shape, toc.files[w->file_index].name
//
// Thread-safety: a value; const methods may be called concurrently.
#ifndef WEIGHTSERVER_FORMAT_MODEL_INFO_H_
#define WEIGHTSERVER_FORMAT_MODEL_INFO_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace weightserver::format {

// One safetensors file of a model.
struct ModelFile {
  std::string name;          // Relative to the model: "model-00001-of-00002.safetensors".
  uint64_t size = 0;         // Bytes.
  uint64_t header_size = 0;  // N, the JSON header's length.
  // The file's __metadata__; nullopt when it has none.
  std::optional<std::map<std::string, std::string>> metadata;
};

// One of a model's other files (config.json, tokenizer.json, ...), read
// with Client::ReadFile.
struct ExtraFile {
  std::string name;   // In the model directory: "config.json".
  uint64_t size = 0;  // Bytes.
};

// One tensor of a model.
struct ModelTensor {
  std::string name;             // Any bytes (may contain NUL).
  std::string dtype;            // The safetensors name: "BF16", "F8_E4M3".
  std::vector<uint64_t> shape;  // Empty for a scalar.
  uint32_t file_index = 0;      // Into ModelInfo::files.
  uint64_t offset = 0;          // First byte, from the start of the file.
  uint64_t length = 0;          // Bytes.
};

// A model's table of contents.
struct ModelInfo {
  std::string name;
  // Changes whenever a file of the model changes; fetches pin it.
  std::string revision;
  std::vector<ModelFile> files;
  std::vector<ModelTensor> tensors;  // In file order, then data order.
  bool sharded = false;              // Has a model.safetensors.index.json.
  // The index's "metadata" object as JSON text ("" when not sharded).
  std::string index_metadata_json;
  // The model's non-weight files, sorted by name.
  std::vector<ExtraFile> extra_files;

  // The tensor named `name`, or nullptr. Needs Reindex() after `tensors`
  // changed (the wire and server conversions call it).
  const ModelTensor* Find(absl::string_view name) const;
  // Rebuilds the name index. When a name occurs twice, Find returns the first.
  void Reindex();

 private:
  absl::flat_hash_map<std::string, size_t> index_;
};

// A line of a server's model list.
struct ModelSummary {
  std::string name;
  std::string revision;
  uint32_t file_count = 0;
  uint64_t tensor_count = 0;
  uint64_t total_tensor_bytes = 0;
  std::string error;  // Why the model is not servable; empty when it is.
};

}  // namespace weightserver::format

#endif  // WEIGHTSERVER_FORMAT_MODEL_INFO_H_
