// Copyright 2026 The Weightserver Authors.
//
// tests/integration/cache_test.cc: the cache tier on loopback. An origin
// and caches on 127.0.0.1:0 (cache/cache_repository.h behind a real
// server::Server), real clients: the bytes are the origin's, each byte
// leaves the origin once per cache, a cache survives restarts, corruption,
// a dead origin and its own eviction.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache/cache_metrics.h"
#include "cache/cache_repository.h"
#include "cli/commands.h"
#include "cli/metrics_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/auth_policy.h"
#include "server/server.h"
#include "tests/testing/client_helpers.h"
#include "tests/testing/dropping_proxy.h"
#include "tests/testing/eventually.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "tests/testing/test_pki.h"
#include "weightserver/client/client.h"
#include "weightserver/client/selection.h"
#include "weightserver/client/tensor_table.h"

namespace weightserver {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::weightserver::testing::Eventually;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::TensorBytes;

constexpr uint64_t kBlock = 256 << 10;
const char kConfig[] = "{\"model_type\": \"llama\"}\n";

// A sharded model of about `bytes` with a config.json, in `dir`.
void WriteCachedModel(const std::string& dir, const std::string& prefix,
                      uint64_t bytes) {
  std::vector<format::TensorSpec> all =
      weightserver::testing::SmallTransformer(prefix, bytes);
  std::vector<std::vector<format::TensorSpec>> shards(2);
  for (size_t i = 0; i < all.size(); ++i) shards[i % 2].push_back(all[i]);
  weightserver::testing::WriteShardedModel(dir, shards);
  weightserver::testing::WriteBytes(dir + "/config.json", kConfig);
}

// Bytes of the model's .safetensors files.
uint64_t FileBytes(const client::ModelInfo& toc) {
  uint64_t n = 0;
  for (const auto& f : toc.files) n += f.size;
  return n;
}

std::unique_ptr<server::Server> StartOrigin(const std::string& repo,
                                            uint64_t bytes_per_second = 0) {
  server::ServerOptions options;
  options.repo = repo;
  options.listen = "127.0.0.1:0";
  options.service.client_limits.max_bytes_per_second = bytes_per_second;
  auto s = server::Server::Start(options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

struct Cache {
  std::shared_ptr<cache::CacheRepository> repo;
  std::unique_ptr<server::Server> server;
  std::string address() const { return server->address(); }
};

cache::CacheOptions CacheOptionsFor(std::vector<std::string> upstreams,
                                    const std::string& dir) {
  cache::CacheOptions o;
  o.upstreams = std::move(upstreams);
  o.dir = dir;
  o.max_bytes = uint64_t{1} << 30;
  o.block_bytes = kBlock;
  o.fetch_threads = 4;
  o.readahead_blocks = 2;
  o.refresh_interval = absl::Seconds(2);
  o.upstream.failover_timeout = absl::Seconds(10);
  return o;
}

// A cache with `options`, served on 127.0.0.1:0 with `so` (TLS, policy,
// metrics as for an origin).
Cache StartCache(const cache::CacheOptions& options, server::ServerOptions so = {}) {
  Cache c;
  auto repo = cache::CacheRepository::Start(options);
  EXPECT_TRUE(repo.ok()) << repo.status();
  if (!repo.ok()) return c;
  c.repo = *std::move(repo);
  so.listen = "127.0.0.1:0";
  auto s = server::Server::Start(so, c.repo);
  EXPECT_TRUE(s.ok()) << s.status();
  if (s.ok()) c.server = *std::move(s);
  return c;
}

void StopCache(Cache& c) {
  c.server->Shutdown(absl::ZeroDuration());
  c.server.reset();
  c.repo.reset();
}

std::unique_ptr<client::Client> Connect(const std::string& address,
                                        int max_attempts = 6) {
  client::ClientOptions o;
  o.chunk_bytes = 64 << 10;
  o.split_bytes = 1 << 20;
  o.max_attempts = max_attempts;
  auto c = client::Client::Connect(address, o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

// Loads model `name` from `address` whole and checks every byte; "" when
// right, else what was wrong.
std::string LoadAndCheck(const std::string& address, const std::string& name,
                         int max_attempts = 6) {
  std::unique_ptr<client::Client> c = Connect(address, max_attempts);
  absl::StatusOr<client::ModelInfo> toc = c->GetModel(name);
  if (!toc.ok()) return std::string(toc.status().ToString());
  absl::StatusOr<client::TensorTable> m =
      weightserver::testing::LoadAll(*c, *toc);
  if (!m.ok()) return std::string(m.status().ToString());
  if (m->tensors().size() != toc->tensors.size()) return "tensors missing";
  for (const client::TensorView& t : m->tensors()) {
    if (weightserver::testing::HostBytes(t) != TensorBytes(t.name, t.size)) {
      return absl::StrCat("tensor ", t.name, ": wrong bytes");
    }
  }
  absl::StatusOr<std::string> config = c->ReadFile(*toc, "config.json");
  if (!config.ok()) return std::string(config.status().ToString());
  if (*config != kConfig) return "config.json: wrong bytes";
  return "";
}

// The revision directory of model `name` in a cache directory.
std::string RevisionDir(const std::string& cache_dir, const std::string& name) {
  for (const auto& e : fs::directory_iterator(cache_dir + "/models/" + name)) {
    return e.path().string();
  }
  return "";
}

TEST(CacheTest, TwoCachesAndACacheBehindACacheServeEightClientsEachWithEveryByteOncePerCache) {
  TempDir repo, da, db, dc;
  WriteCachedModel(repo.path() + "/m", "model.", 6 << 20);
  auto origin = StartOrigin(repo.path());
  ASSERT_NE(origin, nullptr);
  Cache a = StartCache(CacheOptionsFor({origin->address()}, da.path()));
  Cache b = StartCache(CacheOptionsFor({origin->address()}, db.path()));
  ASSERT_NE(a.server, nullptr);
  ASSERT_NE(b.server, nullptr);
  Cache c = StartCache(CacheOptionsFor({a.address()}, dc.path()));  // Zone -> node.
  ASSERT_NE(c.server, nullptr);
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, Connect(origin->address())->GetModel("m"));
  const uint64_t files = FileBytes(toc);
  const uint64_t prepared = origin->service().bytes_sent();  // Headers, config.

  std::vector<std::thread> clients;
  std::vector<std::string> errors(24);
  const std::vector<std::string> at = {a.address(), b.address(), c.address()};
  for (int i = 0; i < 24; ++i) {
    clients.emplace_back([&, i] { errors[i] = LoadAndCheck(at[i / 8], "m"); });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < 24; ++i) EXPECT_EQ(errors[i], "") << "client " << i;

  // Each cache fetched each byte of the files exactly once (headers at
  // preparation, the rest as the clients asked), however many clients.
  for (Cache* x : {&a, &b, &c}) {
    EXPECT_EQ(x->repo->stats().upstream_bytes, files);
    EXPECT_EQ(x->repo->stats().failed_fetches, 0u);
  }
  // Counted at the origin: two caches' worth (C is behind A), plus what the
  // preparations asked (headers, counted above, and the config files).
  const uint64_t extras = 2 * (sizeof(kConfig) - 1);
  EXPECT_LE(origin->service().bytes_sent(), 2 * files + extras);
  EXPECT_GE(origin->service().bytes_sent(), 2 * files);
  EXPECT_GT(prepared, 0u);
  // The same table of contents as the origin's, revision included.
  ASSERT_OK_AND_ASSIGN(client::ModelInfo via_c, Connect(c.address())->GetModel("m"));
  EXPECT_EQ(via_c.revision, toc.revision);
  EXPECT_EQ(via_c.tensors.size(), toc.tensors.size());
  EXPECT_EQ(via_c.index_metadata_json, toc.index_metadata_json);
}

TEST(CacheTest, SlicesAndBrokenStreamsWorkAsAgainstAnOrigin) {
  TempDir repo, dir;
  weightserver::testing::WriteModel(
      repo.path() + "/m", {{"w", format::DType::kF32, {256, 1024}}});
  weightserver::testing::WriteBytes(repo.path() + "/m/config.json", kConfig);
  auto origin = StartOrigin(repo.path());
  // The cache's upstream link breaks every 300 KB: ReadBytes resumes.
  weightserver::testing::DroppingProxy up(origin->address(), 300'000);
  Cache cache = StartCache(CacheOptionsFor({up.address()}, dir.path()));
  ASSERT_NE(cache.server, nullptr);
  // And the client's link to the cache breaks every 200 KB.
  weightserver::testing::DroppingProxy down(cache.address(), 200'000);
  auto c = Connect(down.address());
  auto o = Connect(origin->address());
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));
  for (int rank = 0; rank < 4; ++rank) {
    ASSERT_OK_AND_ASSIGN(client::Selection cols,
                         client::ShardDim(std::vector<uint64_t>{256, 1024}, 1, rank, 4));
    ASSERT_OK_AND_ASSIGN(client::TensorTable via_cache,
                         weightserver::testing::LoadSlices(*c, toc, {{"w", cols}}));
    ASSERT_OK_AND_ASSIGN(client::TensorTable direct,
                         weightserver::testing::LoadSlices(*o, toc, {{"w", cols}}));
    EXPECT_EQ(weightserver::testing::HostBytes(via_cache.tensors()[0]),
              weightserver::testing::HostBytes(direct.tensors()[0]))
        << "rank " << rank;
  }
  EXPECT_GT(up.drops(), 0);
  EXPECT_GT(down.drops(), 0);
  EXPECT_EQ(cache.repo->stats().upstream_bytes, FileBytes(toc));
}

TEST(CacheTest, ACacheRestartedMidFillResumesAndServesFromDisk) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 8 << 20);
  // Paced, so that the fill is still running when the cache stops.
  auto origin = StartOrigin(repo.path(), 3 << 20);
  Cache cache = StartCache(CacheOptionsFor({origin->address()}, dir.path()));
  ASSERT_NE(cache.server, nullptr);
  std::string first;
  std::thread load([&] { first = LoadAndCheck(cache.address(), "m", 1); });
  ASSERT_TRUE(Eventually([&] { return cache.repo->stats().fetched_blocks >= 4; }));
  StopCache(cache);
  load.join();
  EXPECT_NE(first, "") << "the load finished before the cache stopped";
  const uint64_t sent_before = origin->service().bytes_sent();

  cache = StartCache(CacheOptionsFor({origin->address()}, dir.path()));
  ASSERT_NE(cache.server, nullptr);
  EXPECT_EQ(LoadAndCheck(cache.address(), "m"), "");
  const cache::CacheStats s = cache.repo->stats();
  EXPECT_GE(s.verified_blocks, 4u);  // Found on disk, checked, served.
  EXPECT_EQ(s.corrupt_blocks, 0u);
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, Connect(origin->address())->GetModel("m"));
  // Only what the first run had not written came from the origin again
  // (a block in flight at the stop, at most, was fetched twice).
  EXPECT_LE(origin->service().bytes_sent(),
            FileBytes(toc) + 4 * kBlock + 2 * sizeof(kConfig));
  EXPECT_LT(origin->service().bytes_sent() - sent_before, FileBytes(toc));
}

TEST(CacheTest, ACorruptBlockOnDiskIsDetectedAndFetchedAgain) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 4 << 20);
  auto origin = StartOrigin(repo.path());
  Cache cache = StartCache(CacheOptionsFor({origin->address()}, dir.path()));
  ASSERT_EQ(LoadAndCheck(cache.address(), "m"), "");
  StopCache(cache);
  const std::string f0 = RevisionDir(dir.path(), "m") + "/f0";
  ASSERT_TRUE(fs::exists(f0));
  {
    std::fstream io(f0, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(static_cast<std::streamoff>(fs::file_size(f0) - 1000));
    const char was = static_cast<char>(io.get());
    io.seekp(static_cast<std::streamoff>(fs::file_size(f0) - 1000));
    io.put(static_cast<char>(was ^ 0x40));
  }
  const uint64_t sent = origin->service().bytes_sent();
  cache = StartCache(CacheOptionsFor({origin->address()}, dir.path()));
  EXPECT_EQ(LoadAndCheck(cache.address(), "m"), "");
  EXPECT_EQ(cache.repo->stats().corrupt_blocks, 1u);
  const uint64_t again = origin->service().bytes_sent() - sent;
  EXPECT_GT(again, 0u);
  EXPECT_LE(again, kBlock);
}

TEST(CacheTest, AClientFinishesWhenTheOriginDiesAndAReplicaIsUp) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 8 << 20);
  auto first = StartOrigin(repo.path(), 3 << 20);  // Paced: ~2 s.
  auto second = StartOrigin(repo.path());
  Cache cache = StartCache(
      CacheOptionsFor({first->address(), second->address()}, dir.path()));
  ASSERT_NE(cache.server, nullptr);
  std::string error = "not run";
  // One attempt: an error the cache let through would fail the load.
  std::thread load([&] { error = LoadAndCheck(cache.address(), "m", 1); });
  ASSERT_TRUE(Eventually([&] { return cache.repo->stats().fetched_blocks >= 3; }));
  first->Shutdown(absl::ZeroDuration());
  first.reset();
  load.join();
  EXPECT_EQ(error, "");
  EXPECT_GE(cache.repo->stats().failovers, 1u);
  EXPECT_GT(second->service().bytes_sent(), 0u);
}

TEST(CacheTest, WithoutAnOriginCachedModelsAreServedAndUncachedOnesUnavailable) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/full", "model.", 2 << 20);
  WriteCachedModel(repo.path() + "/cold", "model.", 2 << 20);
  auto origin = StartOrigin(repo.path());
  cache::CacheOptions options = CacheOptionsFor({origin->address()}, dir.path());
  options.upstream.failover_timeout = absl::Seconds(1);
  Cache cache = StartCache(options);
  ASSERT_EQ(LoadAndCheck(cache.address(), "full"), "");
  origin->Shutdown(absl::ZeroDuration());
  origin.reset();

  auto check_offline = [&](const std::string& when) {
    EXPECT_EQ(LoadAndCheck(cache.address(), "full", 2), "") << when;
    auto c = Connect(cache.address(), 1);
    ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("cold"));
    absl::StatusOr<client::TensorTable> m = weightserver::testing::LoadAll(*c, toc);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kUnavailable)
        << when << ": " << m.status();
    EXPECT_THAT(m.status().message(), HasSubstr("no upstream answered")) << when;
  };
  check_offline("running");
  // Restarted with no origin: the catalog and the bytes come from disk.
  StopCache(cache);
  cache = StartCache(options);
  ASSERT_NE(cache.server, nullptr);
  EXPECT_NE(cache.repo->stats().last_refresh_error, "");
  ASSERT_OK_AND_ASSIGN(std::vector<client::ModelSummary> list,
                       Connect(cache.address())->ListModels());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "cold");
  EXPECT_EQ(list[1].name, "full");
  check_offline("restarted");
}

TEST(CacheTest, EvictionUnderASmallBudgetNeverBreaksARunningStream) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/old", "model.", 3 << 20);
  WriteCachedModel(repo.path() + "/new", "model.", 8 << 20);
  auto origin = StartOrigin(repo.path(), 3 << 19);  // Paced: a slow fill.
  cache::CacheOptions options = CacheOptionsFor({origin->address()}, dir.path());
  options.max_bytes = 1 << 20;  // Less than either model.
  // A load is several calls per stream; between two, for a moment, no
  // stream holds the model: the grace covers that, not the stream.
  options.evict_grace = absl::Seconds(1);
  Cache cache = StartCache(options);
  ASSERT_EQ(LoadAndCheck(cache.address(), "old"), "");
  const std::string new_dir = RevisionDir(dir.path(), "new");

  std::atomic<bool> loading{true};
  std::string error = "not run";
  std::thread load([&] {
    error = LoadAndCheck(cache.address(), "new", 1);
    loading = false;
  });
  const uint64_t fetched = cache.repo->stats().upstream_bytes;
  ASSERT_TRUE(Eventually([&] {
    return cache.repo->stats().upstream_bytes > fetched + (1 << 20) || !loading;
  }));
  // The copy being streamed keeps its file (an eviction would remove it,
  // and a preparation again would make a new one).
  struct stat first;
  ASSERT_EQ(stat((new_dir + "/f0").c_str(), &first), 0);
  size_t rounds = 0;
  while (loading) {
    cache.repo->EvictNow();
    struct stat now;
    if (loading) {
      ++rounds;  // An eviction that ran while the stream did.
      ASSERT_EQ(stat((new_dir + "/f0").c_str(), &now), 0);
      EXPECT_EQ(now.st_ino, first.st_ino) << "evicted while streaming";
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  load.join();
  EXPECT_EQ(error, "");
  EXPECT_GE(rounds, 1u);
  // "old", not in use, was evicted (and prepared again: headers only).
  EXPECT_GE(cache.repo->stats().evicted_revisions, 1u);
  EXPECT_LT(cache.repo->stats().disk_bytes, uint64_t{5} << 20);
  // Once its stream is over, "new" goes too; it stays listed and loads again.
  absl::SleepFor(absl::Milliseconds(1100));
  cache.repo->EvictNow();
  struct stat after;
  ASSERT_EQ(stat((new_dir + "/f0").c_str(), &after), 0);
  EXPECT_NE(after.st_ino, first.st_ino);
  EXPECT_LT(cache.repo->stats().disk_bytes, options.max_bytes);
  EXPECT_EQ(LoadAndCheck(cache.address(), "new"), "");
  EXPECT_EQ(LoadAndCheck(cache.address(), "old"), "");
}

TEST(CacheTest, PrefetchWarmsACacheBeforeTheWorkersStart) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 4 << 20);
  auto origin = StartOrigin(repo.path());
  Cache cache = StartCache(CacheOptionsFor({origin->address()}, dir.path()));
  ASSERT_NE(cache.server, nullptr);
  std::ostringstream out, err;
  const int rc = cli::RunWeightctl(
      {"--server", cache.address(), "prefetch", "m"}, cli::CliEnvironment{}, out, err);
  ASSERT_EQ(rc, 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("prefetched 'm': 2 files"));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, Connect(cache.address())->GetModel("m"));
  EXPECT_EQ(cache.repo->stats().upstream_bytes, FileBytes(toc));
  // The workers then load from the node alone.
  origin->Shutdown(absl::ZeroDuration());
  origin.reset();
  EXPECT_EQ(LoadAndCheck(cache.address(), "m"), "");
  // A model URI names the cache too; an unknown model is NOT_FOUND (exit 1).
  std::ostringstream out2, err2;
  EXPECT_EQ(cli::RunWeightctl(
                {"prefetch", absl::StrCat("weightserver://", cache.address(), "/nope")},
                cli::CliEnvironment{}, out2, err2),
            1);
  EXPECT_THAT(err2.str(), HasSubstr("prefetch 'nope'"));
}

// TLS and tokens on both sides: the origin requires mutual TLS and a token
// from the cache, the cache requires TLS and another token from its workers.
TEST(CacheTest, TlsAndTokensApplyOnBothSidesOfACache) {
  TempDir repo, dir, pki;
  ASSERT_OK(weightserver::testing::MakeTestPki(pki.path()));
  WriteCachedModel(repo.path() + "/m", "model.", 2 << 20);
  auto policy = [&](const std::string& name, const std::string& token) {
    const std::string path = pki.path() + "/" + name + ".json";
    weightserver::testing::WriteBytes(
        path, R"({"identities": [{"name": ")" + name + R"(", "token_sha256": [")" +
                  server::Sha256Hex(token) + R"("], "models": ["*"]}]})");
    return path;
  };
  server::ServerOptions o;
  o.repo = repo.path();
  o.listen = "127.0.0.1:0";
  o.tls.cert_file = pki.path() + "/server.pem";
  o.tls.key_file = pki.path() + "/server.key";
  o.tls.client_ca_file = pki.path() + "/ca.pem";
  o.service.auth_file = policy("cache", "token-cache");
  ASSERT_OK_AND_ASSIGN(auto origin, server::Server::Start(o));

  auto start = [&](const std::string& token, const std::string& cache_dir) {
    cache::CacheOptions c = CacheOptionsFor({origin->address()}, cache_dir);
    c.upstream.failover_timeout = absl::Seconds(1);
    c.upstream.client.tls = true;
    c.upstream.client.tls_ca_file = pki.path() + "/ca.pem";
    c.upstream.client.tls_cert_file = pki.path() + "/client.pem";
    c.upstream.client.tls_key_file = pki.path() + "/client.key";
    c.upstream.client.token = token;
    server::ServerOptions so;
    so.tls.cert_file = pki.path() + "/server.pem";
    so.tls.key_file = pki.path() + "/server.key";
    so.service.auth_file = policy("worker", "token-worker");
    return StartCache(c, so);
  };
  auto worker = [&](const Cache& cache, const std::string& token) {
    client::ClientOptions w;
    w.tls = true;
    w.tls_ca_file = pki.path() + "/ca.pem";
    w.token = token;
    w.max_attempts = 1;
    return client::Client::Connect(cache.address(), w);
  };

  Cache good = start("token-cache", dir.path() + "/good");
  ASSERT_NE(good.server, nullptr);
  ASSERT_OK_AND_ASSIGN(auto c, worker(good, "token-worker"));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));
  ASSERT_OK_AND_ASSIGN(client::TensorTable t, weightserver::testing::LoadAll(*c, toc));
  for (const client::TensorView& v : t.tensors()) {
    EXPECT_EQ(weightserver::testing::HostBytes(v), TensorBytes(v.name, v.size));
  }
  EXPECT_EQ(good.repo->stats().upstream_bytes, FileBytes(toc));
  // The cache's own policy: the origin's token is not a worker's.
  ASSERT_OK_AND_ASSIGN(auto intruder, worker(good, "token-cache"));
  EXPECT_THAT(intruder->ListModels().status(),
              StatusIs(absl::StatusCode::kUnauthenticated));

  // A cache with a token the origin does not know has no models, and says why.
  Cache bad = start("token-wrong", dir.path() + "/bad");
  ASSERT_NE(bad.server, nullptr);
  EXPECT_THAT(bad.repo->stats().last_refresh_error,
              HasSubstr("unknown bearer token"));
  ASSERT_OK_AND_ASSIGN(auto c2, worker(bad, "token-worker"));
  EXPECT_THAT(c2->GetModel("m").status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST(CacheTest, ItsCountersAreOnTheMetricsEndpoint) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 2 << 20);
  auto origin = StartOrigin(repo.path());
  server::ServerOptions so;
  so.metrics_listen = "127.0.0.1:0";
  Cache started = StartCache(CacheOptionsFor({origin->address()}, dir.path()), so);
  ASSERT_NE(started.server, nullptr);
  std::shared_ptr<cache::CacheRepository> cache = started.repo;
  server::Server* server = started.server.get();
  cache::ExportCacheMetrics(cache, server->metrics());
  ASSERT_EQ(LoadAndCheck(server->address(), "m"), "");
  ASSERT_OK_AND_ASSIGN(std::vector<cli::MetricSample> s,
                       cli::ParseMetricsText(server->metrics()->Scrape()));
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, Connect(origin->address())->GetModel("m"));
  EXPECT_EQ(cli::SumSamples(s, "weightserver_cache_upstream_bytes_total", {}),
            static_cast<double>(FileBytes(toc)));
  EXPECT_EQ(cli::SumSamples(s, "weightserver_cache_blocks_total",
                            {{"result", "fetched"}}),
            static_cast<double>(cache->stats().fetched_blocks));
  EXPECT_GT(cli::SumSamples(s, "weightserver_cache_blocks_total",
                            {{"result", "fetched"}}), 0);
  EXPECT_EQ(cli::SumSamples(s, "weightserver_cache_revisions", {}), 1);
  EXPECT_GE(cli::SumSamples(s, "weightserver_cache_disk_bytes", {}),
            static_cast<double>(FileBytes(toc)));
  EXPECT_EQ(cli::SumSamples(s, "weightserver_cache_max_disk_bytes", {}),
            static_cast<double>(uint64_t{1} << 30));
  EXPECT_GE(cli::SumSamples(s, "weightserver_cache_refreshes_total",
                            {{"result", "ok"}}), 1);
  // The service's own metrics count the cache's clients as an origin's.
  EXPECT_GT(cli::SumSamples(s, "weightserver_sent_bytes_total",
                            {{"method", "Fetch"}}), 0);
  StopCache(started);
}

TEST(CacheTest, OneDaemonPerCacheDirectory) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 1 << 20);
  auto origin = StartOrigin(repo.path());
  ASSERT_OK_AND_ASSIGN(auto first, cache::CacheRepository::Start(
                                       CacheOptionsFor({origin->address()}, dir.path())));
  EXPECT_THAT(cache::CacheRepository::Start(
                  CacheOptionsFor({origin->address()}, dir.path() + "/")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in use by another weightserver")));
  first.reset();
  EXPECT_OK(cache::CacheRepository::Start(
                CacheOptionsFor({origin->address()}, dir.path()))
                .status());
}

// With the origin gone, a small budget evicts nothing the cache could not
// fetch again: every model on disk stays servable.
TEST(CacheTest, WithoutAnUpstreamNothingCurrentIsEvicted) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 3 << 20);
  auto origin = StartOrigin(repo.path());
  cache::CacheOptions options = CacheOptionsFor({origin->address()}, dir.path());
  options.upstream.failover_timeout = absl::Seconds(1);
  Cache cache = StartCache(options);
  ASSERT_EQ(LoadAndCheck(cache.address(), "m"), "");
  StopCache(cache);
  origin->Shutdown(absl::ZeroDuration());
  origin.reset();
  options.max_bytes = 1 << 20;
  options.evict_grace = absl::ZeroDuration();
  cache = StartCache(options);
  ASSERT_NE(cache.server, nullptr);
  EXPECT_EQ(cache.repo->EvictNow(), 0u);
  EXPECT_EQ(cache.repo->stats().evicted_revisions, 0u);
  EXPECT_EQ(LoadAndCheck(cache.address(), "m", 2), "");
}

// An upstream that refuses the cache (its token revoked) reaches the
// cache's clients as UNAVAILABLE, not as a refusal of their own call.
TEST(CacheTest, AnUpstreamRefusingTheCacheIsUnavailableToItsClients) {
  TempDir repo, dir;
  WriteCachedModel(repo.path() + "/m", "model.", 2 << 20);
  const std::string policy = dir.path() + "/policy.json";
  auto write_policy = [&](const std::string& token) {
    weightserver::testing::WriteBytes(policy + ".tmp",
        R"({"identities": [{"name": "cache", "token_sha256": [")" +
            server::Sha256Hex(token) + R"("], "models": ["*"]}]})");
    std::rename((policy + ".tmp").c_str(), policy.c_str());
  };
  write_policy("token-cache");
  server::ServerOptions o;
  o.repo = repo.path();
  o.listen = "127.0.0.1:0";
  o.service.auth_file = policy;
  o.service.auth_reload_interval = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(auto origin, server::Server::Start(o));
  cache::CacheOptions options = CacheOptionsFor({origin->address()}, dir.path() + "/c");
  options.upstream.client.token = "token-cache";
  options.upstream.failover_timeout = absl::Seconds(1);
  Cache cache = StartCache(options);
  ASSERT_NE(cache.server, nullptr);
  auto c = Connect(cache.address(), 1);
  ASSERT_OK_AND_ASSIGN(client::ModelInfo toc, c->GetModel("m"));
  write_policy("another-token");  // The origin no longer knows the cache.
  absl::SleepFor(absl::Milliseconds(500));
  absl::StatusOr<client::TensorTable> t = weightserver::testing::LoadAll(*c, toc);
  EXPECT_THAT(t.status(), StatusIs(absl::StatusCode::kUnavailable,
                                   HasSubstr("the cache's upstream failed")));
  EXPECT_THAT(t.status().message(), HasSubstr("unknown bearer token"));
}

}  // namespace
}  // namespace weightserver
