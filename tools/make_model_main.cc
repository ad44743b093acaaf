// Copyright 2026 The Weightserver Authors.
//
// tools/make_model_main.cc: ws_make_model, writes a demo model directory.
//
//   ws_make_model --out DIR [--size_mib 256] [--shards 4] [--tensors N]
//                 [--seed S]
//
// Prints one summary line, e.g.
//   wrote /tmp/demo: 4 files + index, 77 tensors, 256.3 MiB (hidden 1024, ...)
//   in 0.9 s
#include <cstdint>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/demo_model.h"

ABSL_FLAG(std::string, out, "",
          "Directory to write the model into (required).");
ABSL_FLAG(uint64_t, size_mib, 256, "Approximate total tensor bytes, in MiB.");
ABSL_FLAG(int, shards, 4, "Number of .safetensors files (1: no index).");
ABSL_FLAG(uint64_t, tensors, 0,
          "If > 0: exactly this many small tensors instead of a transformer.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the tensor bytes.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes a demo safetensors model (transformer-shaped, or --tensors N "
      "small tensors).\n  ws_make_model --out DIR [--size_mib 256] "
      "[--shards 4] [--tensors N] [--seed S]");
  absl::ParseCommandLine(argc, argv);
  weightserver::tools::DemoModelOptions options;
  options.out_dir = absl::GetFlag(FLAGS_out);
  if (options.out_dir.empty()) {
    std::cerr << "ws_make_model: --out DIR is required\n";
    return 2;
  }
  const uint64_t mib = absl::GetFlag(FLAGS_size_mib);
  if (mib == 0 || mib > (uint64_t{1} << 24)) {
    std::cerr << "ws_make_model: --size_mib must be in [1, 16777216]\n";
    return 2;
  }
  options.size_bytes = mib << 20;
  options.shards = absl::GetFlag(FLAGS_shards);
  options.num_tensors = absl::GetFlag(FLAGS_tensors);
  options.seed = absl::GetFlag(FLAGS_seed);

  const absl::Time start = absl::Now();
  auto summary = weightserver::tools::MakeDemoModel(options);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!summary.ok()) {
    std::cerr << "ws_make_model: " << summary.status().message() << "\n";
    return 1;
  }
  const auto& a = summary->architecture;
  std::string shape =
      options.num_tensors > 0
          ? std::string("small tensors")
          : absl::StrFormat("hidden %d, intermediate %d, layers %d, vocab %d",
                            a.hidden, a.intermediate, a.layers, a.vocab);
  std::cout << absl::StrFormat(
      "wrote %s: %d file%s%s, %d tensors, %.1f MiB (%s) in %.2f s\n",
      options.out_dir, options.shards, options.shards == 1 ? "" : "s",
      options.shards == 1 ? "" : " + index", summary->tensor_count,
      static_cast<double>(summary->tensor_bytes) / (1 << 20), shape, seconds);
  return 0;
}
