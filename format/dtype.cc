// Copyright 2026 The Weightserver Authors.
//
// format/dtype.cc: names and bit widths of the 22 safetensors dtypes.
#include "weightserver/format/dtype.h"

#include <array>
#include <optional>

#include "absl/strings/string_view.h"

namespace weightserver::format {
namespace {

struct DTypeEntry {
  DType dtype;
  absl::string_view name;
  int bits;
};

// In enum order; kEntries[i].dtype == static_cast<DType>(i).
constexpr std::array<DTypeEntry, kNumDTypes> kEntries = {{
    {DType::kBool, "BOOL", 8},
    {DType::kF4, "F4", 4},
    {DType::kF6E2M3, "F6_E2M3", 6},
    {DType::kF6E3M2, "F6_E3M2", 6},
    {DType::kU8, "U8", 8},
    {DType::kI8, "I8", 8},
    {DType::kF8E5M2, "F8_E5M2", 8},
    {DType::kF8E4M3, "F8_E4M3", 8},
    {DType::kF8E8M0, "F8_E8M0", 8},
    {DType::kF8E4M3Fnuz, "F8_E4M3FNUZ", 8},
    {DType::kF8E5M2Fnuz, "F8_E5M2FNUZ", 8},
    {DType::kI16, "I16", 16},
    {DType::kU16, "U16", 16},
    {DType::kF16, "F16", 16},
    {DType::kBF16, "BF16", 16},
    {DType::kI32, "I32", 32},
    {DType::kU32, "U32", 32},
    {DType::kF32, "F32", 32},
    {DType::kC64, "C64", 64},
    {DType::kF64, "F64", 64},
    {DType::kI64, "I64", 64},
    {DType::kU64, "U64", 64},
}};

constexpr bool EntriesInEnumOrder() {
  for (int i = 0; i < kNumDTypes; ++i) {
    if (static_cast<int>(kEntries[i].dtype) != i) return false;
  }
  return true;
}
static_assert(EntriesInEnumOrder(), "kEntries must follow the enum order");

constexpr std::array<DType, kNumDTypes> MakeAll() {
  std::array<DType, kNumDTypes> all{};
  for (int i = 0; i < kNumDTypes; ++i) all[i] = kEntries[i].dtype;
  return all;
}

const DTypeEntry& Entry(DType dtype) {
  return kEntries[static_cast<size_t>(dtype)];
}

}  // namespace

const std::array<DType, kNumDTypes>& AllDTypes() {
  static constexpr std::array<DType, kNumDTypes> kAll = MakeAll();
  return kAll;
}

absl::string_view DTypeName(DType dtype) { return Entry(dtype).name; }

std::optional<DType> ParseDType(absl::string_view name) {
  for (const DTypeEntry& e : kEntries) {
    if (e.name == name) return e.dtype;
  }
  return std::nullopt;
}

int DTypeBits(DType dtype) { return Entry(dtype).bits; }

}  // namespace weightserver::format
