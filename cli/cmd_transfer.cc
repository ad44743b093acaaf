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
//   $ weightctl load demo --device cuda:0 --shard 0/1/2   # a rank's shard
#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/slice_spec.h"
#include "cli/text.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/tensor_table.h"
#include "weightserver/client/output_file.h"
#include "util/status_context.h"
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

// What --tensor, --slice and --shard ask for, as parsed flags.
struct Wanted {
  std::vector<std::string> names;
  std::vector<client::TensorSlice> slices;
  std::optional<ShardSpec> shard;

  bool sliced() const { return shard.has_value() || !slices.empty(); }
};

absl::StatusOr<Wanted> ParseWanted(absl::string_view command,
                                   const ParsedArgs& args) {
  Wanted w;
  w.names = args.GetAll("tensor");
  for (const std::string& flag : args.GetAll("slice")) {
    absl::StatusOr<client::TensorSlice> s = ParseSliceFlag(flag);
    if (!s.ok()) {
      return UsageError(absl::StrCat(command, ": ", s.status().message()));
    }
    w.slices.push_back(*std::move(s));
  }
  if (std::optional<std::string> flag = args.Get("shard"); flag.has_value()) {
    absl::StatusOr<ShardSpec> s = ParseShardFlag(*flag);
    if (!s.ok()) {
      return UsageError(absl::StrCat(command, ": ", s.status().message()));
    }
    w.shard = *s;
  }
  return w;
}

// The plan of what `wanted` names in `model` (every tensor when nothing).
absl::StatusOr<client::LoadPlan> Plan(const client::ModelInfo& model,
                                      const Wanted& wanted) {
  if (!wanted.sliced()) return client::PlanWholeTensors(model, wanted.names);
  ASSIGN_OR_RETURN(std::vector<client::TensorSlice> list,
                   FetchList(model, wanted.names, wanted.slices, wanted.shard));
  return client::PlanLoad(model, list);
}

}  // namespace

absl::Status RunFetch(const Context& ctx, const ParsedArgs& args) {
  const std::string& model_name = args.positional()[0];
  std::optional<std::string> output = args.Get("output");
  if (!output.has_value() || output->empty()) {
    return UsageError("fetch: -o PATH is required (a file, or DIR/)");
  }
  ASSIGN_OR_RETURN(Wanted wanted, ParseWanted("fetch", args));
  const bool mirror = IsDirectoryOutput(*output);
  if (mirror && (!wanted.names.empty() || wanted.sliced())) {
    return UsageError(absl::StrCat(
        "fetch: --tensor, --slice and --shard need a file output; '", *output,
        "' is a directory (a directory output mirrors the whole model)"));
  }

  ProgressBar bar(*ctx.err, ctx.progress);
  ASSIGN_OR_RETURN(auto client, ctx.Connect(bar.Callback()));
  ASSIGN_OR_RETURN(client::ModelInfo model, ctx.GetModel(*client, model_name));
  absl::StatusOr<client::LoadPlan> plan = Plan(model, wanted);
  if (!plan.ok()) {
    return absl::Status(plan.status().code(),
                        absl::StrCat("fetch '", model_name, "': ",
                                     plan.status().message()));
  }

  const absl::Time start = absl::Now();
  absl::Status status =
      mirror ? client::MirrorModel(*client, model, *output)
             : client::FetchToFile(*client, model, *plan, *output);
  const absl::Duration elapsed = absl::Now() - start;
  bar.Finish();
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("fetch '", model_name, "' to ", *output,
                                     ": ", status.message()));
  }
  *ctx.out << (mirror ? "mirrored " : "fetched ")
           << Summary(plan->tensors.size(), plan->total_bytes, elapsed);
  if (mirror) *ctx.out << " and " << model.extra_files.size() << " other file(s)";
  *ctx.out << " -> " << *output << "\n";
  return absl::OkStatus();
}

absl::Status RunLoad(const Context& ctx, const ParsedArgs& args) {
  const std::string& model_name = args.positional()[0];
  ASSIGN_OR_RETURN(Wanted wanted, ParseWanted("load", args));
  const std::string device = args.Get("device").value_or("cpu");
  absl::StatusOr<client::DeviceSpec> spec = client::ParseDevice(device);
  if (!spec.ok()) {
    return UsageError(absl::StrCat("load: ", spec.status().message()));
  }
  const bool gpu_load = spec->kind == client::DeviceSpec::Kind::kCuda;
  const std::string on_device =
      gpu_load ? absl::StrCat(" --device ", device) : "";
  auto failed = [&](const absl::Status& s) {
    return WithContext(absl::StrCat("load '", model_name, "'", on_device), s);
  };
  // The device is opened before the server is asked, so a machine without
  // one fails at once, in one line.
  client::DeviceOptions device_options;
  device_options.slot_bytes =
      std::max<size_t>(device_options.slot_bytes, ctx.options.chunk_bytes);
  std::shared_ptr<client::DeviceCopier> gpu;
  if (gpu_load) {
    absl::StatusOr<std::shared_ptr<client::DeviceCopier>> opened =
        ctx.open_device ? ctx.open_device(spec->index, device_options)
                        : client::OpenCudaCopier(spec->index, device_options);
    if (!opened.ok()) {
      return absl::Status(opened.status().code(),
                          absl::StrCat("load", on_device, ": ",
                                       opened.status().message()));
    }
    gpu = *std::move(opened);
  }

  ProgressBar bar(*ctx.err, ctx.progress);
  ASSIGN_OR_RETURN(auto client, ctx.Connect(bar.Callback()));
  ASSIGN_OR_RETURN(client::ModelInfo model, ctx.GetModel(*client, model_name));
  absl::StatusOr<client::LoadPlan> plan = Plan(model, wanted);
  if (!plan.ok()) return failed(plan.status());

  const absl::Time start = absl::Now();
  absl::StatusOr<client::TensorTable> loaded =
      gpu != nullptr
          ? client::LoadToDevice(*client, model, *plan, gpu, device_options)
          : client::LoadToHost(*client, model, *plan);
  const absl::Duration elapsed = absl::Now() - start;
  bar.Finish();
  if (!loaded.ok()) return failed(loaded.status());
  *ctx.out << "loaded "
           << Summary(loaded->tensors().size(), loaded->total_bytes(), elapsed)
           << (gpu != nullptr ? absl::StrCat(" into ", device) : "")
           << ", verified\n";
  return absl::OkStatus();
}

}  // namespace weightserver::cli
