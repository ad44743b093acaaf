// Copyright 2026 The Weightserver Authors.
//
// cli/cmd_models.cc: `weightctl ls` and `weightctl inspect`, the commands that
// read what a server holds without moving tensor bytes.
//
//   $ weightctl ls
//   NAME        FILES  TENSORS       SIZE  STATUS
//   demo            4      291  256.0 MiB  ok
//   broken          1        -          -  model.safetensors: InvalidOffset:
//   ...
//
// `ls --watch` then lists again every --interval seconds and prints what
// changed (model_diff.h), each line after the time, until interrupted (or
// --count listings):
//   21:04:05 + org/name  revision 3f2a9c0d1e2b4a5f
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/model_diff.h"
#include "cli/text.h"
#include "nlohmann/json.hpp"
#include "util/status_macros.h"

namespace weightserver::cli {
namespace {

std::string FileName(const client::ModelInfo& model,
                     const client::ModelTensor& t) {
  if (t.file_index >= model.files.size()) return "?";
  return model.files[t.file_index].name;
}

uint64_t TotalBytes(const client::ModelInfo& model) {
  uint64_t total = 0;
  for (const client::ModelTensor& t : model.tensors) total += t.length;
  return total;
}

void PrintModelText(const client::ModelInfo& model, std::ostream& out) {
  out << "model     " << model.name << "\n"
      << "revision  " << model.revision << "\n"
      << "sharded   " << (model.sharded ? "yes" : "no") << "\n";
  if (!model.index_metadata_json.empty()) {
    out << "index     " << model.index_metadata_json << "\n";
  }
  out << "\nfiles (" << model.files.size() << "):\n";
  Table files({"NAME", "SIZE", "HEADER", "METADATA"}, {false, true, true});
  for (const client::ModelFile& f : model.files) {
    std::string metadata = "-";
    if (f.metadata.has_value()) {
      metadata = absl::StrJoin(*f.metadata, ", ", absl::PairFormatter("="));
      if (metadata.empty()) metadata = "{}";
    }
    files.AddRow({f.name, absl::StrCat(f.size), absl::StrCat(f.header_size),
                  metadata});
  }
  files.Print(out, "  ");
  if (!model.extra_files.empty()) {
    out << "\nother files (" << model.extra_files.size() << "):\n";
    Table extra({"NAME", "SIZE"}, {false, true});
    for (const client::ExtraFile& f : model.extra_files) {
      extra.AddRow({PrintableName(f.name), absl::StrCat(f.size)});
    }
    extra.Print(out, "  ");
  }
  out << "\ntensors (" << model.tensors.size() << ", "
      << HumanBytes(TotalBytes(model)) << "):\n";
  Table tensors({"NAME", "DTYPE", "SHAPE", "FILE", "OFFSET", "LENGTH"},
                {false, false, false, false, true, true});
  for (const client::ModelTensor& t : model.tensors) {
    tensors.AddRow({PrintableName(t.name), t.dtype, FormatShape(t.shape),
                    FileName(model, t), absl::StrCat(t.offset),
                    absl::StrCat(t.length)});
  }
  tensors.Print(out, "  ");
}

nlohmann::ordered_json ModelJson(const client::ModelInfo& model) {
  nlohmann::ordered_json j;
  j["name"] = model.name;
  j["revision"] = model.revision;
  j["sharded"] = model.sharded;
  if (model.index_metadata_json.empty()) {
    j["index_metadata"] = nullptr;
  } else {
    // The server sends JSON text; keep it as a string if it does not parse.
    nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(
        model.index_metadata_json, nullptr, false);
    j["index_metadata"] =
        parsed.is_discarded()
            ? nlohmann::ordered_json(model.index_metadata_json)
            : parsed;
  }
  j["total_tensor_bytes"] = TotalBytes(model);
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const client::ModelFile& f : model.files) {
    nlohmann::ordered_json metadata = nullptr;
    if (f.metadata.has_value()) metadata = *f.metadata;
    files.push_back({{"name", f.name},
                     {"size", f.size},
                     {"header_size", f.header_size},
                     {"metadata", metadata}});
  }
  j["files"] = std::move(files);
  nlohmann::ordered_json extra_files = nlohmann::ordered_json::array();
  for (const client::ExtraFile& f : model.extra_files) {
    extra_files.push_back({{"name", f.name}, {"size", f.size}});
  }
  j["extra_files"] = std::move(extra_files);
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const client::ModelTensor& t : model.tensors) {
    tensors.push_back({{"name", t.name},
                       {"dtype", t.dtype},
                       {"shape", t.shape},
                       {"file", FileName(model, t)},
                       {"offset", t.offset},
                       {"length", t.length}});
  }
  j["tensors"] = std::move(tensors);
  return j;
}

}  // namespace

absl::Status RunLs(const Context& ctx, const ParsedArgs& args) {
  ASSIGN_OR_RETURN(const int64_t interval, args.GetInt("interval", 2, 1, 86400));
  ASSIGN_OR_RETURN(const int64_t count, args.GetInt("count", 0, 0, INT64_MAX));
  if (!args.Has("watch") && (args.Has("interval") || args.Has("count"))) {
    return UsageError("ls: --interval and --count go with --watch");
  }
  ASSIGN_OR_RETURN(auto client, ctx.Connect());
  ASSIGN_OR_RETURN(std::vector<client::ModelSummary> models,
                   client->ListModels());
  if (models.empty()) {
    *ctx.out << "no models on " << ctx.server << "\n";
  } else {
    Table table({"NAME", "FILES", "TENSORS", "SIZE", "STATUS"},
                {false, true, true, true, false});
    for (const client::ModelSummary& m : models) {
      const bool ok = m.error.empty();
      table.AddRow({m.name, absl::StrCat(m.file_count),
                    ok ? absl::StrCat(m.tensor_count) : "-",
                    ok ? HumanBytes(m.total_tensor_bytes) : "-",
                    ok ? "ok" : m.error});
    }
    table.Print(*ctx.out);
  }
  if (!args.Has("watch")) return absl::OkStatus();
  ctx.out->flush();
  // A server that is briefly unreachable (restarting) is reported once per
  // failed listing; the next listing compares with the last one that came.
  for (int64_t i = 0; count == 0 || i < count; ++i) {
    absl::SleepFor(absl::Seconds(interval));
    absl::StatusOr<std::vector<client::ModelSummary>> now = client->ListModels();
    const std::string time =
        absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone());
    if (!now.ok()) {
      *ctx.err << time << " weightctl: ls: " << now.status().message() << "\n";
      continue;
    }
    for (const std::string& line : DiffModels(models, *now)) {
      *ctx.out << time << " " << line;
    }
    ctx.out->flush();
    models = *std::move(now);
  }
  return absl::OkStatus();
}

absl::Status RunInspect(const Context& ctx, const ParsedArgs& args) {
  ASSIGN_OR_RETURN(auto client, ctx.Connect());
  ASSIGN_OR_RETURN(client::ModelInfo model,
                   ctx.GetModel(*client, args.positional()[0]));
  if (args.Has("json")) {
    // Tensor names are arbitrary bytes: invalid UTF-8 becomes U+FFFD rather
    // than an exception.
    *ctx.out << ModelJson(model).dump(
                    2, ' ', false,
                    nlohmann::ordered_json::error_handler_t::replace)
             << "\n";
  } else {
    PrintModelText(model, *ctx.out);
  }
  return absl::OkStatus();
}

}  // namespace weightserver::cli
