// Copyright 2026 The Weightserver Authors.
//
// cli/commands.h: weightctl's commands, callable in-process.
//
// RunWeightctl is the whole program but for main()'s process set-up: it parses
// the global flags and the command, runs it, writes results to `out` and one
// "weightctl: <message>" line to `err` on failure, and returns the exit code:
//   0  success;  1  failure (server, file system, invalid file);
//   2  usage error (unknown command or flag, missing argument).
// The commands themselves (Run*) take a Context and return a Status, so tests
// can call either level. Nothing here reads the process environment or
// exits: main() passes what it found in CliEnvironment.
//
// Example:
//   std::ostringstream out, err;
//   int rc = RunWeightctl({"check", "a.safetensors"}, CliEnvironment{}, out,
//   err);
//
// Thread-safety: each call is independent; the streams are the caller's.
#ifndef WEIGHTSERVER_CLI_COMMANDS_H_
#define WEIGHTSERVER_CLI_COMMANDS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "cli/args.h"
#include "weightserver/client/client.h"
#include "weightserver/client/device.h"

namespace weightserver::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:50051";

// Opens device `index` for a GPU load (see client::OpenCudaCopier).
using DeviceOpener =
    std::function<absl::StatusOr<std::shared_ptr<client::DeviceCopier>>(
        int index, const client::DeviceOptions& options)>;

// What weightctl takes from its process: main() fills it in.
struct CliEnvironment {
  // --server's default ($WEIGHTSERVER_ADDR, else kDefaultServer).
  std::string default_server = kDefaultServer;
  // The bearer token's default ($WEIGHTSERVER_TOKEN).
  std::string default_token;
  // Draw progress bars on `err` (main: stderr is a terminal).
  bool progress = false;
  // Opens the GPU for `load --device cuda:N`; unset: client::OpenCudaCopier.
  // Tests pass a fake device.
  DeviceOpener open_device;
};

// Runs weightctl with `args` (argv without argv[0]). See the file comment.
int RunWeightctl(absl::Span<const std::string> args, const CliEnvironment& env,
                 std::ostream& out, std::ostream& err);

// What a command runs with: the global flags, resolved, and the streams.
struct Context {
  std::string server;
  // From a model URI's @REVISION (empty: any); GetModel checks it.
  std::string revision;
  client::ClientOptions options;  // streams, chunk_bytes; progress unset.
  bool progress = false;
  DeviceOpener open_device;  // Unset: client::OpenCudaCopier.
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;

  // A client for `server` with `options` and the given progress callback.
  absl::StatusOr<std::unique_ptr<client::Client>> Connect(
      client::ProgressCallback progress = nullptr) const;
  // The table of contents of `model`, at `revision` when one is set.
  absl::StatusOr<client::ModelInfo> GetModel(const client::Client& client,
                                             const std::string& model) const;
};

// A usage error: RunWeightctl prints it and exits 2 instead of 1.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// The commands. `args` holds the command's flags and its positional
// arguments (the command name excluded); counts are checked by the caller.
// Errors: the client library's status, with what was being done prefixed.

// ls [--watch [--interval SECONDS] [--count N]]: every model of the server,
// one line each, with a header; with --watch, then every SECONDS (2) the
// changes (model_diff.h), N times (0: until interrupted).
absl::Status RunLs(const Context& ctx, const ParsedArgs& args);
// inspect MODEL [--json]: the model's table of contents.
absl::Status RunInspect(const Context& ctx, const ParsedArgs& args);
// fetch MODEL -o PATH [--tensor NAME]... [--slice NAME=SPEC]... [--shard
// DIM/RANK/WORLD]: into one file (sliced tensors with their new shapes), or a
// directory (see slice_spec.h for SPEC).
absl::Status RunFetch(const Context& ctx, const ParsedArgs& args);
// load MODEL [--tensor NAME]... [--device cpu|cuda[:N]]: into host (or GPU)
// memory, verified, discarded.
absl::Status RunLoad(const Context& ctx, const ParsedArgs& args);
// prefetch MODEL: reads every byte of the model's files through the server
// (ReadBytes, verified) and discards them, so that a cache holds the model.
absl::Status RunPrefetch(const Context& ctx, const ParsedArgs& args);
// check FILE...: validates local files (directories: their *.safetensors).
// Errors: DataLoss "N of M files invalid" once every line is printed.
absl::Status RunCheck(const Context& ctx, const ParsedArgs& args);
// health [--service NAME] [--timeout T]: grpc.health.v1.Health/Check;
// prints the status. Errors: Unavailable when the answer is not SERVING,
// NotFound for an unknown service, the RPC's status otherwise.
absl::Status RunHealth(const Context& ctx, const ParsedArgs& args);
// stats --metrics HOST:PORT: the daemon's Prometheus metrics (its
// --metrics_listen) as tables. Errors: Unavailable or DeadlineExceeded when
// the endpoint does not answer, InvalidArgument for a malformed scrape,
// FailedPrecondition when it holds no weightserver metrics.
absl::Status RunStats(const Context& ctx, const ParsedArgs& args);

}  // namespace weightserver::cli

#endif  // WEIGHTSERVER_CLI_COMMANDS_H_
