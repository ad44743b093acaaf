// Copyright 2026 The Weightserver Authors.
//
// tests/soak/soak_main.cc: ws_soak, the daemon under a mix of good and bad
// clients for a bounded time (issue 11).
//
//   ws_soak [--duration_s 30] [--daemon PATH] [--seed N]
//
// Runs the real weightserver binary on a temporary repository and, for
// --duration_s, at the same time:
//   good      2 loaders: the whole model straight to the daemon, and row
//             shards through a proxy that drops the connection every 20 MB;
//             every load must succeed, byte-identical to the files.
//   victim    loads of a model whose file is truncated a third of the way
//             in and restored at two thirds: each load either succeeds
//             byte-identical or fails with a clear status (never wrong
//             bytes); the restored file is picked up by a rescan (the live
//             repository) and the model is servable again afterwards.
//   hostile   requests over every limit: 1e6 entries, repeated ranges, a
//             1 MiB model name, bad selections, offsets past the end,
//             garbage bytes; each must fail with the expected status and a
//             short message.
//   idle      up to 8 streams opened and never read, held 1-8 s.
//   slow      a stream read one chunk per 200 ms.
// Meanwhile the daemon's resident memory is sampled every 50 ms. At the end
// the clients stop, and it checks: the peak within the daemon's budget
// (requests + read-ahead + a fixed allowance for gRPC), memory, threads and
// file descriptors back to their baseline, and a final load still served.
// Prints a table of figures; exits 1 if any check failed.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/testing/daemon.h"
#include "tests/testing/dropping_proxy.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/client/client.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/selection.h"
#include "weightserver/client/tensor_table.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

ABSL_FLAG(int, duration_s, 30, "How long the clients run, in seconds.");
ABSL_FLAG(std::string, daemon, WS_DAEMON_BINARY, "The weightserver binary.");
ABSL_FLAG(uint32_t, seed, 1, "Seed of the clients' random choices.");

namespace weightserver::soak {
namespace {

using format::DType;
namespace wt = weightserver::testing;

constexpr uint64_t kMiB = 1 << 20;
// The daemon's budget: --max_request_memory and --max_inflight_bytes, and
// an allowance for what neither covers (gRPC's own buffers: a refused 35 MB
// request is read whole before it is refused; HTTP/2 windows; stacks).
constexpr uint64_t kRequestMemory = 32 * kMiB;
constexpr uint64_t kInflight = 48 * kMiB;
constexpr uint64_t kGrpcAllowance = 96 * kMiB;

// Failed checks, and counts of what happened, shared by the clients.
class Report {
 public:
  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_.size() < 20) failures_.push_back(what);
    ++failed_;
  }
  void Count(const std::string& what, uint64_t n = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    counts_[what] += n;
  }
  void ClearCounts() {  // Failures stay.
    std::lock_guard<std::mutex> lock(mu_);
    counts_.clear();
  }
  int failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  void Print() const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [what, n] : counts_) {
      std::cout << absl::StrFormat("  %-44s %12d\n", what, n);
    }
    for (const std::string& f : failures_) std::cout << "FAILED: " << f << "\n";
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> counts_;
  std::vector<std::string> failures_;
  int failed_ = 0;
};

std::string Code(const absl::Status& s) {
  return std::string(absl::StatusCodeToString(s.code()));
}

// Checks every tensor of `table` against the test model's bytes: whole
// tensors, or (`rank` of 2) the rank's half of the rows.
bool SameBytes(const client::TensorTable& table, const client::LoadPlan& plan,
               int rank, std::string* why) {
  for (const client::PlannedTensor& p : plan.tensors) {
    const client::TensorView* t = table.Find(p.name());
    const uint64_t full = p.source->length;
    std::string want = wt::TensorBytes(p.name(), full);
    if (!p.selection.dims.empty()) {
      const uint64_t half = want.size() / 2;
      want = want.substr(rank * half, half);
    }
    if (t == nullptr || t->size != want.size() ||
        std::memcmp(t->data, want.data(), want.size()) != 0) {
      *why = absl::StrCat(p.name(), ": bytes differ from the file's");
      return false;
    }
  }
  return true;
}

class Soak {
 public:
  explicit Soak(uint32_t seed) : seed_(seed) {}

  int Run(absl::Duration duration) {
    WriteRepository();
    auto d = wt::Daemon::Start(
        absl::GetFlag(FLAGS_daemon),
        {"--repo", repo_.path(), "--max_request_memory",
         std::to_string(kRequestMemory), "--max_inflight_bytes",
         std::to_string(kInflight), "--stall_timeout", "5s"});
    if (!d.ok()) {
      std::cerr << "ws_soak: " << d.status() << "\n";
      return 1;
    }
    daemon_ = *std::move(d);
    // Baseline: after a warm-up of the same mix (without the truncation):
    // gRPC's own thread pools grow on first load up to their bounds (its
    // executor to 2 per core, its timer threads), and stay.
    const absl::Duration warmup = std::max(absl::Seconds(3), duration / 6);
    std::atomic<uint64_t> unused_peak{0};
    Mix(warmup, /*truncate=*/false, &unused_peak);
    std::this_thread::sleep_for(std::chrono::seconds(3));  // A trim or so.
    const uint64_t base_rss = daemon_->RssAnon();
    const int base_threads = OwnThreads();
    const int base_fds = daemon_->OpenFds();
    const std::string base_thread_names = ThreadNames();
    std::atomic<uint64_t> peak_rss{base_rss};
    report_.ClearCounts();  // The table counts the soak proper.
    good_loads_[0] = good_loads_[1] = 0;
    Mix(duration, /*truncate=*/true, &peak_rss);

    // After the storm: the daemon serves the restored victim again, serves
    // a good load, and gives back what it took.
    CheckListing();
    GoodLoad(daemon_->address(), -1);
    uint64_t rss = 0;
    int threads = 0, fds = 0;
    for (int i = 0; i < 100; ++i) {  // Up to 10 s.
      rss = daemon_->RssAnon();
      threads = OwnThreads();
      fds = daemon_->OpenFds();
      if (rss <= base_rss + 16 * kMiB && threads <= base_threads &&
          fds <= base_fds) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const uint64_t budget = kRequestMemory + kInflight + kGrpcAllowance;
    if (peak_rss.load() > base_rss + budget) {
      report_.Fail(absl::StrCat("peak RSS ", peak_rss.load() / kMiB,
                                " MiB over baseline + budget ",
                                (base_rss + budget) / kMiB, " MiB"));
    }
    if (rss > base_rss + 16 * kMiB) {
      report_.Fail(absl::StrCat("RSS stayed ", (rss - base_rss) / kMiB,
                                " MiB above the baseline"));
    }
    if (threads > base_threads) {
      report_.Fail(absl::StrCat("threads (gRPC's timer pool aside) ", threads,
                                " > baseline ",
                                base_threads, ": ", ThreadNames(),
                                "; at the baseline: ", base_thread_names));
    }
    if (fds > base_fds) {
      report_.Fail(absl::StrCat("fds ", fds, " > baseline ", base_fds));
    }
    if (good_loads_[0].load() == 0 || good_loads_[1].load() == 0) {
      report_.Fail("a good loader completed no load");
    }

    std::cout << absl::StrFormat(
        "ws_soak: %s, seed %d\n"
        "  %-44s %12s %12s %12s\n"
        "  %-44s %12d %12d %12d\n"
        "  %-44s %12d %12d %12d\n"
        "  %-44s %12d\n",
        absl::FormatDuration(duration), seed_, "daemon", "RSS MiB",
        "threads", "fds", "baseline", base_rss / kMiB, base_threads,
        base_fds, "at the end", rss / kMiB, threads, fds,
        "peak RSS MiB (limit: baseline + budget)", peak_rss.load() / kMiB);
    std::cout << absl::StrFormat("  %-44s %12d\n", "budget MiB (requests + "
                                 "read-ahead + gRPC)", budget / kMiB);
    report_.Print();
    const int failed = report_.failed();
    if (failed != 0) std::cerr << "ws_soak: the daemon's log:\n" << daemon_->Log();
    std::cout << (failed == 0 ? "ws_soak: OK\n"
                              : absl::StrCat("ws_soak: ", failed, " failures\n"));
    return failed == 0 ? 0 : 1;
  }

 private:
  // Runs every kind of client for `duration`, sampling the daemon's RSS
  // into *peak_rss; `truncate`: the victim's file is cut and restored.
  void Mix(absl::Duration duration, bool truncate,
           std::atomic<uint64_t>* peak_rss) {
    proxy_ = std::make_unique<wt::DroppingProxy>(daemon_->address(), 20'000'000);
    const absl::Time end = absl::Now() + duration;
    std::vector<std::thread> clients;
    clients.emplace_back([&] {  // Sampler.
      while (absl::Now() < end) {
        const uint64_t rss = daemon_->RssAnon();
        if (rss > peak_rss->load()) peak_rss->store(rss);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    clients.emplace_back([&] {
      while (absl::Now() < end) GoodLoad(daemon_->address(), -1);
    });
    clients.emplace_back([&] {
      for (int rank = 0; absl::Now() < end; rank ^= 1) {
        GoodLoad(proxy_->address(), rank);
      }
    });
    clients.emplace_back([&] {
      while (absl::Now() < end) VictimLoad();
    });
    if (truncate) clients.emplace_back([&] { Truncator(end, duration); });
    clients.emplace_back([&] { Hostile(end); });
    clients.emplace_back([&] { Idle(end); });
    clients.emplace_back([&] { Slow(end); });
    for (std::thread& t : clients) t.join();
    proxy_.reset();
  }

  // The daemon's threads, by name.
  std::map<std::string, int> ThreadsByName() const {
    std::map<std::string, int> names;
    const std::string dir = absl::StrCat("/proc/", daemon_->pid(), "/task");
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      std::string name;
      if (FILE* f = std::fopen((e.path() / "comm").c_str(), "r")) {
        char buf[64] = {};
        if (std::fgets(buf, sizeof(buf), f) != nullptr) name = buf;
        std::fclose(f);
      }
      if (!name.empty() && name.back() == '\n') name.pop_back();
      ++names[name];
    }
    return names;
  }

  // The daemon's threads but gRPC's timer pool ("grpc_global_tim"), which
  // grows under load and shrinks only when a timer wakes an idle one (an
  // extra one was seen to outlive the 10 s wait): the count that must come
  // back to its baseline.
  int OwnThreads() const {
    int n = 0;
    for (const auto& [name, count] : ThreadsByName()) {
      if (name != "grpc_global_tim") n += count;
    }
    return n;
  }

  // The daemon's threads by name ("grpcpp_sync_ser x3, ...").
  std::string ThreadNames() const {
    const std::map<std::string, int> names = ThreadsByName();
    std::string out;
    for (const auto& [name, n] : names) {
      absl::StrAppend(&out, out.empty() ? "" : ", ", name, " x", n);
    }
    return out;
  }

  void WriteRepository() {
    // About 48 MiB in two files; every 2-D tensor has an even row count.
    std::vector<format::TensorSpec> specs = wt::SmallTransformer("", 48 * kMiB);
    std::vector<std::vector<format::TensorSpec>> shards(2);
    for (size_t i = 0; i < specs.size(); ++i) shards[i % 2].push_back(specs[i]);
    wt::WriteShardedModel(repo_.path() + "/good", shards);
    wt::WriteModel(repo_.path() + "/victim", {{"v", DType::kU8, {16 * kMiB}}});
    victim_file_ = repo_.path() + "/victim/model.safetensors";
  }

  // One load of "good": whole tensors (rank -1) or rank's half of the rows
  // of every 2-D tensor.
  void GoodLoad(const std::string& target, int rank) {
    const char* kind = rank < 0 ? "good loads (direct, whole)"
                                : "good loads (dropping proxy, shards)";
    auto c = client::Client::Connect(target);
    absl::StatusOr<client::ModelInfo> model =
        c.ok() ? (*c)->GetModel("good") : c.status();
    if (!model.ok()) {
      report_.Fail(absl::StrCat(kind, ": ", model.status().ToString()));
      return;
    }
    std::vector<client::TensorSlice> slices;
    for (const client::ModelTensor& t : model->tensors) {
      client::TensorSlice s{.name = t.name, .selection = {}};
      if (rank >= 0 && t.shape.size() == 2 && t.shape[0] % 2 == 0) {
        auto sel = client::ShardDim(t.shape, 0, rank, 2);
        if (!sel.ok()) {
          report_.Fail(sel.status().ToString());
          return;
        }
        s.selection = *std::move(sel);
      }
      slices.push_back(std::move(s));
    }
    auto plan = client::PlanLoad(*model, slices);
    auto table = plan.ok() ? client::LoadToHost(**c, *model, *plan)
                           : absl::StatusOr<client::TensorTable>(plan.status());
    if (!table.ok()) {
      report_.Fail(absl::StrCat(kind, ": ", table.status().ToString()));
      return;
    }
    std::string why;
    if (!SameBytes(*table, *plan, std::max(rank, 0), &why)) {
      report_.Fail(absl::StrCat(kind, ": ", why));
      return;
    }
    report_.Count(kind);
    report_.Count("good bytes loaded (MiB)", plan->total_bytes / kMiB);
    ++good_loads_[rank < 0 ? 0 : 1];
  }

  void VictimLoad() {
    client::ClientOptions o;
    o.max_attempts = 2;
    o.retry_initial_backoff = absl::Milliseconds(10);
    auto c = client::Client::Connect(daemon_->address(), o);
    absl::StatusOr<client::ModelInfo> model = (*c)->GetModel("victim");
    absl::StatusOr<client::LoadPlan> plan =
        model.ok() ? client::PlanWholeTensors(*model, {})
                   : absl::StatusOr<client::LoadPlan>(model.status());
    absl::StatusOr<client::TensorTable> table =
        plan.ok() ? client::LoadToHost(**c, *model, *plan)
                  : absl::StatusOr<client::TensorTable>(plan.status());
    if (table.ok()) {
      std::string why;
      if (!SameBytes(*table, *plan, 0, &why)) {
        report_.Fail(absl::StrCat("victim load OK with wrong bytes: ", why));
      }
      report_.Count("victim loads: OK, byte-identical");
    } else {
      if (table.status().message().size() > 1024) {
        report_.Fail("victim error message over 1 KiB");
      }
      report_.Count("victim loads: " + Code(table.status()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  void Truncator(absl::Time end, absl::Duration duration) {
    const auto size = std::filesystem::file_size(victim_file_);
    std::string original;
    {
      FILE* f = std::fopen(victim_file_.c_str(), "rb");
      original.resize(size);
      if (f == nullptr || std::fread(original.data(), 1, size, f) != size) {
        report_.Fail("cannot read the victim file");
      }
      if (f != nullptr) std::fclose(f);
    }
    absl::SleepFor(duration / 3);
    std::filesystem::resize_file(victim_file_, size / 2);
    report_.Count("victim file truncations");
    absl::SleepFor(duration / 3);
    FILE* f = std::fopen(victim_file_.c_str(), "r+b");
    if (f != nullptr) {
      std::fwrite(original.data(), 1, original.size(), f);
      std::fclose(f);
    }
    while (absl::Now() < end) absl::SleepFor(absl::Milliseconds(100));
  }

  // The victim, restored in place at two thirds of the soak, is servable
  // again once a rescan has validated its new identity (inotify: within
  // ~2 s; up to 10 s here), and "good" never stopped being servable.
  void CheckListing() {
    auto c = client::Client::Connect(daemon_->address());
    std::string victim_error = "not listed";
    for (int i = 0; i < 100 && !victim_error.empty(); ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto models = (*c)->ListModels();
      if (!models.ok()) {
        report_.Fail(absl::StrCat("ListModels: ", models.status().ToString()));
        return;
      }
      for (const client::ModelSummary& m : *models) {
        if (m.name == "victim") victim_error = m.error;
        if (m.name == "good" && !m.error.empty()) {
          report_.Fail(absl::StrCat("good is listed as unservable: ", m.error));
        }
      }
    }
    if (!victim_error.empty()) {
      report_.Fail(absl::StrCat(
          "the restored victim is not servable 10 s after the soak: ",
          victim_error));
    }
  }

  std::unique_ptr<v1::WeightService::Stub> RawStub() const {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    args.SetMaxReceiveMessageSize(64 << 20);
    return v1::WeightService::NewStub(grpc::CreateCustomChannel(
        daemon_->address(), grpc::InsecureChannelCredentials(), args));
  }

  static grpc::Status Drain(v1::WeightService::Stub* stub,
                            const v1::FetchRequest& r) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub->Fetch(&ctx, r);
    v1::Chunk c;
    while (reader->Read(&c)) {
    }
    return reader->Finish();
  }

  // Each hostile request and the status it must get.
  void Hostile(absl::Time end) {
    auto stub = RawStub();
    v1::FetchRequest million;
    million.set_model("victim");
    for (int i = 0; i < 1000000; ++i) {
      v1::TensorRequest* t = million.add_tensors();
      t->set_name("v");
      t->set_offset(i);
      t->set_limit(1);
    }
    v1::FetchRequest repeated;
    repeated.set_model("good");
    for (int i = 0; i < 1000; ++i) {
      repeated.add_tensors()->set_name("embed_tokens.weight");
    }
    v1::FetchRequest bad_selection;
    bad_selection.set_model("good");
    {
      v1::TensorRequest* t = bad_selection.add_tensors();
      t->set_name("embed_tokens.weight");
      t->add_selection()->add_ranges()->set_stop(1u << 30);
      t->add_selection()->add_ranges()->set_stop(1);
    }
    v1::FetchRequest past_end;
    past_end.set_model("good");
    past_end.add_tensors()->set_name("norm.weight");
    past_end.mutable_tensors(0)->set_offset(1ull << 40);
    v1::FetchRequest unknown;
    unknown.set_model(std::string(1 << 20, 'x'));
    unknown.add_tensors()->set_name("w");

    using C = grpc::StatusCode;
    std::mt19937 rng(seed_);
    for (int round = 0; absl::Now() < end; ++round) {
      auto expect = [&](const char* what, const grpc::Status& s,
                        std::initializer_list<C> codes) {
        bool ok = false;
        for (C c : codes) ok |= s.error_code() == c;
        if (!ok || s.error_message().size() > 1024) {
          report_.Fail(absl::StrCat("hostile ", what, ": got code ",
                                    s.error_code(), " (",
                                    s.error_message().substr(0, 200), ")"));
        }
        report_.Count(absl::StrCat("hostile: ", what));
      };
      switch (round % 6) {
        case 0:
          expect("1e6 entries (35 MB)", Drain(stub.get(), million),
                 {C::RESOURCE_EXHAUSTED});
          break;
        case 1:
          expect("1000x the same tensor", Drain(stub.get(), repeated),
                 {C::INVALID_ARGUMENT});
          break;
        case 2:
          expect("selection out of range", Drain(stub.get(), bad_selection),
                 {C::OUT_OF_RANGE, C::INVALID_ARGUMENT});
          break;
        case 3:
          expect("offset past the end", Drain(stub.get(), past_end),
                 {C::OUT_OF_RANGE});
          break;
        case 4: {
          expect("1 MiB model name", Drain(stub.get(), unknown),
                 {C::NOT_FOUND});
          grpc::ClientContext ctx;
          v1::GetModelRequest r;
          r.set_name(std::string(1 << 20, 'y'));
          v1::Model resp;
          expect("GetModel of a 1 MiB name", stub->GetModel(&ctx, r, &resp),
                 {C::NOT_FOUND});
          break;
        }
        case 5: {
          // Bytes that are no FetchRequest, through the generic stub.
          std::string garbage(4096, '\0');
          for (char& ch : garbage) ch = static_cast<char>(rng());
          garbage[0] = '\x0a';  // Field 1, length-delimited...
          garbage[1] = '\xff';  // ...longer than the message.
          grpc::Slice slice(garbage);
          grpc::ByteBuffer request(&slice, 1);
          grpc::GenericStub generic(grpc::CreateChannel(
              daemon_->address(), grpc::InsecureChannelCredentials()));
          grpc::ClientContext ctx;
          std::mutex mu;
          std::condition_variable cv;
          bool done = false;
          grpc::Status status;
          grpc::ByteBuffer response;
          grpc::StubOptions options;
          generic.UnaryCall(&ctx, "/weightserver.v1.WeightService/GetModel",
                            options, &request, &response,
                            [&](grpc::Status s) {
                              std::lock_guard<std::mutex> lock(mu);
                              status = std::move(s);
                              done = true;
                              cv.notify_one();
                            });
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return done; });
          expect("garbage request bytes", status,
                 {C::INVALID_ARGUMENT, C::INTERNAL});
          break;
        }
      }
    }
  }

  // Streams opened and never read, each held 1-8 s (the daemon's stall
  // timeout is 5 s: some are cut).
  void Idle(absl::Time end) {
    struct Stream {
      std::unique_ptr<v1::WeightService::Stub> stub;
      grpc::ClientContext ctx;
      std::unique_ptr<grpc::ClientReader<v1::Chunk>> reader;
      absl::Time until;
    };
    std::mt19937 rng(seed_ + 1);
    std::vector<std::unique_ptr<Stream>> open;
    v1::FetchRequest whole;
    whole.set_model("good");
    for (const char* name : {"embed_tokens.weight", "layers.0.self_attn.q_proj.weight",
                             "layers.1.self_attn.o_proj.weight"}) {
      whole.add_tensors()->set_name(name);
    }
    while (absl::Now() < end) {
      while (open.size() < 8) {
        auto s = std::make_unique<Stream>();
        s->stub = RawStub();
        s->until = absl::Now() + absl::Milliseconds(1000 + rng() % 7000);
        s->reader = s->stub->Fetch(&s->ctx, whole);
        open.push_back(std::move(s));
        report_.Count("idle streams opened");
      }
      std::erase_if(open, [&](const auto& s) {
        if (absl::Now() < s->until && absl::Now() < end) return false;
        s->ctx.TryCancel();
        const grpc::Status st = s->reader->Finish();
        report_.Count(absl::StrCat("idle streams ended: ",
                                   st.error_code() == grpc::StatusCode::CANCELLED
                                       ? "CANCELLED"
                                       : absl::StrCat("code ", st.error_code())));
        return true;
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Reads one chunk every 200 ms of the whole "good" model, again and again.
  void Slow(absl::Time end) {
    v1::FetchRequest r;
    r.set_model("good");
    r.add_tensors()->set_name("embed_tokens.weight");
    r.add_tensors()->set_name("layers.0.self_attn.q_proj.weight");
    r.set_chunk_size_hint(256 << 10);
    while (absl::Now() < end) {
      auto stub = RawStub();
      grpc::ClientContext ctx;
      auto reader = stub->Fetch(&ctx, r);
      v1::Chunk c;
      uint64_t chunks = 0;
      while (absl::Now() < end && reader->Read(&c)) {
        ++chunks;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      if (absl::Now() >= end) ctx.TryCancel();
      const grpc::Status st = reader->Finish();
      report_.Count("slow chunks read", chunks);
      if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) {
        report_.Fail(absl::StrCat("slow reader: ", st.error_message()));
      } else if (!st.ok() && absl::Now() < end) {
        report_.Count("slow streams cut");  // Printed; allowed.
      } else if (st.ok()) {
        report_.Count("slow streams completed");
      }
    }
  }

  const uint32_t seed_;
  wt::TempDir repo_;
  std::string victim_file_;
  std::unique_ptr<wt::Daemon> daemon_;
  std::unique_ptr<wt::DroppingProxy> proxy_;
  std::atomic<uint64_t> good_loads_[2] = {0, 0};
  Report report_;
};

}  // namespace
}  // namespace weightserver::soak

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs the daemon under good and hostile clients, then checks it "
      "(tests/soak/soak_main.cc).");
  absl::ParseCommandLine(argc, argv);
  weightserver::soak::Soak soak(absl::GetFlag(FLAGS_seed));
  return soak.Run(absl::Seconds(absl::GetFlag(FLAGS_duration_s)));
}
