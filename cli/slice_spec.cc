// Copyright 2026 The Weightserver Authors.
//
// cli/slice_spec.cc
#include "cli/slice_spec.h"

#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace weightserver::cli {
namespace {

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A decimal bound: digits only (no sign, no spaces), fits 64 bits.
std::optional<uint64_t> Bound(absl::string_view s) {
  uint64_t v = 0;
  if (!AllDigits(s) || !absl::SimpleAtoi(s, &v)) return std::nullopt;
  return v;
}

std::string Quoted(absl::string_view s) {
  return absl::StrCat("'", absl::CHexEscape(s), "'");
}

}  // namespace

absl::StatusOr<client::Selection> ParseSliceSpec(absl::string_view spec) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "slice ", Quoted(spec), ": ", why,
        " (each dimension is ':' or ranges 'a:b' joined by '+', dimensions "
        "separated by ',')"));
  };
  if (spec.empty()) return bad("empty");
  client::Selection out;
  for (absl::string_view dim : absl::StrSplit(spec, ',')) {
    const size_t d = out.dims.size();
    out.dims.emplace_back();
    if (dim == ":") continue;
    if (dim.empty()) return bad(absl::StrCat("dimension ", d, " is empty"));
    for (absl::string_view range : absl::StrSplit(dim, '+')) {
      std::vector<absl::string_view> ends = absl::StrSplit(range, ':');
      if (ends.size() != 2) {
        return bad(absl::StrCat("dimension ", d, ": ", Quoted(range),
                                " is not a range a:b"));
      }
      std::optional<uint64_t> start = Bound(ends[0]), stop = Bound(ends[1]);
      if (!start.has_value() || !stop.has_value()) {
        return bad(absl::StrCat("dimension ", d, ": ", Quoted(range),
                                " needs two non-negative integers a:b"));
      }
      if (*start > *stop) {
        return bad(absl::StrCat("dimension ", d, ": range ", *start, ":", *stop,
                                " has start > stop"));
      }
      out.dims.back().push_back({*start, *stop});
    }
  }
  return out;
}

absl::StatusOr<client::TensorSlice> ParseSliceFlag(absl::string_view flag) {
  const size_t eq = flag.rfind('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--slice ", Quoted(flag), ": expected NAME=SPEC, e.g. w=0:512,:"));
  }
  absl::StatusOr<client::Selection> sel = ParseSliceSpec(flag.substr(eq + 1));
  if (!sel.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--slice ", Quoted(flag), ": ", sel.status().message()));
  }
  return client::TensorSlice{std::string(flag.substr(0, eq)), *std::move(sel)};
}

absl::StatusOr<ShardSpec> ParseShardFlag(absl::string_view flag) {
  std::vector<absl::string_view> parts = absl::StrSplit(flag, '/');
  ShardSpec s;
  const bool negative =
      parts.size() == 3 && !parts[0].empty() && parts[0][0] == '-';
  if (parts.size() != 3 ||
      !AllDigits(negative ? parts[0].substr(1) : parts[0]) ||
      !AllDigits(parts[1]) || !AllDigits(parts[2]) ||
      !absl::SimpleAtoi(parts[0], &s.dim) ||
      !absl::SimpleAtoi(parts[1], &s.rank) ||
      !absl::SimpleAtoi(parts[2], &s.world)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard ", Quoted(flag),
        ": expected DIM/RANK/WORLD, e.g. 1/0/8 (rank 0 of 8, dimension 1)"));
  }
  if (s.world < 1 || s.rank >= s.world) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shard ", Quoted(flag), ": rank ", s.rank,
                     " is outside [0, ", s.world, ")"));
  }
  return s;
}

absl::StatusOr<std::vector<client::TensorSlice>> FetchList(
    const client::ModelInfo& model, absl::Span<const std::string> tensors,
    absl::Span<const client::TensorSlice> slices,
    const std::optional<ShardSpec>& shard) {
  absl::flat_hash_set<std::string> seen;
  std::vector<client::TensorSlice> out;
  auto find = [&](const std::string& name)
      -> absl::StatusOr<const client::ModelTensor*> {
    const client::ModelTensor* t = model.Find(name);
    if (t == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("model '", model.name, "': no tensor ", Quoted(name)));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", Quoted(name), " is named twice (by --tensor or --slice)"));
    }
    return t;
  };
  // --shard alone shards every tensor of the model that splits evenly; the
  // others (norms, scalars) are whole, as a rank replicates them.
  const bool every = tensors.empty() && slices.empty() && shard.has_value();
  std::vector<std::string> all;
  if (every) {
    for (const client::ModelTensor& t : model.tensors) all.push_back(t.name);
    tensors = all;
  }
  for (const std::string& name : tensors) {
    absl::StatusOr<const client::ModelTensor*> t = find(name);
    if (!t.ok()) return t.status();
    client::TensorSlice slice{name, {}};
    if (shard.has_value()) {
      absl::StatusOr<client::Selection> s = client::ShardDim(
          (*t)->shape, shard->dim, shard->rank, shard->world);
      if (!s.ok() && every) {
        out.push_back(std::move(slice));
        continue;
      }
      if (!s.ok()) {
        return absl::Status(
            s.status().code(),
            absl::StrCat("tensor ", Quoted(name), ": ", s.status().message()));
      }
      slice.selection = *std::move(s);
    }
    out.push_back(std::move(slice));
  }
  for (const client::TensorSlice& given : slices) {
    absl::StatusOr<const client::ModelTensor*> t = find(given.name);
    if (!t.ok()) return t.status();
    const size_t rank = (*t)->shape.size();
    client::TensorSlice slice = given;
    if (slice.selection.dims.size() > rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("--slice ", Quoted(given.name), "=",
                       client::SelectionText(given.selection), ": ",
                       slice.selection.dims.size(),
                       " dimensions given, the tensor has ", rank));
    }
    slice.selection.dims.resize(rank);
    out.push_back(std::move(slice));
  }
  return out;
}

}  // namespace weightserver::cli
