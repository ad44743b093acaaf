// Copyright 2026 The Weightserver Authors.
//
// tests/tools/demo_model_test.cc: the demo model generator: its files parse,
// its index matches its shards, its bytes are deterministic and plausible.
#include "tools/demo_model.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "format/header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::ReadBytes;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;

absl::Span<const std::byte> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Every tensor of the model in `dir` (per `files`): name -> (file, header).
struct Loaded {
  std::map<std::string, std::string> file_of;
  std::map<std::string, std::string> bytes;  // File name -> contents.
  std::map<std::string, format::Header> headers;
  uint64_t data_bytes = 0;
};

Loaded Load(const std::string& dir, const std::vector<std::string>& files) {
  Loaded out;
  for (const std::string& name : files) {
    if (name.ends_with(".json")) continue;
    std::string bytes = ReadBytes(dir + "/" + name);
    absl::StatusOr<format::Header> h = format::ParseFile(AsBytes(bytes), name);
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) continue;
    for (const format::TensorInfo& t : h->tensors) out.file_of[t.name] = name;
    out.data_bytes += h->data_size();
    out.headers[name] = *std::move(h);
    out.bytes[name] = std::move(bytes);
  }
  return out;
}

// The bytes of tensor `name`.
std::string TensorBytes(const Loaded& m, const std::string& name) {
  const std::string& file = m.file_of.at(name);
  const format::Header& h = m.headers.at(file);
  const format::TensorInfo* t = h.Find(name);
  return m.bytes.at(file).substr(h.data_offset() + t->begin, t->size());
}

TEST(MakeDemoModelTest, ShardsParseAndIndexMatches) {
  TempDir dir;
  DemoModelOptions options{.out_dir = dir.path() + "/m",
                           .size_bytes = 2 << 20,
                           .shards = 3,
                           .seed = 7};
  ASSERT_OK_AND_ASSIGN(DemoModelSummary s, MakeDemoModel(options));
  EXPECT_THAT(s.files, ElementsAre("model-00001-of-00003.safetensors",
                                   "model-00002-of-00003.safetensors",
                                   "model-00003-of-00003.safetensors",
                                   "model.safetensors.index.json"));
  Loaded m = Load(options.out_dir, s.files);
  ASSERT_EQ(m.headers.size(), 3u);
  for (const auto& [file, h] : m.headers) {
    EXPECT_FALSE(h.tensors.empty()) << file;
    ASSERT_TRUE(h.metadata.has_value());
    EXPECT_EQ(*h.metadata,
              (std::map<std::string, std::string>{{"format", "pt"}}));
  }
  EXPECT_EQ(m.file_of.size(), s.tensor_count);
  EXPECT_EQ(m.data_bytes, s.tensor_bytes);

  const std::string text =
      ReadBytes(options.out_dir + "/model.safetensors.index.json");
  nlohmann::json index = nlohmann::json::parse(text);
  // huggingface_hub's layout: indent 2, sorted keys, trailing newline.
  EXPECT_EQ(text, index.dump(2) + "\n");
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), s.tensor_bytes);
  using WeightMap = std::map<std::string, std::string>;
  EXPECT_EQ(index["weight_map"].get<WeightMap>(), m.file_of);
}

TEST(MakeDemoModelTest, TransformerNamesDtypesAndValues) {
  TempDir dir;
  DemoModelOptions options{
      .out_dir = dir.path(), .size_bytes = 1 << 20, .shards = 1};
  ASSERT_OK_AND_ASSIGN(DemoModelSummary s, MakeDemoModel(options));
  EXPECT_THAT(s.files, ElementsAre("model.safetensors"));
  EXPECT_FALSE(
      std::filesystem::exists(dir.path() + "/model.safetensors.index.json"));
  Loaded m = Load(dir.path(), s.files);
  const format::Header& h = m.headers.at("model.safetensors");
  auto dtype_of = [&](const std::string& name) {
    const format::TensorInfo* t = h.Find(name);
    return t == nullptr ? std::string("missing")
                        : std::string(format::DTypeName(t->dtype));
  };
  EXPECT_EQ(dtype_of("model.embed_tokens.weight"), "BF16");
  EXPECT_EQ(dtype_of("model.layers.0.self_attn.q_proj.weight"), "BF16");
  EXPECT_EQ(dtype_of("model.layers.0.mlp.down_proj.weight"), "BF16");
  EXPECT_EQ(dtype_of("model.layers.0.input_layernorm.weight"), "F32");
  EXPECT_EQ(dtype_of("model.norm.weight"), "F32");
  EXPECT_EQ(dtype_of("lm_head.weight"), "F16");
  EXPECT_EQ(dtype_of("model.rotary_emb.position_ids"), "I64");

  const std::string positions = TensorBytes(m, "model.rotary_emb.position_ids");
  for (size_t i = 0; i < positions.size() / 8; ++i) {
    int64_t v;
    std::memcpy(&v, positions.data() + 8 * i, 8);
    ASSERT_EQ(v, static_cast<int64_t>(i));
  }
  const std::string norm = TensorBytes(m, "model.norm.weight");
  for (size_t i = 0; i < norm.size() / 4; ++i) {
    float v;
    std::memcpy(&v, norm.data() + 4 * i, 4);
    ASSERT_NEAR(v, 1.0f, 0.051f);
  }
  // BF16: finite (exponent not all ones) and small.
  const std::string q =
      TensorBytes(m, "model.layers.0.self_attn.q_proj.weight");
  for (size_t i = 0; i < q.size() / 2; ++i) {
    uint16_t bits;
    std::memcpy(&bits, q.data() + 2 * i, 2);
    const uint32_t f32_bits = uint32_t{bits} << 16;
    float v;
    std::memcpy(&v, &f32_bits, 4);
    ASSERT_TRUE(std::isfinite(v));
    ASSERT_LT(std::fabs(v), 0.25f);
  }
}

TEST(MakeDemoModelTest, SizeApproximatesTheTarget) {
  for (uint64_t mib : {1, 8, 32}) {
    TempDir dir;
    DemoModelOptions options{.out_dir = dir.path(), .size_bytes = mib << 20};
    ASSERT_OK_AND_ASSIGN(DemoModelSummary s, MakeDemoModel(options));
    EXPECT_NEAR(static_cast<double>(s.tensor_bytes),
                static_cast<double>(mib << 20), 0.15 * (mib << 20))
        << mib << " MiB";
  }
  DemoArchitecture big = ChooseArchitecture(uint64_t{16} << 30);
  EXPECT_GE(big.hidden, 2048u);
  EXPECT_GE(big.layers, 16u);
}

TEST(MakeDemoModelTest, SeedDeterminesTheBytes) {
  TempDir dir;
  auto make = [&](const std::string& sub, uint64_t seed) {
    DemoModelOptions options{.out_dir = dir.path() + "/" + sub,
                             .size_bytes = 1 << 20,
                             .shards = 1,
                             .seed = seed};
    EXPECT_OK(MakeDemoModel(options).status());
    return ReadBytes(options.out_dir + "/model.safetensors");
  };
  const std::string a = make("a", 1), b = make("b", 1), c = make("c", 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(MakeDemoModelTest, NumTensorsMakesExactlyThatMany) {
  TempDir dir;
  DemoModelOptions options{.out_dir = dir.path(),
                           .size_bytes = 1 << 20,
                           .shards = 2,
                           .num_tensors = 1000};
  ASSERT_OK_AND_ASSIGN(DemoModelSummary s, MakeDemoModel(options));
  EXPECT_EQ(s.tensor_count, 1000u);
  Loaded m = Load(dir.path(), s.files);
  EXPECT_EQ(m.file_of.size(), 1000u);
  EXPECT_EQ(m.headers.size(), 2u);
}

TEST(MakeDemoModelTest, RejectsBadOptions) {
  TempDir dir;
  EXPECT_THAT(MakeDemoModel({.out_dir = ""}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeDemoModel({.out_dir = dir.path(), .shards = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      MakeDemoModel({.out_dir = dir.path(), .shards = 5, .num_tensors = 3}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("every shard needs a tensor")));
}

TEST(MakeDemoModelTest, RefusesADirectoryHoldingAnotherModel) {
  TempDir dir;
  WriteBytes(dir.path() + "/model-00001-of-00009.safetensors", "x");
  EXPECT_THAT(MakeDemoModel({.out_dir = dir.path(), .size_bytes = 1 << 20}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("model-00001-of-00009.safetensors")));
}

}  // namespace
}  // namespace weightserver::tools
