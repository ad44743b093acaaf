// Copyright 2026 The Weightserver Authors.
//
// tools/demo_model.h: writes a realistic demo model for tests, demos and
// benchmarks.
//
// The default model is transformer-shaped, with the tensor names, dtypes and
// file layout of a Hugging Face checkpoint: BF16 weights, an F16 lm_head, F32
// norms, an I64 position-id tensor; shards named
// model-00001-of-00004.safetensors with a model.safetensors.index.json
// written as huggingface_hub writes it (indent 2, sorted keys), or one
// model.safetensors. The hidden size and layer count are chosen so that the
// tensor bytes come close to `size_bytes`. With `num_tensors` set the model
// is instead exactly that many small tensors (a table-of-contents benchmark).
//
// Tensor bytes are deterministic pseudo-random values of the right kind
// (finite small floats for weights, about 1.0 for norms, 0..n-1 for position
// ids) from `seed`. Files are laid out with format::PlanFile and written
// piecewise with pwrite through a temporary name, then renamed into place;
// memory use is a few MiB whatever the model size.
//
// Example:
//   DemoModelOptions options;
//   options.out_dir = "/tmp/demo";
//   options.size_bytes = 256 << 20;
//   ASSIGN_OR_RETURN(DemoModelSummary s, MakeDemoModel(options));
//
// Thread-safety: calls writing to different directories may run concurrently.
#ifndef WEIGHTSERVER_TOOLS_DEMO_MODEL_H_
#define WEIGHTSERVER_TOOLS_DEMO_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "weightserver/format/dtype.h"

namespace weightserver::tools {

struct DemoModelOptions {
  // Directory to write into (created if missing). Required.
  std::string out_dir;
  // Approximate sum of the tensors' byte lengths.
  uint64_t size_bytes = uint64_t{256} << 20;
  // Number of .safetensors files; 1 writes model.safetensors and no index.
  int shards = 4;
  // When > 0: exactly this many small tensors instead of a transformer.
  uint64_t num_tensors = 0;
  uint64_t seed = 0;
};

// The shape of the transformer that MakeDemoModel picked.
struct DemoArchitecture {
  uint64_t hidden = 0;
  uint64_t intermediate = 0;
  uint64_t kv_dim = 0;
  uint64_t layers = 0;
  uint64_t vocab = 0;
};

struct DemoModelSummary {
  std::vector<std::string> files;  // File names written, index last if any.
  uint64_t tensor_count = 0;
  uint64_t tensor_bytes = 0;      // Sum of the tensors' byte lengths.
  DemoArchitecture architecture;  // All zero in num_tensors mode.
};

// The architecture whose tensors come closest to `size_bytes`.
DemoArchitecture ChooseArchitecture(uint64_t size_bytes);

// Writes the model described by `options` (see the file comment).
// Errors: InvalidArgument for an empty out_dir, shards < 1, more shards than
// tensors, or a model whose header would be too large; the errno-derived
// status of a failed file operation, naming the path.
absl::StatusOr<DemoModelSummary> MakeDemoModel(const DemoModelOptions& options);

}  // namespace weightserver::tools

#endif  // WEIGHTSERVER_TOOLS_DEMO_MODEL_H_
