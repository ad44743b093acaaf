// Copyright 2026 The Weightserver Authors.
//
// tools/demo_model.cc: the demo model's architecture, tensor list, shard
// assignment and index file (see demo_model.h; bytes in shard_writer.cc).
#include "tools/demo_model.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tools/shard_writer.h"
#include "util/status_macros.h"

namespace weightserver::tools {
namespace {

using format::DType;

constexpr uint64_t kHeadDim = 64;
constexpr uint64_t kMaxPositions = 2048;

uint64_t RoundUp(uint64_t x, uint64_t m) { return (x + m - 1) / m * m; }

// Fills in the dimensions that follow from `hidden`; layers = hidden / 128.
DemoArchitecture Shape(uint64_t hidden) {
  DemoArchitecture a;
  a.hidden = hidden;
  a.intermediate = RoundUp(hidden * 8 / 3, 64);    // As Llama's MLP.
  a.kv_dim = hidden >= 512 ? hidden / 4 : hidden;  // Grouped-query.
  a.vocab = std::clamp<uint64_t>(hidden * 8, 256, 32000);
  a.layers = std::max<uint64_t>(1, hidden / 128);
  return a;
}

uint64_t LayerBytes(const DemoArchitecture& a) {
  const uint64_t h = a.hidden;
  return 2 * (2 * h * h + 2 * a.kv_dim * h + 3 * h * a.intermediate) +
         2 * 4 * h;
}

uint64_t FixedBytes(const DemoArchitecture& a) {
  return 2 * 2 * a.vocab * a.hidden + 4 * a.hidden + 8 * kMaxPositions +
         4 * (kHeadDim / 2);
}

uint64_t TotalBytes(const DemoArchitecture& a) {
  return FixedBytes(a) + a.layers * LayerBytes(a);
}

uint64_t Distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

// The transformer's tensors in checkpoint (state_dict) order.
std::vector<DemoTensor> TransformerTensors(const DemoArchitecture& a,
                                           uint64_t seed) {
  std::vector<DemoTensor> out;
  auto add = [&](std::string name, DType dtype, std::vector<uint64_t> shape,
                 Fill fill) {
    const uint64_t tensor_seed = seed * 0x100000001B3ULL + out.size();
    out.push_back(
        {{std::move(name), dtype, std::move(shape)}, fill, tensor_seed});
  };
  const uint64_t h = a.hidden;
  add("model.embed_tokens.weight", DType::kBF16, {a.vocab, h}, Fill::kWeight);
  add("model.rotary_emb.inv_freq", DType::kF32, {kHeadDim / 2}, Fill::kInvFreq);
  add("model.rotary_emb.position_ids", DType::kI64, {1, kMaxPositions},
      Fill::kPositions);
  for (uint64_t i = 0; i < a.layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    add(p + "self_attn.q_proj.weight", DType::kBF16, {h, h}, Fill::kWeight);
    add(p + "self_attn.k_proj.weight", DType::kBF16, {a.kv_dim, h},
        Fill::kWeight);
    add(p + "self_attn.v_proj.weight", DType::kBF16, {a.kv_dim, h},
        Fill::kWeight);
    add(p + "self_attn.o_proj.weight", DType::kBF16, {h, h}, Fill::kWeight);
    add(p + "mlp.gate_proj.weight", DType::kBF16, {a.intermediate, h},
        Fill::kWeight);
    add(p + "mlp.up_proj.weight", DType::kBF16, {a.intermediate, h},
        Fill::kWeight);
    add(p + "mlp.down_proj.weight", DType::kBF16, {h, a.intermediate},
        Fill::kWeight);
    add(p + "input_layernorm.weight", DType::kF32, {h}, Fill::kNorm);
    add(p + "post_attention_layernorm.weight", DType::kF32, {h}, Fill::kNorm);
  }
  add("model.norm.weight", DType::kF32, {h}, Fill::kNorm);
  add("lm_head.weight", DType::kF16, {a.vocab, h}, Fill::kWeight);
  return out;
}

// `count` small tensors of mixed dtypes sharing `size_bytes`.
std::vector<DemoTensor> SmallTensors(uint64_t count, uint64_t size_bytes,
                                     uint64_t seed) {
  static constexpr DType kDTypes[] = {DType::kBF16, DType::kF16, DType::kF32,
                                      DType::kI32};
  static constexpr Fill kFills[] = {Fill::kWeight, Fill::kWeight, Fill::kNorm,
                                    Fill::kRandom};
  const uint64_t elements = std::max<uint64_t>(1, size_bytes / count / 4);
  std::vector<DemoTensor> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    out.push_back({{absl::StrCat("model.layers.", i / 128, ".mlp.experts.",
                                 i % 128, ".weight"),
                    kDTypes[i % 4],
                    {elements}},
                   kFills[i % 4],
                   seed * 0x100000001B3ULL + i});
  }
  return out;
}

uint64_t ByteSize(const DemoTensor& t) {
  uint64_t n = 1;
  for (uint64_t d : t.spec.shape) n *= d;
  return n * format::DTypeBits(t.spec.dtype) / 8;
}

// Shard of each tensor: by the middle of its bytes, so shards hold about
// equal bytes, adjusted so that every shard gets at least one tensor.
std::vector<int> AssignShards(const std::vector<DemoTensor>& tensors,
                              int shards, uint64_t total) {
  std::vector<int> out(tensors.size());
  const int64_t count = static_cast<int64_t>(tensors.size());
  uint64_t before = 0;
  int previous = 0;
  for (int64_t k = 0; k < count; ++k) {
    const uint64_t size = ByteSize(tensors[k]);
    const double middle = static_cast<double>(before) + size / 2.0;
    int wanted = total == 0 ? 0 : static_cast<int>(middle * shards / total);
    wanted = std::min(wanted, shards - 1);
    int shard = k == 0 ? 0 : std::min(wanted, previous + 1);
    shard = std::max<int64_t>({shard, previous, shards - (count - k)});
    out[k] = previous = shard;
    before += size;
  }
  return out;
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      return absl::InternalError(absl::StrCat("cannot write ", temp));
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", temp, " to ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

// A directory that already holds .safetensors files other than `names` (or
// an index file when none will be written) would become an invalid model.
absl::Status CheckNoOtherModel(const std::string& dir,
                               const std::vector<std::string>& names) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string file = it->path().filename().string();
    const bool ours =
        std::find(names.begin(), names.end(), file) != names.end();
    const bool stale_index =
        file == "model.safetensors.index.json" && names.size() == 1;
    if ((it->path().extension() == ".safetensors" && !ours) || stale_index) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " already holds ", file,
          " from another model; remove it or choose another directory"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

DemoArchitecture ChooseArchitecture(uint64_t size_bytes) {
  DemoArchitecture best = Shape(64);
  for (uint64_t h = 128; h <= 16384; h += 64) {
    DemoArchitecture a = Shape(h);
    if (Distance(TotalBytes(a), size_bytes) <
        Distance(TotalBytes(best), size_bytes)) {
      best = a;
    }
  }
  // Then the layer count that fits best.
  const uint64_t fixed = FixedBytes(best), layer = LayerBytes(best);
  const uint64_t layers =
      size_bytes <= fixed ? 1 : (size_bytes - fixed + layer / 2) / layer;
  best.layers = std::max<uint64_t>(1, layers);
  return best;
}

absl::StatusOr<DemoModelSummary> MakeDemoModel(
    const DemoModelOptions& options) {
  if (options.out_dir.empty()) {
    return absl::InvalidArgumentError("demo model: no output directory");
  }
  if (options.shards < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("demo model: shards must be >= 1, got ", options.shards));
  }
  DemoModelSummary summary;
  std::vector<DemoTensor> tensors;
  if (options.num_tensors > 0) {
    tensors =
        SmallTensors(options.num_tensors, options.size_bytes, options.seed);
  } else {
    summary.architecture = ChooseArchitecture(options.size_bytes);
    tensors = TransformerTensors(summary.architecture, options.seed);
  }
  if (static_cast<uint64_t>(options.shards) > tensors.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("demo model: ", options.shards, " shards for ",
                     tensors.size(), " tensors; every shard needs a tensor"));
  }
  for (const DemoTensor& t : tensors) summary.tensor_bytes += ByteSize(t);
  summary.tensor_count = tensors.size();

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create directory ", options.out_dir, ": ", ec.message()));
  }
  std::vector<std::string> names;
  for (int s = 0; s < options.shards; ++s) {
    names.push_back(options.shards == 1
                        ? "model.safetensors"
                        : absl::StrFormat("model-%05d-of-%05d.safetensors",
                                          s + 1, options.shards));
  }
  RETURN_IF_ERROR(CheckNoOtherModel(options.out_dir, names));
  const std::vector<int> shard_of =
      AssignShards(tensors, options.shards, summary.tensor_bytes);
  nlohmann::json weight_map = nlohmann::json::object();
  for (int s = 0; s < options.shards; ++s) {
    const std::string& name = names[s];
    std::vector<DemoTensor> shard;
    for (size_t k = 0; k < tensors.size(); ++k) {
      if (shard_of[k] != s) continue;
      shard.push_back(tensors[k]);
      weight_map[tensors[k].spec.name] = name;
    }
    RETURN_IF_ERROR(WriteShard(options.out_dir + "/" + name, shard));
    summary.files.push_back(name);
  }
  if (options.shards > 1) {
    // As huggingface_hub: json.dumps(index, indent=2, sort_keys=True) + "\n".
    nlohmann::json index = {
        {"metadata", {{"total_size", summary.tensor_bytes}}},
        {"weight_map", std::move(weight_map)}};
    RETURN_IF_ERROR(WriteText(options.out_dir + "/model.safetensors.index.json",
                              index.dump(2) + "\n"));
    summary.files.push_back("model.safetensors.index.json");
  }
  return summary;
}

}  // namespace weightserver::tools
