// Copyright 2026 The Weightserver Authors.
//
// tests/testing/test_models.h: model directories for server and client tests.
//
// Tensor bytes are a deterministic function of the tensor's name and size
// (TensorBytes), so a test can check fetched bytes without keeping the
// source around. Files are written with format::WriteFile, i.e. exactly as
// the reference writer lays them out.
//
// Example:
//   TempDir repo;
//   WriteModel(repo.path() + "/org/llama", {{"w", DType::kF32, {4, 8}}});
//   WriteShardedModel(repo.path() + "/sharded", {{...}, {...}});
#ifndef WEIGHTSERVER_TESTS_TESTING_TEST_MODELS_H_
#define WEIGHTSERVER_TESTS_TESTING_TEST_MODELS_H_

#include <string>
#include <vector>

#include "format/writer.h"

namespace weightserver::testing {

// The bytes every test model holds for a tensor named `name` of `size` bytes.
std::string TensorBytes(const std::string& name, uint64_t size);

// Byte size of a spec (aborts on an invalid spec).
uint64_t SpecBytes(const format::TensorSpec& spec);

// Writes `path` (a .safetensors file) holding `specs` with TensorBytes data.
void WriteTestFile(const std::string& path,
                   const std::vector<format::TensorSpec>& specs,
                   const std::optional<format::Metadata>& metadata = {});

// `dir`/model.safetensors with `specs`.
void WriteModel(const std::string& dir,
                const std::vector<format::TensorSpec>& specs);

// `dir`/model-0000i-of-0000n.safetensors, one per element of `shards`, and
// `dir`/model.safetensors.index.json naming them (metadata total_size).
void WriteShardedModel(
    const std::string& dir,
    const std::vector<std::vector<format::TensorSpec>>& shards);

// A small transformer-like spec list of a few dtypes, about `bytes` in all.
std::vector<format::TensorSpec> SmallTransformer(const std::string& prefix,
                                                 uint64_t bytes);

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_TEST_MODELS_H_
