// Copyright 2026 The Weightserver Authors.
//
// tools/shard_writer.h: writes one demo .safetensors file, generating each
// tensor's bytes as it goes (an internal part of ws_demo_model).
//
// Example:
//   std::vector<DemoTensor> tensors = {
//       {{"w", format::DType::kBF16, {64, 64}}, Fill::kWeight, /*seed=*/1}};
//   RETURN_IF_ERROR(WriteShard("/tmp/m/model.safetensors", tensors));
//
// Thread-safety: functions; concurrent calls must use different paths.
#ifndef WEIGHTSERVER_TOOLS_SHARD_WRITER_H_
#define WEIGHTSERVER_TOOLS_SHARD_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "format/writer.h"

namespace weightserver::tools {

// What a tensor's bytes look like.
enum class Fill {
  kWeight,     // 16-bit floats: finite, |x| in [2^-10, 2^-2) (BF16) or
               // [2^-8, 2^-1) (F16), random sign. Other dtypes: kRandom.
  kNorm,       // F32 values within 0.05 of 1.0.
  kInvFreq,    // F32 1 / 10000^(2i / 2n) for i < n, as rotary embeddings.
  kPositions,  // I64 (or I32) 0, 1, 2, ...
  kRandom,     // Uniform random bytes.
};

struct DemoTensor {
  format::TensorSpec spec;
  Fill fill = Fill::kRandom;
  uint64_t seed = 0;
};

// Deterministic bytes of one tensor, produced front to back.
class TensorStream {
 public:
  TensorStream(const DemoTensor& tensor, uint64_t size);

  // Writes the next min(n, remaining) bytes to `out`; returns how many.
  size_t Read(std::byte* out, size_t n);
  uint64_t remaining() const { return size_ - position_; }

 private:
  void Generate();  // Refills block_ with the bytes starting at position_.

  static constexpr size_t kBlockBytes = 64 << 10;  // A multiple of 8.
  const Fill fill_;
  const format::DType dtype_;
  const uint64_t size_;
  uint64_t state_;                // xorshift64* state; never 0.
  uint64_t position_ = 0;         // Next byte of the tensor to hand out.
  uint64_t block_start_ = 0;      // Tensor byte at block_[0].
  size_t block_size_ = 0;         // Valid bytes in block_.
  std::vector<std::byte> block_;  // kBlockBytes.
};

// Writes `tensors` as a .safetensors file at `path` with __metadata__
// {"format": "pt"}, through `path`.tmp renamed into place.
// Errors: PlanFile's errors; the errno status of a failed file operation,
// naming the path.
absl::Status WriteShard(const std::string& path,
                        absl::Span<const DemoTensor> tensors);

}  // namespace weightserver::tools

#endif  // WEIGHTSERVER_TOOLS_SHARD_WRITER_H_
