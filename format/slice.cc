// Copyright 2026 The Weightserver Authors.
//
// format/slice.cc
//
// Terms: after normalisation every dimension holds an explicit, non-empty list
// of non-empty ranges, with adjacent ranges ([a, b) + [b, c)) merged. The
// innermost dimension whose list is not exactly [0, n) is `k`; the dimensions
// after it are whole, so each range of k is one contiguous run of source
// bytes at every selected index tuple of the dimensions before it (the
// "outer tuples"). Runs of consecutive tuples merge when the last run of one
// ends where the first run of the next begins; counting those merges is what
// lets MeasureSlice count spans without producing them (see CountSpans).
#include "weightserver/format/slice.h"

#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "weightserver/format/errors.h"
#include "util/status_macros.h"

namespace weightserver::format {
namespace {

absl::Status Invalid(ErrorKind kind, std::string detail) {
  return FormatError(absl::StatusCode::kInvalidArgument, kind, "", detail);
}

std::string RangeText(const IndexRange& r) {
  return absl::StrCat("[", r.start, ", ", r.stop, ")");
}

struct Normalized {
  int bits = 0;
  std::vector<uint64_t> shape;   // Source shape.
  std::vector<uint64_t> stride;  // Source strides in elements.
  std::vector<DimRanges> dims;   // One explicit list per dimension.
  SliceSummary summary;
  int k = -1;  // Innermost narrowed dimension; -1: none.
};

// Checks one dimension's ranges and appends their normalised form to `out`.
absl::Status NormalizeDim(size_t d, uint64_t n, const DimRanges& ranges,
                          DimRanges* out, uint64_t* selected) {
  if (ranges.empty()) {
    if (n > 0) out->push_back({0, n});
    *selected = n;
    return absl::OkStatus();
  }
  uint64_t total = 0;
  for (const IndexRange& r : ranges) {
    if (r.start > r.stop) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dimension ", d, ": range ", RangeText(r), " has start > stop"));
    }
    if (r.stop > n) {
      return absl::OutOfRangeError(absl::StrCat("dimension ", d, " (size ", n,
                                                "): range ", RangeText(r),
                                                " is past the end"));
    }
    if (__builtin_add_overflow(total, r.size(), &total)) {
      return Invalid(ErrorKind::kValidationOverflow,
                     absl::StrCat("dimension ", d, ": ", ranges.size(),
                                  " ranges select over 2^64 indices"));
    }
    if (r.start == r.stop) continue;
    if (!out->empty() && out->back().stop == r.start) {
      out->back().stop = r.stop;
    } else {
      out->push_back(r);
    }
  }
  *selected = total;
  return absl::OkStatus();
}

// Element cuts at bit offsets that are not multiples of 8 are refused. Offsets
// are checked modulo m = 8 / gcd(bits, 8): the residues of the outer tuples'
// base offsets form a small set, so this is O(ranges * m^2).
absl::Status CheckAlignment(DType dtype, const Normalized& n) {
  const uint64_t m = 8 / std::gcd(n.bits, 8);
  if (m == 1 || n.k < 0) return absl::OkStatus();
  std::vector<bool> bases(m, false);
  bases[0] = true;
  for (int j = 0; j < n.k; ++j) {
    std::vector<bool> dim(m, false);
    for (const IndexRange& r : n.dims[j]) {
      for (uint64_t i = r.start; i < r.stop && i < r.start + m; ++i) {
        dim[(i % m) * (n.stride[j] % m) % m] = true;
      }
    }
    std::vector<bool> sum(m, false);
    for (uint64_t a = 0; a < m; ++a) {
      for (uint64_t b = 0; b < m; ++b) {
        if (bases[a] && dim[b]) sum[(a + b) % m] = true;
      }
    }
    bases = std::move(sum);
  }
  const uint64_t stride = n.stride[n.k] % m;
  for (const IndexRange& r : n.dims[n.k]) {
    for (uint64_t x : {r.start, r.stop}) {
      for (uint64_t a = 0; a < m; ++a) {
        if (bases[a] && (a + (x % m) * stride) % m != 0) {
          return Invalid(
              ErrorKind::kMisalignedSlice,
              absl::StrCat("dimension ", n.k, ": range ", RangeText(r),
                           " cuts ", DTypeName(dtype), " (", n.bits,
                           "-bit) elements inside a byte"));
        }
      }
    }
  }
  return absl::OkStatus();
}

// Spans = tuples * ranges of k - merges. Walking the outer dimensions outward
// in, the flat index sequence of the tuples is built level by level; only the
// number of consecutive pairs whose flat indices differ by 0 and by 1 matters
// (a run ending at n (start 0) merges across a +1 step, one ending where the
// first starts merges across a 0 step).
uint64_t CountSpans(const Normalized& n) {
  uint64_t tuples = 1, diff0 = 0, diff1 = 0;
  for (int j = 0; j < n.k; ++j) {
    const DimRanges& r = n.dims[j];
    uint64_t in0 = 0, in1 = 0;  // Pairs inside one block of this level.
    for (size_t i = 0; i < r.size(); ++i) {
      in1 += r[i].size() - 1;
      if (i > 0 && r[i].start + 1 == r[i - 1].stop) ++in0;
    }
    const uint64_t first = r.front().start, last = r.back().stop - 1;
    const uint64_t across0 = first == last ? diff0 : 0;
    const uint64_t across1 =
        (first == 0 && last + 1 == n.shape[j] ? diff1 : 0) +
        (first == last + 1 ? diff0 : 0);
    diff0 = tuples * in0 + across0;
    diff1 = tuples * in1 + across1;
    tuples *= n.summary.shape[j];
  }
  const DimRanges& rk = n.dims[n.k];
  uint64_t merges = 0;
  if (rk.front().start == 0 && rk.back().stop == n.shape[n.k]) merges += diff1;
  if (rk.back().stop == rk.front().start) merges += diff0;
  return tuples * rk.size() - merges;
}

absl::StatusOr<Normalized> Normalize(DType dtype,
                                     absl::Span<const uint64_t> shape,
                                     absl::Span<const DimRanges> selection) {
  Normalized n;
  n.bits = DTypeBits(dtype);
  n.shape.assign(shape.begin(), shape.end());
  if (!selection.empty() && selection.size() != shape.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("selection has ", selection.size(),
                     " dimensions, the tensor has ", shape.size()));
  }
  uint64_t elements = 1, source_bits = 0;
  for (uint64_t d : shape) {
    if (__builtin_mul_overflow(elements, d, &elements)) {
      return Invalid(ErrorKind::kValidationOverflow,
                     "the tensor's element count overflows 64 bits");
    }
  }
  if (__builtin_mul_overflow(elements, uint64_t(n.bits), &source_bits)) {
    return Invalid(ErrorKind::kValidationOverflow,
                   "the tensor's bit count overflows 64 bits");
  }
  if (source_bits % 8 != 0) {
    return Invalid(
        ErrorKind::kMisalignedSlice,
        absl::StrCat("the tensor's ", elements, " ", DTypeName(dtype),
                     " elements are not a whole number of bytes"));
  }
  n.dims.resize(shape.size());
  n.summary.shape.resize(shape.size());
  static const DimRanges kWhole;
  for (size_t d = 0; d < shape.size(); ++d) {
    RETURN_IF_ERROR(NormalizeDim(d, shape[d],
                                 selection.empty() ? kWhole : selection[d],
                                 &n.dims[d], &n.summary.shape[d]));
  }
  uint64_t out_bits = n.bits;
  for (uint64_t d : n.summary.shape) {
    if (d == 0) return n;  // Empty result: no spans, no cuts to check.
  }
  for (uint64_t d : n.summary.shape) {
    if (__builtin_mul_overflow(out_bits, d, &out_bits)) {
      return Invalid(ErrorKind::kValidationOverflow,
                     "the result's bit count overflows 64 bits");
    }
  }
  n.summary.byte_size = out_bits / 8;
  // Non-empty result, so every source dimension is non-zero and the strides
  // are bounded by the element count.
  n.stride.assign(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) {
    n.stride[d] = n.stride[d + 1] * shape[d + 1];
  }
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    const DimRanges& r = n.dims[d];
    if (r.size() != 1 || r[0].start != 0 || r[0].stop != shape[d]) {
      n.k = d;
      break;
    }
  }
  RETURN_IF_ERROR(CheckAlignment(dtype, n));
  n.summary.span_count = n.k < 0 ? 1 : CountSpans(n);
  return n;
}

}  // namespace

absl::StatusOr<SliceSummary> MeasureSlice(
    DType dtype, absl::Span<const uint64_t> shape,
    absl::Span<const DimRanges> selection) {
  ASSIGN_OR_RETURN(Normalized n, Normalize(dtype, shape, selection));
  return std::move(n.summary);
}

absl::StatusOr<SlicePlan> PlanSlice(DType dtype,
                                    absl::Span<const uint64_t> shape,
                                    absl::Span<const DimRanges> selection,
                                    const SliceOptions& options) {
  ASSIGN_OR_RETURN(const Normalized n, Normalize(dtype, shape, selection));
  if (n.summary.span_count > options.max_spans) {
    return absl::InvalidArgumentError(
        absl::StrCat("selection needs ", n.summary.span_count,
                     " byte spans, over the limit of ", options.max_spans,
                     " (max_spans); select fewer, larger ranges"));
  }
  SlicePlan plan;
  plan.shape = n.summary.shape;
  plan.byte_size = n.summary.byte_size;
  if (n.summary.byte_size == 0) return plan;
  if (n.k < 0) {
    plan.spans.push_back({0, n.summary.byte_size});
    return plan;
  }
  plan.spans.reserve(n.summary.span_count);
  const int k = n.k;
  const uint64_t bits = n.bits;
  std::vector<size_t> range(k, 0);  // Odometer over the outer tuples.
  std::vector<uint64_t> index(k);
  for (int j = 0; j < k; ++j) index[j] = n.dims[j][0].start;
  while (true) {
    uint64_t base = 0;
    for (int j = 0; j < k; ++j) base += index[j] * n.stride[j];
    for (const IndexRange& r : n.dims[k]) {
      const uint64_t offset = (base + r.start * n.stride[k]) * bits / 8;
      const uint64_t length = r.size() * n.stride[k] * bits / 8;
      if (!plan.spans.empty() &&
          plan.spans.back().offset + plan.spans.back().length == offset) {
        plan.spans.back().length += length;
      } else {
        plan.spans.push_back({offset, length});
      }
    }
    int j = k - 1;
    for (; j >= 0; --j) {
      const DimRanges& rj = n.dims[j];
      if (++index[j] < rj[range[j]].stop) break;
      if (++range[j] < rj.size()) {
        index[j] = rj[range[j]].start;
        break;
      }
      range[j] = 0;
      index[j] = rj[0].start;
    }
    if (j < 0) break;
  }
  if (plan.spans.size() != n.summary.span_count) {
    return absl::InternalError(
        absl::StrCat("slice planner: counted ", n.summary.span_count,
                     " spans, produced ", plan.spans.size()));
  }
  return plan;
}

}  // namespace weightserver::format
