// Copyright 2026 The Weightserver Authors.
//
// weightserver/format/dtype.h: the 22 safetensors element types.
//
// The enumerators are in the reference's enum order ("increasing alignment"),
// which is also the writer's sort key (descending). Sub-byte types (F4: 4 bits,
// F6_*: 6 bits) have a size in bits that is not a multiple of 8; a tensor of
// them is valid only when its total bit count is (see safetensors.md §3).
//
// Example:
//   std::optional<DType> t = ParseDType("BF16");   // DType::kBF16
//   DTypeBits(*t);                                  // 16
//   DTypeName(DType::kF8E4M3);                      // "F8_E4M3"
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_FORMAT_DTYPE_H_
#define WEIGHTSERVER_FORMAT_DTYPE_H_

#include <array>
#include <cstdint>
#include <optional>
#include "absl/strings/string_view.h"

namespace weightserver::format {

enum class DType : uint8_t {
  kBool,
  kF4,
  kF6E2M3,
  kF6E3M2,
  kU8,
  kI8,
  kF8E5M2,
  kF8E4M3,
  kF8E8M0,
  kF8E4M3Fnuz,
  kF8E5M2Fnuz,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kC64,
  kF64,
  kI64,
  kU64,
};

inline constexpr int kNumDTypes = 22;

// Every dtype in enum order.
const std::array<DType, kNumDTypes>& AllDTypes();

// The JSON name, exactly as safetensors spells it ("F8_E4M3FNUZ").
absl::string_view DTypeName(DType dtype);

// Parses a JSON dtype name; case-sensitive; nullopt when unknown.
std::optional<DType> ParseDType(absl::string_view name);

// Size of one element in bits: 4, 6, 8, 16, 32 or 64.
int DTypeBits(DType dtype);

}  // namespace weightserver::format

#endif  // WEIGHTSERVER_FORMAT_DTYPE_H_
