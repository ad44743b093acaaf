// Copyright 2026 The Weightserver Authors.
//
// cli/weightctl.cc: the command table, global flags, usage text and the
// dispatcher RunWeightctl (see commands.h).
#include <exception>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/commands.h"
#include "weightserver/client/uri.h"
#include "util/small_file.h"
#include "util/status_macros.h"

namespace weightserver::cli {
namespace {

constexpr char kUsagePayload[] = "weightserver.dev/weightctl/usage";

struct Command {
  const char* name;
  const char* synopsis;  // Arguments after the name, for usage text.
  const char* summary;
  std::vector<FlagSpec> flags;
  size_t min_positional;
  size_t max_positional;
  absl::Status (*run)(const Context&, const ParsedArgs&);
  // The first positional argument is a MODEL: a name on --server, or a
  // model URI (weightserver/client/uri.h) that names the server too.
  bool takes_model = false;
};

const FlagSpec kHelpFlag = {.name = "help",
                            .short_name = 'h',
                            .takes_value = false,
                            .value_name = "",
                            .help = "show this help"};

std::vector<FlagSpec> GlobalFlags() {
  return {
      {.name = "server",
       .value_name = "ADDR",
       .help =
           "server address (default $WEIGHTSERVER_ADDR or 127.0.0.1:50051)"},
      {.name = "streams",
       .value_name = "N",
       .help = "parallel Fetch streams (default 4; a load uses at most "
               "one per 64 MiB)"},
      {.name = "chunk-bytes",
       .value_name = "N",
       .help = "chunk size asked of the server (default 1048576)"},
      {.name = "connections",
       .value_name = "N",
       .help = "TCP connections the streams are spread over (default 2)"},
      {.name = "tls",
       .takes_value = false,
       .help = "connect over TLS (implied by the other --tls flags)"},
      {.name = "tls-ca",
       .value_name = "FILE",
       .help = "PEM CA bundle the server's certificate must chain to "
               "(default: the system's roots)"},
      {.name = "tls-cert",
       .value_name = "FILE",
       .help = "PEM client certificate, for servers that require one"},
      {.name = "tls-key",
       .value_name = "FILE",
       .help = "PEM private key of --tls-cert"},
      {.name = "tls-server-name",
       .value_name = "NAME",
       .help = "name the server's certificate must carry, instead of the "
               "host of --server"},
      {.name = "token",
       .value_name = "TOKEN",
       .help = "bearer token for a server with an access policy (default "
               "$WEIGHTSERVER_TOKEN; visible in ps: prefer --token-file)"},
      {.name = "token-file",
       .value_name = "FILE",
       .help = "read the bearer token from FILE (trailing newline dropped)"},
      {.name = "allow-insecure-token",
       .takes_value = false,
       .help = "send the token even over plaintext to a remote server"}};
}

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"ls",
       "[--watch [--interval SECONDS] [--count N]]",
       "list the server's models",
       {{.name = "watch",
         .takes_value = false,
         .value_name = "",
         .help = "then list again every --interval and print what changed "
                 "(+ added, - removed, ~ new revision, ! not servable), "
                 "until interrupted"},
        {.name = "interval",
         .value_name = "SECONDS",
         .help = "seconds between listings with --watch (default 2)"},
        {.name = "count",
         .value_name = "N",
         .help = "stop after N listings with --watch (default 0: never)"}},
       0,
       0,
       &RunLs},
      {"inspect",
       "MODEL [--json]",
       "show a model's table of contents",
       {{.name = "json",
         .takes_value = false,
         .value_name = "",
         .help = "print JSON"}},
       1,
       1,
       &RunInspect,
       true},
      {"fetch",
       "MODEL -o OUT.safetensors|DIR/ [--tensor NAME]... [--slice NAME=SPEC]... "
       "[--shard DIM/RANK/WORLD]",
       "fetch tensors (or slices of them) into one .safetensors file, or mirror "
       "the model's files into a directory",
       {{.name = "output",
         .short_name = 'o',
         .value_name = "PATH",
         .help = "output file, or directory (ends in '/' or exists)"},
        {.name = "tensor",
         .repeated = true,
         .value_name = "NAME",
         .help = "a tensor to fetch (repeatable; default: all)"},
        {.name = "slice",
         .repeated = true,
         .value_name = "NAME=SPEC",
         .help = "part of a tensor, SPEC per dimension ':' or a:b[+c:d], "
                 "',' between dimensions (e.g. w=0:512+1024:1088,:)"},
        {.name = "shard",
         .value_name = "DIM/RANK/WORLD",
         .help = "fetch rank RANK of WORLD's even part of dimension DIM of "
                 "every --tensor (every tensor when none is given; e.g. "
                 "1/0/8)"}},
       1,
       1,
       &RunFetch,
       true},
      {"load",
       "MODEL [--tensor NAME]... [--slice NAME=SPEC]... "
       "[--shard DIM/RANK/WORLD] [--device cpu|cuda:N]",
       "load a model, or slices of it, into host or GPU memory, verified, and "
       "discard it (a benchmark)",
       {{.name = "tensor",
         .repeated = true,
         .value_name = "NAME",
         .help = "a tensor to load (repeatable; default: all)"},
        {.name = "slice",
         .repeated = true,
         .value_name = "NAME=SPEC",
         .help = "part of a tensor, as for fetch"},
        {.name = "shard",
         .value_name = "DIM/RANK/WORLD",
         .help = "load rank RANK of WORLD's even part of dimension DIM of "
                 "every --tensor (every tensor when none is given)"},
        {.name = "device",
         .value_name = "DEV",
         .help = "where to load: cpu (default), cuda or cuda:N (GPU memory)"}},
       1,
       1,
       &RunLoad,
       true},
      {"prefetch",
       "MODEL",
       "read every byte of a model's files through the server and discard "
       "them: warms a cache (README \"Cache tier\")",
       {},
       1,
       1,
       &RunPrefetch,
       true},
      {"check",
       "FILE|DIR...",
       "validate local .safetensors files (exit 1 if any is invalid)",
       {},
       1,
       SIZE_MAX,
       &RunCheck},
      {"health",
       "[--service NAME] [--timeout T]",
       "ask the server's grpc.health.v1 service (exit 0 only when SERVING)",
       {{.name = "service",
         .value_name = "NAME",
         .help = "service to ask about (default \"\": the whole server)"},
        {.name = "timeout",
         .value_name = "T",
         .help = "deadline, seconds or e.g. 500ms (default 3)"}},
       0,
       0,
       &RunHealth},
      {"stats",
       "--metrics HOST:PORT",
       "show a server's metrics (its --metrics_listen endpoint) as tables",
       {{.name = "metrics",
         .value_name = "HOST:PORT",
         .help = "address of the daemon's metrics listener"}},
       0,
       0,
       &RunStats},
  };
  return *commands;
}

void PrintMainUsage(std::ostream& out) {
  out << "usage: weightctl [--server ADDR] [--streams N] [--connections N] "
         "[--chunk-bytes N] [--tls ...] COMMAND [ARGS]\n\ncommands:\n";
  for (const Command& c : Commands()) {
    out << "  " << c.name << std::string(10 - std::string(c.name).size(), ' ')
        << c.summary << "\n";
  }
  out << "\nglobal flags:\n"
      << FlagsUsage(GlobalFlags())
      << "\nMODEL is a model's name on --server, or a model URI that names "
         "the server too:\n  weightserver://HOST[:PORT]/MODEL[@REVISION], "
         "weightserver+unix://SOCKET/MODEL[@REVISION]\n"
      << "\n'weightctl COMMAND --help' describes a command.\n";
}

void PrintCommandUsage(const Command& c, std::ostream& out) {
  out << "usage: weightctl " << c.name
      << (std::string(c.synopsis).empty() ? "" : " ") << c.synopsis << "\n"
      << c.summary << "\n";
  if (!c.flags.empty()) out << "\nflags:\n" << FlagsUsage(c.flags);
  out << "\nglobal flags:\n" << FlagsUsage(GlobalFlags());
}

// Applies the global flags found in `args` to `ctx` (later ones win).
absl::Status ApplyGlobals(const ParsedArgs& args, Context* ctx) {
  if (std::optional<std::string> s = args.Get("server")) {
    if (s->empty()) return UsageError("--server: empty address");
    ctx->server = *s;
  }
  ASSIGN_OR_RETURN(int64_t streams,
                   args.GetInt("streams", ctx->options.streams, 1, 256));
  ASSIGN_OR_RETURN(int64_t chunk,
                   args.GetInt("chunk-bytes", ctx->options.chunk_bytes, 1,
                               uint64_t{1} << 30));
  ASSIGN_OR_RETURN(int64_t connections,
                   args.GetInt("connections", ctx->options.connections, 1, 64));
  ctx->options.connections = static_cast<int>(connections);
  ctx->options.streams = static_cast<int>(streams);
  ctx->options.chunk_bytes = static_cast<uint32_t>(chunk);
  for (auto [flag, field] :
       {std::pair{"tls-ca", &ctx->options.tls_ca_file},
        std::pair{"tls-cert", &ctx->options.tls_cert_file},
        std::pair{"tls-key", &ctx->options.tls_key_file},
        std::pair{"tls-server-name", &ctx->options.tls_server_name}}) {
    if (std::optional<std::string> v = args.Get(flag)) {
      if (v->empty()) return UsageError(absl::StrCat("--", flag, ": empty"));
      *field = *v;
      ctx->options.tls = true;
    }
  }
  if (args.Has("tls")) ctx->options.tls = true;
  if (std::optional<std::string> t = args.Get("token")) ctx->options.token = *t;
  if (std::optional<std::string> f = args.Get("token-file")) {
    absl::StatusOr<std::string> token = ReadSmallFile(*f, 64 << 10);
    if (!token.ok()) return UsageError(absl::StrCat("--token-file: ", token.status().message()));
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r')) {
      token->pop_back();
    }
    ctx->options.token = *token;
  }
  if (args.Has("allow-insecure-token")) ctx->options.allow_insecure_token = true;
  return absl::OkStatus();
}

// Parses and runs; returns the command's status (usage errors marked).
absl::Status Dispatch(absl::Span<const std::string> args,
                      const CliEnvironment& env, std::ostream& out,
                      std::ostream& err) {
  std::vector<FlagSpec> top = GlobalFlags();
  top.push_back(kHelpFlag);
  absl::StatusOr<ParsedArgs> head = ParseArgs(args, top, true);
  if (!head.ok()) return UsageError(head.status().message());
  if (head->Has("help")) {
    PrintMainUsage(out);
    return absl::OkStatus();
  }
  if (head->positional().empty()) {
    PrintMainUsage(err);
    return UsageError("no command given");
  }
  const std::string& name = head->positional()[0];
  const Command* command = nullptr;
  for (const Command& c : Commands()) {
    if (name == c.name) command = &c;
  }
  if (command == nullptr) {
    return UsageError(
        absl::StrCat("unknown command '", name, "' (try 'weightctl --help')"));
  }
  std::vector<FlagSpec> specs = command->flags;
  for (FlagSpec& g : GlobalFlags()) specs.push_back(std::move(g));
  specs.push_back(kHelpFlag);
  absl::StatusOr<ParsedArgs> rest =
      ParseArgs(absl::MakeConstSpan(head->positional()).subspan(1), specs);
  if (!rest.ok()) {
    return UsageError(absl::StrCat(name, ": ", rest.status().message()));
  }
  if (rest->Has("help")) {
    PrintCommandUsage(*command, out);
    return absl::OkStatus();
  }
  const size_t n = rest->positional().size();
  if (n < command->min_positional || n > command->max_positional) {
    return UsageError(
        absl::StrCat(name, ": expected ",
                     command->synopsis[0] ? command->synopsis : "no arguments",
                     ", got ", n, " argument", n == 1 ? "" : "s",
                     " (see 'weightctl ", name, " --help')"));
  }
  Context ctx;
  ctx.server = env.default_server;
  ctx.progress = env.progress;
  ctx.open_device = env.open_device;
  ctx.options.token = env.default_token;
  ctx.out = &out;
  ctx.err = &err;
  absl::Status globals = ApplyGlobals(*head, &ctx);
  if (globals.ok()) globals = ApplyGlobals(*rest, &ctx);
  if (!globals.ok()) {
    return IsUsageError(globals) ? globals : UsageError(globals.message());
  }
  if (command->takes_model && client::IsModelUri(rest->positional()[0])) {
    absl::StatusOr<client::ModelUri> uri =
        client::ParseModelUri(rest->positional()[0]);
    if (!uri.ok()) return UsageError(uri.status().message());
    ctx.server = uri->target;  // The URI names the server: it wins.
    ctx.revision = uri->revision;
    rest->set_positional(0, uri->model);
  }
  return command->run(ctx, *rest);
}

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::StatusOr<std::unique_ptr<client::Client>> Context::Connect(
    client::ProgressCallback progress) const {
  client::ClientOptions opts = options;
  opts.progress = std::move(progress);
  return client::Client::Connect(server, std::move(opts));
}

absl::StatusOr<client::ModelInfo> Context::GetModel(
    const client::Client& client, const std::string& model) const {
  return client.GetModel(model, revision);
}

int RunWeightctl(absl::Span<const std::string> args, const CliEnvironment& env,
                 std::ostream& out, std::ostream& err) {
  absl::Status status;
  try {
    status = Dispatch(args, env, out, err);
  } catch (const std::exception& e) {  // Not expected; never abort on it.
    status = absl::InternalError(absl::StrCat("internal error: ", e.what()));
  }
  out.flush();
  if (status.ok()) return 0;
  // One line, whatever the message holds.
  std::string message(status.message());
  absl::StrReplaceAll({{"\r\n", "; "}, {"\n", "; "}}, &message);
  err << "weightctl: " << message << std::endl;
  return IsUsageError(status) ? 2 : 1;
}

}  // namespace weightserver::cli
