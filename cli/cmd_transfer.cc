// Copyright 2026 The Weightserver Authors.
//
// cli/cmd_transfer.cc: `weightctl fetch` and `weightctl load`, the commands
// that move tensor bytes (every chunk CRC-checked by the client library).
//
//   $ weightctl fetch demo -o /tmp/lm_head.safetensors --tensor lm_head.weight
//   fetched 1 tensor, 62.5 MiB in 0.041 s (1.60 GB/s) ->
//   /tmp/lm_head.safetensors $ weightctl fetch demo -o /tmp/demo/       # the
//   model's own files $ weightctl load demo --streams 8 loaded 291 tensors,
//   256.0 MiB in 0.130 s (2.06 GB/s), verified
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/text.h"
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

}  // namespace

absl::Status RunFetch(const Context& ctx, const ParsedArgs& args) {
  const std::string& model_name = args.positional()[0];
  std::optional<std::string> output = args.Get("output");
  if (!output.has_value() || output->empty()) {
    return UsageError("fetch: -o PATH is required (a file, or DIR/)");
  }
  const std::vector<std::string> names = args.GetAll("tensor");
  const bool mirror = IsDirectoryOutput(*output);
  if (mirror && !names.empty()) {
    return UsageError(absl::StrCat(
        "fetch: --tensor needs a file output; '", *output,
        "' is a directory (a directory output mirrors the whole model)"));
  }

  ProgressBar bar(*ctx.err, ctx.progress);
  ASSIGN_OR_RETURN(auto client, ctx.Connect(bar.Callback()));
  ASSIGN_OR_RETURN(v1::Model model, client->GetModel(model_name));
  ASSIGN_OR_RETURN(std::vector<const v1::TensorInfo*> chosen,
                   client::SelectTensors(model, names));
  uint64_t bytes = 0;
  for (const v1::TensorInfo* t : chosen) bytes += t->length();

  const absl::Time start = absl::Now();
  absl::Status status =
      mirror ? client::MirrorModel(*client, model, *output)
             : client::FetchToFile(*client, model, names, *output);
  const absl::Duration elapsed = absl::Now() - start;
  bar.Finish();
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("fetch '", model_name, "' to ", *output,
                                     ": ", status.message()));
  }
  *ctx.out << (mirror ? "mirrored " : "fetched ")
           << Summary(chosen.size(), bytes, elapsed) << " -> " << *output
           << "\n";
  return absl::OkStatus();
}

absl::Status RunLoad(const Context& ctx, const ParsedArgs& args) {
  const std::string& model_name = args.positional()[0];
  const std::vector<std::string> names = args.GetAll("tensor");

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
