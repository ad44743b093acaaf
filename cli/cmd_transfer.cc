// Copyright 2026 The Weightserver Authors.
//
// cli/cmd_transfer.cc: `weightctl fetch` and `weightctl load`, the commands
// that move tensor bytes (every chunk CRC-checked by the client library).
//
//   $ weightctl fetch demo -o /tmp/lm_head.safetensors --tensor lm_head.weight
//   fetched 1 tensor, 62.5 MiB in 0.041 s (1.60 GB/s) -> /tmp/lm_head.safetensors
//   $ weightctl fetch demo -o /tmp/demo/      # the model's own files
//   $ weightctl fetch demo -o /tmp/r3.safetensors --tensor up.weight --shard 1/3/8
//   $ weightctl fetch demo -o /tmp/q.safetensors --slice qkv.weight=0:512+1024:1088,:
//   $ weightctl load demo --streams 8
//   loaded 291 tensors, 256.0 MiB in 0.130 s (2.06 GB/s), verified
//   $ weightctl load demo --device cuda:0     # into GPU memory
#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/slice_spec.h"
#include "cli/text.h"
#include "client/device_model.h"
#include "client/host_model.h"
#include "client/output_file.h"
#include "util/status_macros.h"

namespace weightserver::cli {
namespace {

// "3 tensors, 1.2 GiB in 0.530 s (2.43 GB/s)".
std::string Summary(size_t tensors, uint64_t bytes, absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return absl::StrFormat("%d tensor%s, %s in %.3f s (%s)", tensors,
                         tensors == 1 ? "" : "s", HumanBytes(bytes), seconds,
                         Rate(bytes, seconds));
}

// -o names a directory when it ends in '/' or is an existing directory.
bool IsDirectoryOutput(const std::string& path) {
  if (!path.empty() && path.back() == '/') return true;
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

// load --device cuda:N: the device is opened before the server is asked, so
// a machine without one fails at once, in one line.
absl::Status LoadToGpu(const Context& ctx, const std::string& model_name,
                       const std::vector<std::string>& names,
                       const std::string& device, int index) {
  const std::string what = absl::StrCat("load --device ", device, ": ");
  client::DeviceOptions options;
  options.slot_bytes =
      std::max<size_t>(options.slot_bytes, ctx.options.chunk_bytes);
  absl::StatusOr<std::shared_ptr<client::DeviceCopier>> gpu =
      client::OpenCudaCopier(index, options);
  if (!gpu.ok()) {
    return absl::Status(gpu.status().code(),
                        absl::StrCat(what, gpu.status().message()));
  }
  ProgressBar bar(*ctx.err, ctx.progress);
  ASSIGN_OR_RETURN(auto client, ctx.Connect(bar.Callback()));
  ASSIGN_OR_RETURN(v1::Model model, client->GetModel(model_name));
  const absl::Time start = absl::Now();
  absl::StatusOr<client::DeviceModel> loaded =
      client::LoadToDevice(*client, model, names, *gpu, options);
  const absl::Duration elapsed = absl::Now() - start;
  bar.Finish();
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat(what, "'", model_name, "': ",
                                     loaded.status().message()));
  }
  *ctx.out << "loaded "
           << Summary(loaded->tensors().size(), loaded->total_bytes(), elapsed)
           << " into " << device << ", verified\n";
  return absl::OkStatus();
}

}  // namespace

absl::Status RunFetch(const Context& ctx, const ParsedArgs& args) {
  const std::string& model_name = args.positional()[0];
  std::optional<std::string> output = args.Get("output");
  if (!output.has_value() || output->empty()) {
    return UsageError("fetch: -o PATH is required (a file, or DIR/)");
  }
  const std::vector<std::string> names = args.GetAll("tensor");
  std::vector<client::TensorSlice> slices;
  for (const std::string& flag : args.GetAll("slice")) {
    absl::StatusOr<client::TensorSlice> s = ParseSliceFlag(flag);
    if (!s.ok()) return UsageError(absl::StrCat("fetch: ", s.status().message()));
    slices.push_back(*std::move(s));
  }
  std::optional<ShardSpec> shard;
  if (std::optional<std::string> flag = args.Get("shard"); flag.has_value()) {
    absl::StatusOr<ShardSpec> s = ParseShardFlag(*flag);
    if (!s.ok()) return UsageError(absl::StrCat("fetch: ", s.status().message()));
    if (names.empty()) {
      return UsageError("fetch: --shard applies to the --tensor names; give at "
                        "least one --tensor");
    }
    shard = *s;
  }
  const bool mirror = IsDirectoryOutput(*output);
  if (mirror && (!names.empty() || !slices.empty())) {
    return UsageError(absl::StrCat(
        "fetch: --tensor and --slice need a file output; '", *output,
        "' is a directory (a directory output mirrors the whole model)"));
  }
  const bool sliced = shard.has_value() || !slices.empty();

  ProgressBar bar(*ctx.err, ctx.progress);
  ASSIGN_OR_RETURN(auto client, ctx.Connect(bar.Callback()));
  ASSIGN_OR_RETURN(v1::Model model, client->GetModel(model_name));
  std::vector<client::TensorSlice> wanted;
  size_t tensors = 0;
  uint64_t bytes = 0;
  if (sliced) {
    absl::StatusOr<std::vector<client::TensorSlice>> list =
        FetchList(model, names, slices, shard);
    if (!list.ok()) {
      return absl::Status(list.status().code(),
                          absl::StrCat("fetch '", model_name, "': ",
                                       list.status().message()));
    }
    wanted = *std::move(list);
    absl::flat_hash_map<absl::string_view, const v1::TensorInfo*> by_name;
    for (const v1::TensorInfo& t : model.tensors()) by_name[t.name()] = &t;
    for (const client::TensorSlice& w : wanted) {
      ASSIGN_OR_RETURN(format::SliceSummary s,
                       client::MeasureSelection(*by_name[w.name], w.selection));
      bytes += s.byte_size;
    }
    tensors = wanted.size();
  } else {
    ASSIGN_OR_RETURN(std::vector<const v1::TensorInfo*> chosen,
                     client::SelectTensors(model, names));
    for (const v1::TensorInfo* t : chosen) bytes += t->length();
    tensors = chosen.size();
  }

  const absl::Time start = absl::Now();
  absl::Status status =
      mirror   ? client::MirrorModel(*client, model, *output)
      : sliced ? client::FetchSlicesToFile(*client, model, wanted, *output)
               : client::FetchToFile(*client, model, names, *output);
  const absl::Duration elapsed = absl::Now() - start;
  bar.Finish();
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("fetch '", model_name, "' to ", *output,
                                     ": ", status.message()));
  }
  *ctx.out << (mirror ? "mirrored " : "fetched ")
           << Summary(tensors, bytes, elapsed) << " -> " << *output
           << "\n";
  return absl::OkStatus();
}

absl::Status RunLoad(const Context& ctx, const ParsedArgs& args) {
  const std::string& model_name = args.positional()[0];
  const std::vector<std::string> names = args.GetAll("tensor");
  const std::string device = args.Get("device").value_or("cpu");
  absl::StatusOr<client::DeviceSpec> spec = client::ParseDevice(device);
  if (!spec.ok()) return UsageError(absl::StrCat("load: ", spec.status().message()));
  if (spec->kind == client::DeviceSpec::Kind::kCuda) {
    return LoadToGpu(ctx, model_name, names, device, spec->index);
  }

  ProgressBar bar(*ctx.err, ctx.progress);
  ASSIGN_OR_RETURN(auto client, ctx.Connect(bar.Callback()));
  ASSIGN_OR_RETURN(v1::Model model, client->GetModel(model_name));

  const absl::Time start = absl::Now();
  absl::StatusOr<client::HostModel> loaded =
      client::LoadToHost(*client, model, names);
  const absl::Duration elapsed = absl::Now() - start;
  bar.Finish();
  if (!loaded.ok()) {
    return absl::Status(
        loaded.status().code(),
        absl::StrCat("load '", model_name, "': ", loaded.status().message()));
  }
  *ctx.out << "loaded "
           << Summary(loaded->tensors().size(), loaded->total_bytes(), elapsed)
           << ", verified\n";
  return absl::OkStatus();
}

}  // namespace weightserver::cli
