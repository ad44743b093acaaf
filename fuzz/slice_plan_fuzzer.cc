// Copyright 2026 The Weightserver Authors.
//
// fuzz/slice_plan_fuzzer.cc: libFuzzer target for the slice planner,
// differential against a naive one.
//
// Input: a dtype, a shape of rank 0-4 and a selection (in and out of range,
// reversed, empty, several ranges per dimension), drawn by
// FuzzedDataProvider. Checks that MeasureSlice and PlanSlice agree, that the
// plan's spans are merged, inside the tensor and add up to its size, and,
// for byte-sized dtypes and small shapes, that the spans' bytes are exactly
// those of the selected elements in row-major order, computed one element at
// a time.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/check.h"
#include "weightserver/format/dtype.h"
#include "weightserver/format/slice.h"

namespace weightserver::format {
namespace {

void Check(bool ok, const char* what) {
  fuzz::Check(ok, "slice_plan_fuzzer", what);
}

// Appends the source element index of every selected element, row-major.
void Enumerate(absl::Span<const uint64_t> shape,
               absl::Span<const DimRanges> sel, size_t dim, uint64_t base,
               std::vector<uint64_t>* out) {
  if (dim == shape.size()) {
    out->push_back(base);
    return;
  }
  DimRanges all = {{0, shape[dim]}};
  const DimRanges& ranges = sel.empty() || sel[dim].empty() ? all : sel[dim];
  for (const IndexRange& r : ranges) {
    for (uint64_t i = r.start; i < r.stop; ++i) {
      Enumerate(shape, sel, dim + 1, base * shape[dim] + i, out);
    }
  }
}

void FuzzOne(FuzzedDataProvider& in) {
  DType dtype = AllDTypes()[in.ConsumeIntegralInRange<size_t>(0, kNumDTypes - 1)];
  bool huge = in.ConsumeBool();
  size_t rank = in.ConsumeIntegralInRange<size_t>(0, 4);
  std::vector<uint64_t> shape(rank);
  for (uint64_t& d : shape) {
    d = huge ? in.ConsumeIntegral<uint64_t>() : in.ConsumeIntegralInRange<uint64_t>(0, 9);
  }
  std::vector<DimRanges> sel;
  if (in.ConsumeBool()) {
    // Usually the tensor's rank; sometimes not (refused).
    size_t dims = in.ConsumeIntegralInRange<int>(0, 9) == 0
                      ? in.ConsumeIntegralInRange<size_t>(0, 5) : rank;
    sel.resize(dims);
    for (size_t k = 0; k < dims; ++k) {
      uint64_t n = k < rank ? shape[k] : 4;
      size_t ranges = in.ConsumeIntegralInRange<size_t>(0, 3);
      for (size_t j = 0; j < ranges; ++j) {
        uint64_t lim = huge ? UINT64_MAX : n + 2;
        uint64_t a = in.ConsumeIntegralInRange<uint64_t>(0, lim);
        uint64_t b = in.ConsumeIntegralInRange<uint64_t>(0, lim);
        if (in.ConsumeIntegralInRange<int>(0, 7) != 0 && a > b) std::swap(a, b);
        sel[k].push_back({a, b});
      }
    }
  }
  SliceOptions options;
  options.max_spans = in.ConsumeIntegralInRange<uint64_t>(1, 64);

  absl::StatusOr<SliceSummary> m = MeasureSlice(dtype, shape, sel);
  absl::StatusOr<SlicePlan> p = PlanSlice(dtype, shape, sel, options);
  if (!m.ok()) {
    Check(!p.ok() && p.status() == m.status(), "PlanSlice fails as MeasureSlice");
    return;
  }
  if (!p.ok()) {
    Check(m->span_count > options.max_spans, "PlanSlice fails only on max_spans");
    return;
  }
  Check(p->shape == m->shape && p->byte_size == m->byte_size &&
            p->spans.size() == m->span_count,
        "plan and summary agree");
  Check(m->shape.size() == rank, "result rank is the tensor's");
  uint64_t total = 0, elements = 1;
  for (uint64_t d : shape) elements *= d;  // Measured, so no overflow.
  uint64_t tensor_bytes = elements * DTypeBits(dtype) / 8;
  for (size_t i = 0; i < p->spans.size(); ++i) {
    const ByteSpan& s = p->spans[i];
    Check(s.length > 0, "no empty span");
    Check(s.offset + s.length <= tensor_bytes, "span inside the tensor");
    if (i > 0) {
      const ByteSpan& prev = p->spans[i - 1];
      Check(prev.offset + prev.length != s.offset, "adjacent spans are merged");
    }
    total += s.length;
  }
  Check(total == p->byte_size, "spans add up to the result's size");

  // The naive planner only on small shapes (every dimension <= 9: at most
  // (3 ranges x 9)^4 elements); with a zero-sized dimension a huge one
  // would still be walked index by index.
  if (DTypeBits(dtype) % 8 != 0 || huge) return;
  std::vector<uint64_t> picked;
  Enumerate(shape, sel, 0, 0, &picked);
  uint64_t width = DTypeBits(dtype) / 8;
  std::vector<uint64_t> want, got;
  for (uint64_t e : picked) {
    for (uint64_t b = 0; b < width; ++b) want.push_back(e * width + b);
  }
  for (const ByteSpan& s : p->spans) {
    for (uint64_t b = 0; b < s.length; ++b) got.push_back(s.offset + b);
  }
  Check(got == want, "spans give exactly the selected elements' bytes");
  uint64_t count = 1;
  for (uint64_t d : p->shape) count *= d;
  Check(count == picked.size(), "result shape counts the selected elements");
}

}  // namespace
}  // namespace weightserver::format

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  weightserver::format::FuzzOne(in);
  return 0;
}
