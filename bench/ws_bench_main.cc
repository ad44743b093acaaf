// Copyright 2026 The Weightserver Authors.
//
// bench/ws_bench_main.cc: client-side measurements that weightctl does not
// make, for run_bench.py. Prints one JSON object.
//
//   ws_bench --server ADDR --mode first_tensor --model M --n 100
//     each round: a new client (new connection), GetModel, fetch the smallest
//     non-empty tensor, verified; reports the median, p90 and p99 in ms.
//   ws_bench --server ADDR --mode get_model --model M --n 20
//     GetModel of M over one connection; median and p90 in ms, tensor count.
//   ws_bench --server ADDR --mode tp_load --model M --rank R --world W
//     a tensor-parallel rank's load: every 2-D tensor column-sharded (dim 1),
//     1-D tensors sharded when divisible, the rest whole; reports the bytes
//     of the shard ("extra") and the seconds ("median_ms"); --streams and
//     --connections set the client's.
//   ws_bench --server ADDR --mode reload --model M --n 3
//     the whole model fetched --n times into memory allocated and touched
//     once (an engine's reused buffers); median ms, bytes, and the client's
//     CPU seconds per GB ("cpu_s_per_gb", getrusage).
//   ws_bench --mode memset --mib N --pages thp|4k --n 3
//     memset of N MiB of freshly mapped memory (MADV_HUGEPAGE or
//     MADV_NOHUGEPAGE), a new mapping each round: the first-touch ceiling.
//   ws_bench --server ADDR --mode fresh --model M --prefault none|thread
//     the whole model into a new HostArena each round (as LoadToHost);
//     "thread" faults the arena in on a second thread (MADV_POPULATE_WRITE,
//     32 MiB at a time, in layout order) while the stream fills it.
//
// Every mode that connects takes --tls_ca, --tls_cert, --tls_key and
// --tls_server_name (ClientOptions' TLS fields; any of them turns TLS on):
// `--mode first_tensor --tls_ca ca.crt --tls_cert client.crt --tls_key
// client.key` times a fresh mutual-TLS connection, handshake included.
#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "weightserver/client/client.h"
#include "weightserver/client/tensor_table.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/selection.h"
#include "weightserver/util/malloc_tuning.h"
#include "client/host_arena.h"
#include "client/memory_sink.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "Server address.");
ABSL_FLAG(std::string, mode, "first_tensor",
          "first_tensor, get_model, tp_load, reload, memset or fresh.");
ABSL_FLAG(std::string, model, "", "Model name.");
ABSL_FLAG(int, n, 100, "Rounds.");
ABSL_FLAG(int, rank, 0, "tp_load: this rank.");
ABSL_FLAG(int, world, 8, "tp_load: number of ranks.");
ABSL_FLAG(int, streams, 4, "tp_load: Fetch streams (ClientOptions.streams).");
ABSL_FLAG(int, connections, 2, "tp_load: connections (ClientOptions.connections).");
ABSL_FLAG(std::string, prefault, "none", "fresh: none or thread.");
ABSL_FLAG(std::string, pages, "thp", "memset: thp or 4k.");
ABSL_FLAG(int, mib, 1024, "memset: MiB.");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA of the server's certificate (TLS).");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (mutual TLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name the server's certificate must carry (TLS).");

namespace {

using weightserver::client::Client;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "ws_bench: %s\n", std::string(s.message()).c_str());
  return 1;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// CPU seconds (user + system) of this process so far, all threads.
double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// One JSON line; `more` is appended as further fields (", \"k\": v").
void Report(const char* mode, std::vector<double> ms, int64_t extra,
            const std::string& more = "") {
  std::sort(ms.begin(), ms.end());
  std::printf(
      "{\"mode\": \"%s\", \"n\": %zu, \"median_ms\": %.3f, \"p90_ms\": %.3f, "
      "\"p99_ms\": %.3f, \"min_ms\": %.3f, \"extra\": %lld%s}\n",
      mode, ms.size(), ms[ms.size() / 2], ms[ms.size() * 9 / 10],
      ms[ms.size() * 99 / 100], ms[0],
      static_cast<long long>(extra), more.c_str());
}

// ClientOptions with the TLS flags applied; any of them turns TLS on.
weightserver::client::ClientOptions BaseOptions() {
  weightserver::client::ClientOptions o;
  o.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  o.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  o.tls = !o.tls_ca_file.empty() || !o.tls_cert_file.empty() ||
          !o.tls_key_file.empty() || !o.tls_server_name.empty();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Benchmark helper for bench/run_bench.py.");
  absl::ParseCommandLine(argc, argv);
  weightserver::TuneMallocForStreaming(weightserver::MallocUse::kClient);
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string model = absl::GetFlag(FLAGS_model);
  const int n = std::max(1, absl::GetFlag(FLAGS_n));
  std::vector<double> ms;
  if (absl::GetFlag(FLAGS_mode) == "first_tensor") {
    uint64_t bytes = 0;
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      weightserver::client::ClientOptions o = BaseOptions();
      o.connections = 1;
      o.streams = 1;
      auto client = Client::Connect(server, o);
      if (!client.ok()) return Fail(client.status());
      auto toc = (*client)->GetModel(model);
      if (!toc.ok()) return Fail(toc.status());
      const weightserver::client::ModelTensor* smallest = nullptr;
      for (const auto& t : toc->tensors) {
        if (t.length > 0 && (!smallest || t.length < smallest->length)) {
          smallest = &t;
        }
      }
      if (smallest == nullptr) return Fail(absl::NotFoundError("no tensor"));
      std::vector<std::byte> buf(smallest->length);
      absl::Status s = (*client)->Fetch(
          *toc, {{smallest->name, absl::MakeSpan(buf), {}}});
      if (!s.ok()) return Fail(s);
      ms.push_back(Ms(Clock::now() - t0));
      bytes = buf.size();
    }
    Report("first_tensor", ms, static_cast<int64_t>(bytes));
  } else if (absl::GetFlag(FLAGS_mode) == "get_model") {
    auto client = Client::Connect(server, BaseOptions());
    if (!client.ok()) return Fail(client.status());
    int64_t tensors = 0;
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      auto toc = (*client)->GetModel(model);
      if (!toc.ok()) return Fail(toc.status());
      ms.push_back(Ms(Clock::now() - t0));
      tensors = static_cast<int64_t>(toc->tensors.size());
    }
    Report("get_model", ms, tensors);
  } else if (absl::GetFlag(FLAGS_mode) == "tp_load") {
    const auto t0 = Clock::now();
    weightserver::client::ClientOptions o = BaseOptions();
    o.streams = absl::GetFlag(FLAGS_streams);
    o.connections = absl::GetFlag(FLAGS_connections);
    auto client = Client::Connect(server, o);
    if (!client.ok()) return Fail(client.status());
    auto toc = (*client)->GetModel(model);
    if (!toc.ok()) return Fail(toc.status());
    const int rank = absl::GetFlag(FLAGS_rank), world = absl::GetFlag(FLAGS_world);
    std::vector<weightserver::client::TensorSlice> wanted;
    for (const auto& t : toc->tensors) {
      const std::vector<uint64_t>& shape = t.shape;
      weightserver::client::TensorSlice slice{t.name, {}};
      int dim = shape.size() == 2 ? 1 : shape.size() == 1 ? 0 : -1;
      if (dim >= 0 && shape[dim] % world == 0) {
        auto sel = weightserver::client::ShardDim(shape, dim, rank, world);
        if (!sel.ok()) return Fail(sel.status());
        slice.selection = *std::move(sel);
      }
      wanted.push_back(std::move(slice));
    }
    auto plan = weightserver::client::PlanLoad(*toc, wanted);
    if (!plan.ok()) return Fail(plan.status());
    auto loaded = weightserver::client::LoadToHost(**client, *toc, *plan);
    if (!loaded.ok()) return Fail(loaded.status());
    ms.push_back(Ms(Clock::now() - t0));
    Report("tp_load", ms, static_cast<int64_t>(loaded->total_bytes()));
  } else if (absl::GetFlag(FLAGS_mode) == "reload") {
    // An engine's case: the destination is allocated and touched once, then
    // the whole model is fetched into it --n times. Page zeroing of fresh
    // memory is out of the measure; the data path is all that is left.
    auto client = Client::Connect(server, BaseOptions());
    if (!client.ok()) return Fail(client.status());
    auto toc = (*client)->GetModel(model);
    if (!toc.ok()) return Fail(toc.status());
    uint64_t total = 0;
    for (const auto& t : toc->tensors) total += t.length;
    std::vector<std::byte> memory(total);  // Zeroed: every page touched.
    std::vector<weightserver::client::FetchItem> items;
    uint64_t at = 0;
    for (const auto& t : toc->tensors) {
      items.push_back({t.name, absl::MakeSpan(memory.data() + at, t.length), {}});
      at += t.length;
    }
    std::vector<double> cpu_per_gb;
    for (int i = 0; i < n; ++i) {
      const double c0 = CpuSeconds();
      const auto t0 = Clock::now();
      absl::Status s = (*client)->Fetch(*toc, items);
      if (!s.ok()) return Fail(s);
      ms.push_back(Ms(Clock::now() - t0));
      cpu_per_gb.push_back((CpuSeconds() - c0) / (static_cast<double>(total) / 1e9));
    }
    Report("reload", ms, static_cast<int64_t>(total),
           ", \"cpu_s_per_gb\": " + std::to_string(Median(cpu_per_gb)));
  } else if (absl::GetFlag(FLAGS_mode) == "memset") {
    const size_t n = size_t(absl::GetFlag(FLAGS_mib)) << 20;
    for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_n)); ++i) {
      void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      madvise(p, n, absl::GetFlag(FLAGS_pages) == "4k" ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
      const auto t0 = Clock::now();
      std::memset(p, 1, n);
      ms.push_back(Ms(Clock::now() - t0));
      munmap(p, n);
    }
    Report("memset", ms, static_cast<int64_t>(n));
  } else if (absl::GetFlag(FLAGS_mode) == "fresh") {
    auto client = Client::Connect(server, BaseOptions());
    if (!client.ok()) return Fail(client.status());
    auto toc = (*client)->GetModel(model);
    if (!toc.ok()) return Fail(toc.status());
    auto plan = weightserver::client::PlanWholeTensors(*toc, {});
    if (!plan.ok()) return Fail(plan.status());
    const std::string pf = absl::GetFlag(FLAGS_prefault);
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      auto arena = weightserver::client::HostArena::Allocate(plan->layout_bytes);
      if (!arena.ok()) return Fail(arena.status());
      std::thread t;
      std::atomic<bool> stop{false};
      constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux 5.14).
      if (pf == "thread") {
        t = std::thread([&] {
          const size_t step = 32 << 20;
          for (size_t at = 0; at < arena->size() && !stop; at += step) {
            madvise(arena->data() + at, std::min(step, arena->size() - at),
                    kPopulateWrite);
          }
        });
      }
      std::vector<std::byte*> bases;
      for (const auto& o : plan->tensors) bases.push_back(arena->data() + o.offset);
      weightserver::client::MemorySink sink(*plan, bases);
      absl::Status s = (*client)->Fetch(*toc, *plan, sink);
      stop = true;
      if (t.joinable()) t.join();
      if (!s.ok()) return Fail(s);
      ms.push_back(Ms(Clock::now() - t0));
    }
    Report("fresh", ms, static_cast<int64_t>(plan->total_bytes));
  } else {
    return Fail(absl::InvalidArgumentError(
        "--mode: first_tensor, get_model, tp_load, reload, memset or fresh"));
  }
  return 0;
}
