// Copyright 2026 The Weightserver Authors.
//
// server/main.cc: the weightserver daemon.
//
//   weightserver --repo DIR [--listen HOST:PORT|unix:PATH]
//   weightserver --upstream ADDR[,ADDR...] --cache_dir DIR --cache_size SIZE
//
// The second form is a cache (cache/cache_repository.h, README "Cache
// tier"): it serves the upstream's models from local copies.
//
// Prints "weightserver: listening on HOST:PORT" on stdout once it serves,
// then, with --metrics_listen, "weightserver: metrics on HOST:PORT" (the
// bound port; scripts read the last word of either line).
// SIGINT / SIGTERM stop it: no new calls, running streams get
// --grace_period to finish, then the process exits at once. SIGHUP rescans
// the repository now (live_repository.h); SIGUSR1 and SIGUSR2 are logged and
// ignored; SIGPIPE is ignored.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cache/cache_metrics.h"
#include "cache/cache_repository.h"
#include "server/server.h"
#include "util/byte_size.h"
#include "util/small_file.h"
#include "util/log.h"
#include "weightserver/util/malloc_tuning.h"

ABSL_FLAG(std::string, repo, "",
          "Directory of models (required, unless --upstream makes this a cache).");
ABSL_FLAG(std::string, upstream, "",
          "Cache mode: the servers (origins or caches) whose models this one "
          "serves, comma-separated, tried in turn: HOST:PORT, unix:PATH, "
          "dns:///NAME:PORT. Needs --cache_dir and --cache_size.");
ABSL_FLAG(std::string, cache_dir, "", "Cache mode: where the copies live.");
ABSL_FLAG(std::string, cache_size, "",
          "Cache mode: disk budget of the copies (bytes, or 800G, 2T: powers "
          "of 1024); least recently used models are evicted past it.");
ABSL_FLAG(std::string, cache_block_size, "8M",
          "Cache mode: bytes fetched from the upstream per request.");
ABSL_FLAG(int, cache_fetch_threads, 8,
          "Cache mode: blocks fetched from the upstream at once.");
ABSL_FLAG(int, cache_readahead_blocks, 4,
          "Cache mode: blocks of a file fetched ahead of a stream.");
ABSL_FLAG(absl::Duration, upstream_refresh, absl::Seconds(10),
          "Cache mode: how often the upstream's model list is asked for.");
ABSL_FLAG(absl::Duration, upstream_timeout, absl::Seconds(30),
          "Cache mode: how long a fetch keeps trying the upstreams in turn "
          "before its streams fail UNAVAILABLE.");
ABSL_FLAG(bool, upstream_tls, false, "Cache mode: TLS to the upstream.");
ABSL_FLAG(std::string, upstream_tls_ca_file, "",
          "Cache mode: PEM roots that sign the upstream's certificate "
          "(default: the system's).");
ABSL_FLAG(std::string, upstream_tls_cert_file, "",
          "Cache mode: this cache's client certificate (mutual TLS).");
ABSL_FLAG(std::string, upstream_tls_key_file, "",
          "Cache mode: the key of --upstream_tls_cert_file.");
ABSL_FLAG(std::string, upstream_tls_server_name, "",
          "Cache mode: the name the upstream's certificate must carry, when "
          "not the host of --upstream.");
ABSL_FLAG(std::string, upstream_token_file, "",
          "Cache mode: a file holding the bearer token sent to the upstream.");
ABSL_FLAG(absl::Duration, rescan_interval, absl::Seconds(60),
          "Rescan --repo this often, besides the rescans that changes seen "
          "by inotify and SIGHUP start (0: never).");
ABSL_FLAG(bool, watch_repo, true,
          "Watch --repo with inotify and rescan soon after a change.");
ABSL_FLAG(bool, hf_cache, true,
          "Serve top-level models--ORG--NAME directories of --repo as a "
          "Hugging Face cache: ORG/NAME (refs/main) and ORG/NAME@COMMIT.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "HOST:PORT (port 0 picks a free one) or unix:PATH.");
ABSL_FLAG(int, max_streams, 256, "Concurrent Fetch and ReadFile streams.");
ABSL_FLAG(int, max_streams_per_client, 64,
          "Concurrent Fetch and ReadFile streams of one client (its identity "
          "under --auth_file, else its address); more get RESOURCE_EXHAUSTED "
          "(0: no limit).");
ABSL_FLAG(uint64_t, max_bytes_per_second, 0,
          "Payload bytes per second the server sends over all streams; "
          "writes are paced, never dropped (0: no limit).");
ABSL_FLAG(uint64_t, max_bytes_per_second_per_client, 0,
          "Payload bytes per second the server sends to one client over all "
          "its streams; writes are paced (0: no limit).");
ABSL_FLAG(absl::Duration, max_connection_age, absl::Minutes(30),
          "Close connections this old (GOAWAY, +-10% jitter) so clients "
          "reconnect and spread over new replicas (0 or inf: never).");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::InfiniteDuration(),
          "How long calls running on a connection closed for its age may "
          "take to finish (inf: until they end).");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Minutes(2),
          "Ping a connection idle this long; close it when no answer comes "
          "within --keepalive_timeout (0 or inf: never ping).");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20),
          "How long the answer to a keepalive ping may take.");
ABSL_FLAG(absl::Duration, min_client_ping_interval, absl::Seconds(10),
          "Clients may ping at most this often while no data flows; two "
          "pings faster close the connection (too_many_pings).");
ABSL_FLAG(uint32_t, chunk_bytes, 1 << 20,
          "Default chunk payload size (clients may ask for 64 KiB .. 4 MiB).");
ABSL_FLAG(std::string, io, "auto",
          "Read path: auto (io_uring where allowed, else pread), uring, pread.");
ABSL_FLAG(int, io_threads, 4, "Threads of the read-ahead stage.");
ABSL_FLAG(bool, zero_copy, true,
          "Send chunks whose pages are cached straight from the file mapping.");
ABSL_FLAG(int, readahead, 4, "Chunks read ahead per Fetch stream.");
ABSL_FLAG(uint64_t, max_inflight_bytes, 48 << 20,
          "Bytes read ahead of the network over all streams (bounds memory).");
ABSL_FLAG(uint64_t, max_request_memory, 64 << 20,
          "Memory the requests (messages and plans) of all streams in "
          "progress may hold; a Fetch that does not fit is refused with "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, max_request_bytes, 8 << 20,
          "Largest request message accepted (clients send at most 8,192 "
          "tensors per Fetch call).");
ABSL_FLAG(absl::Duration, stall_timeout, absl::Seconds(60),
          "Cancel a Fetch stream whose client accepts no data for this "
          "long (its flow-control window stays full), freeing its "
          "read-ahead buffers (0: never).");
ABSL_FLAG(absl::Duration, busy_stall_timeout, absl::Seconds(1),
          "While streams wait for read-ahead buffers, cancel a stream whose "
          "client has accepted nothing for this long while it holds one "
          "(0: never).");
ABSL_FLAG(uint64_t, max_extra_file_bytes, 64 << 20,
          "Largest non-weight file of a model (config.json, tokenizer.json, "
          "...) served by ReadFile; larger ones are skipped and logged.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve TLS only (with --tls_key). Re-read "
          "every --tls_reload_interval: rotation needs no restart.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require a client certificate signed by it "
          "(mutual TLS).");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Seconds(10),
          "How often the TLS files are re-read.");
ABSL_FLAG(std::string, auth_file, "",
          "JSON access policy: which bearer tokens and client certificates "
          "may read which models (README \"Security\"); re-read when it "
          "changes. Empty: every caller reads every model.");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT of an HTTP listener serving Prometheus metrics at "
          "/metrics (port 0 picks a free one; README \"Metrics\"). Empty: "
          "no metrics.");
ABSL_FLAG(std::string, access_log, "off",
          "One line per Fetch and ReadFile stream (peer, identity, model, "
          "revision, entries, bytes, duration, status): a file to append "
          "to, - for stderr, or off.");
ABSL_FLAG(std::string, log_format, "text",
          "Format of the access log lines: text (key=value) or json.");
ABSL_FLAG(absl::Duration, grace_period, absl::Seconds(30),
          "On SIGTERM/SIGINT, how long running streams may take to finish.");

namespace {

std::string PerSecond(uint64_t bytes) {
  return bytes == 0 ? "unlimited" : absl::StrCat(bytes, " bytes/s");
}

// The limits in force, in one line, at start.
void LogLimits(const weightserver::server::ServerOptions& o) {
  const auto& c = o.service.client_limits;
  LOG(INFO) << "limits: " << o.service.max_streams << " streams, "
            << (c.max_streams_per_client == 0
                    ? std::string("unlimited")
                    : absl::StrCat(c.max_streams_per_client))
            << " per client; bandwidth " << PerSecond(c.max_bytes_per_second)
            << ", per client " << PerSecond(c.max_bytes_per_second_per_client)
            << "; connection age " << o.max_connection_age << " (grace "
            << o.max_connection_age_grace << "), keepalive "
            << o.keepalive_time << "/" << o.keepalive_timeout
            << ", client pings at most every " << o.min_client_ping_interval;
}

// The cache's options from the flags; errors name the flag.
absl::StatusOr<weightserver::cache::CacheOptions> CacheOptionsFromFlags() {
  weightserver::cache::CacheOptions c;
  for (absl::string_view a :
       absl::StrSplit(absl::GetFlag(FLAGS_upstream), ',', absl::SkipEmpty())) {
    c.upstreams.emplace_back(absl::StripAsciiWhitespace(a));
  }
  c.dir = absl::GetFlag(FLAGS_cache_dir);
  if (c.dir.empty() || absl::GetFlag(FLAGS_cache_size).empty()) {
    return absl::InvalidArgumentError(
        "--upstream needs --cache_dir DIR and --cache_size SIZE");
  }
  if (!absl::GetFlag(FLAGS_repo).empty()) {
    return absl::InvalidArgumentError(
        "--repo and --upstream exclude each other: a cache serves its "
        "upstream's models");
  }
  absl::StatusOr<uint64_t> size = weightserver::ParseByteSize(absl::GetFlag(FLAGS_cache_size));
  if (!size.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cache_size: ", size.status().message()));
  }
  c.max_bytes = *size;
  absl::StatusOr<uint64_t> block =
      weightserver::ParseByteSize(absl::GetFlag(FLAGS_cache_block_size));
  if (!block.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cache_block_size: ", block.status().message()));
  }
  c.block_bytes = *block;
  c.fetch_threads = absl::GetFlag(FLAGS_cache_fetch_threads);
  c.readahead_blocks = absl::GetFlag(FLAGS_cache_readahead_blocks);
  c.refresh_interval = absl::GetFlag(FLAGS_upstream_refresh);
  c.max_extra_file_bytes = absl::GetFlag(FLAGS_max_extra_file_bytes);
  c.upstream.failover_timeout = absl::GetFlag(FLAGS_upstream_timeout);
  weightserver::client::ClientOptions& o = c.upstream.client;
  o.tls = absl::GetFlag(FLAGS_upstream_tls);
  o.tls_ca_file = absl::GetFlag(FLAGS_upstream_tls_ca_file);
  o.tls_cert_file = absl::GetFlag(FLAGS_upstream_tls_cert_file);
  o.tls_key_file = absl::GetFlag(FLAGS_upstream_tls_key_file);
  o.tls_server_name = absl::GetFlag(FLAGS_upstream_tls_server_name);
  if (const std::string f = absl::GetFlag(FLAGS_upstream_token_file); !f.empty()) {
    absl::StatusOr<std::string> token = weightserver::ReadSmallFile(f, 4096);
    if (!token.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--upstream_token_file: ", token.status().message()));
    }
    o.token = std::string(absl::StripAsciiWhitespace(*token));
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the safetensors models under --repo over gRPC, or, as a "
      "cache, those of --upstream.\n"
      "  weightserver --repo DIR [--listen HOST:PORT|unix:PATH]\n"
      "  weightserver --upstream ADDR[,ADDR...] --cache_dir DIR "
      "--cache_size SIZE [--listen ...]");
  absl::ParseCommandLine(argc, argv);
  weightserver::TuneMallocForStreaming(weightserver::MallocUse::kServer);

  const bool cache_mode = !absl::GetFlag(FLAGS_upstream).empty();
  if (!cache_mode && absl::GetFlag(FLAGS_repo).empty()) {
    std::cerr << "weightserver: --repo DIR (or --upstream ADDR for a cache) "
                 "is required\n";
    return 2;
  }
  // Block the handled signals in every thread; one thread waits for them.
  sigset_t handled_signals;
  sigemptyset(&handled_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) {
    sigaddset(&handled_signals, sig);
  }
  pthread_sigmask(SIG_BLOCK, &handled_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  weightserver::server::ServerOptions options;
  options.repo = absl::GetFlag(FLAGS_repo);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.rescan_interval = absl::GetFlag(FLAGS_rescan_interval);
  options.watch_repo = absl::GetFlag(FLAGS_watch_repo);
  options.hf_cache = absl::GetFlag(FLAGS_hf_cache);
  options.max_extra_file_bytes =
      absl::GetFlag(FLAGS_max_extra_file_bytes);
  options.service.max_streams = absl::GetFlag(FLAGS_max_streams);
  options.service.client_limits.max_streams_per_client =
      absl::GetFlag(FLAGS_max_streams_per_client);
  options.service.client_limits.max_bytes_per_second =
      absl::GetFlag(FLAGS_max_bytes_per_second);
  options.service.client_limits.max_bytes_per_second_per_client =
      absl::GetFlag(FLAGS_max_bytes_per_second_per_client);
  options.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options.max_connection_age_grace =
      absl::GetFlag(FLAGS_max_connection_age_grace);
  options.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  options.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  options.min_client_ping_interval =
      absl::GetFlag(FLAGS_min_client_ping_interval);
  options.service.limits.default_chunk_bytes = absl::GetFlag(FLAGS_chunk_bytes);
  options.service.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.service.send_from_mapping = absl::GetFlag(FLAGS_zero_copy);
  options.service.readahead = absl::GetFlag(FLAGS_readahead);
  options.service.max_inflight_bytes = absl::GetFlag(FLAGS_max_inflight_bytes);
  options.service.stall_timeout = absl::GetFlag(FLAGS_stall_timeout);
  options.service.busy_stall_timeout = absl::GetFlag(FLAGS_busy_stall_timeout);
  options.service.max_request_memory = absl::GetFlag(FLAGS_max_request_memory);
  options.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.tls.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  options.service.auth_file = absl::GetFlag(FLAGS_auth_file);
  absl::StatusOr<weightserver::server::IoMode> io =
      weightserver::server::ParseIoMode(absl::GetFlag(FLAGS_io));
  if (!io.ok()) {
    std::cerr << "weightserver: " << io.status().message() << "\n";
    return 2;
  }
  options.service.io = *io;
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.access_log.path = absl::GetFlag(FLAGS_access_log);
  absl::StatusOr<weightserver::server::LogFormat> log_format =
      weightserver::server::ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!log_format.ok()) {
    std::cerr << "weightserver: " << log_format.status().message() << "\n";
    return 2;
  }
  options.access_log.format = *log_format;
  std::shared_ptr<weightserver::cache::CacheRepository> cache;
  if (cache_mode) {
    absl::StatusOr<weightserver::cache::CacheOptions> cache_options =
        CacheOptionsFromFlags();
    if (!cache_options.ok()) {
      std::cerr << "weightserver: " << cache_options.status().message() << "\n";
      return 2;
    }
    auto started = weightserver::cache::CacheRepository::Start(*cache_options);
    if (!started.ok()) {
      std::cerr << "weightserver: " << started.status().message() << "\n";
      return 1;
    }
    cache = *std::move(started);
    options.repo = absl::StrCat("the upstream ", absl::GetFlag(FLAGS_upstream),
                                " (cache in ", cache_options->dir, ", ",
                                cache_options->max_bytes, " bytes)");
  }
  auto server = weightserver::server::Server::Start(options, cache);
  if (!server.ok()) {
    std::cerr << "weightserver: " << server.status().message() << "\n";
    return 1;
  }
  if (cache != nullptr && (*server)->metrics() != nullptr) {
    weightserver::cache::ExportCacheMetrics(cache, (*server)->metrics());
  }
  int servable = 0;
  for (const auto& m : (*server)->repository()->models()) servable += m->servable();
  LOG(INFO) << "serving " << servable << " of "
            << (*server)->repository()->models().size() << " models from "
            << options.repo << "; reads: "
            << weightserver::server::IoModeName((*server)->service().io_mode())
            << ", memory budget " << options.service.max_inflight_bytes
            << " bytes of read-ahead + " << options.service.max_request_memory
            << " of requests";
  LogLimits(options);
  if (!options.tls.enabled() && !weightserver::server::IsLoopback(options.listen)) {
    LOG(WARNING) << "listening on " << options.listen
                 << " WITHOUT TLS: anyone who can reach it reads every model "
                 << "in clear text (--tls_cert, --tls_key; README \"Security\")";
  }
  if (options.service.auth_file.empty() &&
      !weightserver::server::IsLoopback(options.listen)) {
    LOG(WARNING) << "listening on " << options.listen
                 << " WITHOUT AN ACCESS POLICY: every caller reads every "
                 << "model (--auth_file; README \"Security\")";
  } else if (!options.service.auth_file.empty()) {
    LOG(INFO) << "access policy " << options.service.auth_file << ": "
              << (*server)->service().auth()->Current()->identities().size()
              << " identities";
  }
  if (options.tls.enabled()) {
    LOG(INFO) << (options.tls.client_ca_file.empty() ? "TLS" : "mutual TLS")
              << " with " << options.tls.cert_file << ", re-read every "
              << options.tls.reload_interval;
  }
  if (options.access_log.enabled()) {
    LOG(INFO) << "access log: "
              << (options.access_log.path == "-" ? std::string("stderr")
                                                 : options.access_log.path)
              << ", " << absl::GetFlag(FLAGS_log_format);
  }
  // Scripts read the address from this line: its last word.
  std::cout << "weightserver: listening on " << (*server)->address()
            << std::endl;
  if (!(*server)->metrics_address().empty()) {
    LOG(INFO) << "metrics: http://" << (*server)->metrics_address()
              << "/metrics";
    std::cout << "weightserver: metrics on " << (*server)->metrics_address()
              << std::endl;
  }

  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&handled_signals, &sig) == 0 && sig != SIGINT &&
           sig != SIGTERM) {
      if (sig == SIGHUP && cache != nullptr) {
        LOG(INFO) << "SIGHUP: asking the upstream for its models";
        std::thread([cache] { cache->RefreshNow().IgnoreError(); }).detach();
        continue;
      }
      if (sig == SIGHUP) {
        LOG(INFO) << "SIGHUP: rescanning " << options.repo;
        (*server)->live_repository().RequestRescan();
        continue;
      }
      LOG(INFO) << "signal " << sig << " (" << strsignal(sig)
                << "): ignored; SIGTERM or SIGINT stops the daemon";
    }
    const absl::Duration grace = absl::GetFlag(FLAGS_grace_period);
    LOG(INFO) << "signal " << sig << " (" << strsignal(sig)
              << "): draining: health NOT_SERVING, refusing new calls, "
              << (*server)->service().active_streams()
              << " Fetch streams running, grace period " << grace;
    const absl::Time start = absl::Now();
    (*server)->Shutdown(grace);  // Returns once every call is done.
    const absl::Duration took = absl::Now() - start;
    if (took >= grace) {
      LOG(WARNING) << "grace period over after " << took
                   << ": cancelled the streams still running";
    } else {
      LOG(INFO) << "drained in " << took << ": every running call finished";
    }
  });
  (*server)->Wait();
  waiter.join();
  LOG(INFO) << "stopped";
  // Exit now, without destructors: every call is finished and nothing is left
  // to write, but tearing gRPC down (grpc_shutdown from ~Server) joins its
  // executor threads, one of which may sit in epoll_wait for up to ~10 s.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  _exit(0);
}
