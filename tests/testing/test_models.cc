// Copyright 2026 The Weightserver Authors.
//
// tests/testing/test_models.cc
#include "tests/testing/test_models.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "format/header.h"
#include "nlohmann/json.hpp"
#include "tests/testing/temp_dir.h"

namespace weightserver::testing {

std::string TensorBytes(const std::string& name, uint64_t size) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (unsigned char c : name) x = (x ^ c) * 0x100000001b3ull;
  std::string out(size, '\0');
  for (uint64_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

uint64_t SpecBytes(const format::TensorSpec& spec) {
  absl::StatusOr<uint64_t> n =
      format::TensorByteSize(spec.dtype, spec.shape, "test", spec.name);
  if (!n.ok()) {
    std::fprintf(stderr, "bad test spec: %s\n", n.status().ToString().c_str());
    std::abort();
  }
  return *n;
}

void WriteTestFile(const std::string& path,
                   const std::vector<format::TensorSpec>& specs,
                   const std::optional<format::Metadata>& metadata) {
  std::vector<std::string> data;
  std::vector<format::TensorData> tensors;
  data.reserve(specs.size());
  for (const format::TensorSpec& s : specs) {
    data.push_back(TensorBytes(s.name, SpecBytes(s)));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    tensors.push_back(format::TensorData{
        specs[i], absl::MakeConstSpan(
                      reinterpret_cast<const std::byte*>(data[i].data()),
                      data[i].size())});
  }
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  absl::Status s = format::WriteFile(path, tensors, metadata);
  if (!s.ok()) {
    std::fprintf(stderr, "WriteTestFile: %s\n", s.ToString().c_str());
    std::abort();
  }
}

void WriteModel(const std::string& dir,
                const std::vector<format::TensorSpec>& specs) {
  WriteTestFile(dir + "/model.safetensors", specs,
                format::Metadata{{"format", "pt"}});
}

void WriteShardedModel(
    const std::string& dir,
    const std::vector<std::vector<format::TensorSpec>>& shards) {
  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t total = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    std::string name = absl::StrFormat("model-%05d-of-%05d.safetensors",
                                       i + 1, shards.size());
    WriteTestFile(dir + "/" + name, shards[i],
                  format::Metadata{{"format", "pt"}});
    for (const format::TensorSpec& s : shards[i]) {
      weight_map[s.name] = name;
      total += SpecBytes(s);
    }
  }
  nlohmann::json index = {{"metadata", {{"total_size", total}}},
                          {"weight_map", weight_map}};
  WriteBytes(dir + "/model.safetensors.index.json", index.dump(2) + "\n");
}

std::vector<format::TensorSpec> SmallTransformer(const std::string& prefix,
                                                 uint64_t bytes) {
  using format::DType;
  // hidden^2 * 2 bytes per BF16 projection, 4 projections per layer.
  uint64_t hidden = 64;
  while ((hidden * 2) * (hidden * 2) * 2 * 8 < bytes) hidden *= 2;
  std::vector<format::TensorSpec> specs = {
      {prefix + "embed_tokens.weight", DType::kBF16, {256, hidden}},
      {prefix + "norm.weight", DType::kF32, {hidden}},
      {prefix + "lm_head.weight", DType::kF16, {256, hidden}},
      {prefix + "position_ids", DType::kI64, {1, 128}},
  };
  for (int layer = 0; layer < 2; ++layer) {
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
      specs.push_back({absl::StrFormat("%slayers.%d.self_attn.%s.weight",
                                       prefix, layer, proj),
                       DType::kBF16, {hidden, hidden}});
    }
    specs.push_back({absl::StrFormat("%slayers.%d.input_layernorm.weight",
                                     prefix, layer),
                     DType::kF32, {hidden}});
  }
  return specs;
}

}  // namespace weightserver::testing
