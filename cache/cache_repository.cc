// Copyright 2026 The Weightserver Authors.
//
// cache/cache_repository.cc
#include "cache/cache_repository.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "format/header.h"
#include "util/errno_status.h"
#include "util/file_io.h"
#include "util/log.h"
#include "util/small_file.h"
#include "util/status_macros.h"
#include "wire/model_info.h"

namespace weightserver::cache {
namespace fs = std::filesystem;
namespace {

// Larger files listed by an upstream are refused (no safetensors file is
// near it; the block map of one costs ~5 bytes per block in memory).
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 44;  // 16 TiB.

// What a stream waiting for a block sees of an upstream's failure: a
// changed model and a full disk as they are; a model gone upstream as
// changed; anything else (the cache's credentials refused, ...) as
// UNAVAILABLE, the cause in the message: never a status that blames the
// client's request or credentials.
absl::Status AsStreamStatus(absl::Status s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
      return s;
    case absl::StatusCode::kNotFound:
      return absl::FailedPreconditionError(absl::StrCat(
          "the upstream no longer serves this revision: ", s.message()));
    default:
      return absl::UnavailableError(
          absl::StrCat("the cache's upstream failed: ", s.message()));
  }
}

std::shared_ptr<const server::Model> Unservable(const std::string& name,
                                                std::string error) {
  auto m = std::make_shared<server::Model>();
  m->name = name;
  m->error = std::move(error);
  return m;
}

}  // namespace

std::string EscapePathComponent(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool plain = absl::ascii_isalnum(c) || c == '-' || c == '_' ||
                       (c == '.' && i > 0);
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out.empty() ? "%" : out;
}

struct CacheRepository::Revision {
  std::string dir;
  std::shared_ptr<const client::ModelInfo> info;
  std::vector<std::shared_ptr<CachedFile>> files;
  uint64_t extra_bytes = 0;
  std::shared_ptr<const server::Model> model;

  int64_t LastUsedNs() const {
    int64_t t = 0;
    for (const auto& f : files) t = std::max(t, f->last_used_ns());
    return t;
  }
  uint64_t DiskBytes() const {
    uint64_t n = extra_bytes;
    for (const auto& f : files) n += f->disk_bytes();
    return n;
  }
  // What evicting its weights frees: the blocks on disk past the headers.
  uint64_t WeightBytes() const {
    uint64_t n = 0;
    for (const auto& f : files) {
      n += f->disk_bytes() - std::min(f->disk_bytes(), f->spec().header_end);
    }
    return n;
  }
};

absl::StatusOr<std::shared_ptr<CacheRepository>> CacheRepository::Start(
    CacheOptions options) {
  if (options.dir.empty() || options.max_bytes == 0 ||
      options.block_bytes < (64 << 10) || options.block_bytes > (256 << 20) ||
      options.fetch_threads < 1 || options.readahead_blocks < 0) {
    return absl::InvalidArgumentError(
        "cache options: need a cache directory, a cache size > 0, a block "
        "size of 64 KiB .. 256 MiB, fetch threads >= 1, read-ahead >= 0");
  }
  while (options.dir.size() > 1 && options.dir.back() == '/') {
    options.dir.pop_back();  // Paths are compared as strings (LoadFromDisk).
  }
  std::error_code ec;
  fs::create_directories(options.dir + "/models", ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cache directory ", options.dir, ": ", ec.message()));
  }
  // One daemon per directory: a second would truncate the first's copies.
  const std::string lock_path = options.dir + "/lock";
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return ErrnoStatus(errno, "open", lock_path);
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    close(lock_fd);
    if (e == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cache directory ", options.dir,
          " is in use by another weightserver (", lock_path, " is locked)"));
    }
    return ErrnoStatus(e, "lock", lock_path);
  }
  // A cache reaches its upstream quickly or moves on (upstream.h): few
  // tries per address, short waits.
  options.upstream.client.max_attempts =
      std::min(options.upstream.client.max_attempts, 2);
  options.upstream.client.unary_timeout =
      std::min(options.upstream.client.unary_timeout, absl::Seconds(10));
  // And one call for a block never outlasts the failover: a blackholed
  // upstream (no reset, no answer) fails the call at its deadline.
  options.upstream.client.fetch_timeout = std::min(
      options.upstream.client.fetch_timeout, options.upstream.failover_timeout);
  absl::StatusOr<std::unique_ptr<Upstream>> upstream =
      Upstream::Connect(options.upstreams, options.upstream);
  if (!upstream.ok()) {
    close(lock_fd);
    return upstream.status();
  }
  std::shared_ptr<CacheRepository> cache(
      new CacheRepository(std::move(options), *std::move(upstream)));
  cache->lock_fd_ = lock_fd;
  cache->LoadFromDisk();
  if (absl::Status s = cache->RefreshNow(); !s.ok()) {
    LOG(WARNING) << "cache: the upstream's models could not be listed ("
                 << s.message() << "); serving the " << cache->Snapshot()->models().size()
                 << " models on disk until it answers";
  }
  cache->thread_ = std::thread([c = cache.get()] { c->Run(); });
  return cache;
}

CacheRepository::CacheRepository(CacheOptions options,
                                 std::unique_ptr<Upstream> upstream)
    : options_(std::move(options)),
      upstream_(std::move(upstream)),
      pool_(std::make_unique<TaskPool>(options_.fetch_threads)),
      current_(server::ModelRepository::FromModels({})) {}

CacheRepository::~CacheRepository() {
  {
    MutexLock lock(&stop_mu_);
    stop_ = true;
  }
  stop_cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  pool_.reset();  // Drops the fetches queued (their streams are gone).
  if (lock_fd_ >= 0) close(lock_fd_);
}

std::shared_ptr<const server::ModelRepository> CacheRepository::Snapshot() const {
  MutexLock lock(&mu_);
  return current_;
}

std::shared_ptr<const server::Model> CacheRepository::Find(
    absl::string_view name) {
  if (auto m = Snapshot()->Find(name)) return m;
  // A model published upstream since the last refresh: ask now, unless a
  // refresh ended less than a second ago (or failed less than
  // refresh_interval ago), or one ended while this call waited for the
  // refresh lock (calls that miss at once share one refresh).
  const absl::Time asked = absl::Now();
  auto stale = [this, asked] {
    MutexLock lock(&mu_);
    const absl::Duration since = absl::Now() - last_refresh_end_;
    return last_refresh_end_ < asked && since >= absl::Seconds(1) &&
           (last_refresh_error_.empty() || since >= options_.refresh_interval);
  };
  if (!stale()) return nullptr;
  {
    MutexLock lock(&refresh_mu_);
    if (stale()) Refresh().IgnoreError();
  }
  return Snapshot()->Find(name);
}

std::string CacheRepository::RevisionDir(const std::string& name,
                                         const std::string& revision) const {
  return absl::StrCat(options_.dir, "/models/", EscapePathComponent(name), "/",
                      EscapePathComponent(revision));
}

absl::StatusOr<std::shared_ptr<CacheRepository::Revision>>
CacheRepository::OpenRevision(std::shared_ptr<const client::ModelInfo> info,
                              const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("create ", dir, ": ", ec.message()));
  }
  auto rev = std::make_shared<Revision>();
  rev->dir = dir;
  rev->info = info;
  auto model = std::make_shared<server::Model>();
  model->name = info->name;
  model->revision = info->revision;
  model->sharded = info->sharded;
  model->index_metadata_json = info->index_metadata_json;
  for (size_t i = 0; i < info->files.size(); ++i) {
    const client::ModelFile& f = info->files[i];
    const std::string label =
        absl::StrCat("model '", info->name, "' file '", f.name, "'");
    if (f.size > kMaxFileBytes) {
      return absl::DataLossError(absl::StrCat(
          label, ": the upstream lists a file of ", f.size,
          " bytes, over the cache's limit of ", kMaxFileBytes));
    }
    if (f.header_size > format::kMaxHeaderSize ||
        f.header_size + format::kHeaderPrefixSize > f.size) {
      return absl::DataLossError(absl::StrCat(
          label, ": the upstream lists a header of ", f.header_size,
          " bytes in a file of ", f.size));
    }
    CachedFileSpec spec;
    spec.path = absl::StrCat(dir, "/f", i);
    spec.label = label;
    spec.size = f.size;
    spec.header_end = format::kHeaderPrefixSize + f.header_size;
    spec.block_bytes = options_.block_bytes;
    spec.readahead = options_.readahead_blocks;
    spec.fetch = [up = upstream_.get(), info, name = f.name](
                     uint64_t offset, absl::Span<std::byte> destination) {
      return AsStreamStatus(up->ReadBytes(*info, name, offset, destination));
    };
    ASSIGN_OR_RETURN(std::shared_ptr<CachedFile> copy,
                     CachedFile::Open(std::move(spec), pool_.get(), &counters_));
    RETURN_IF_ERROR(copy->MakePresent(0, copy->spec().header_end));
    // Validated as an origin validates its files (format/).
    absl::Span<const std::byte> bytes = copy->mapped()->bytes();
    ASSIGN_OR_RETURN(uint64_t n, format::ParseHeaderLength(bytes.first(8),
                                                           f.size, label));
    if (n != f.header_size) {
      return absl::DataLossError(absl::StrCat(
          label, ": header of ", n, " bytes, the upstream lists ", f.header_size));
    }
    ASSIGN_OR_RETURN(format::Header header,
                     format::ParseHeader(bytes.subspan(8, n), f.size, label));
    const auto file_index = static_cast<uint32_t>(model->files.size());
    for (size_t t = 0; t < header.tensors.size(); ++t) {
      const format::TensorInfo& info_t = header.tensors[t];
      auto [it, inserted] = model->tensors.try_emplace(
          info_t.name, server::TensorLocation{file_index, static_cast<uint32_t>(t)});
      if (!inserted) {
        return absl::DataLossError(absl::StrCat(
            "tensor '", absl::CHexEscape(info_t.name), "' is in two files of model '",
            info->name, "'"));
      }
      model->total_tensor_bytes += info_t.size();
    }
    model->tensor_count += header.tensors.size();
    model->files.push_back(server::ServedFile{
        .name = f.name, .file = copy->mapped(), .header = std::move(header),
        .lazy = copy});
    rev->files.push_back(std::move(copy));
  }
  if (model->tensor_count != info->tensors.size()) {
    return absl::DataLossError(absl::StrCat(
        "model '", info->name, "': the upstream's table lists ",
        info->tensors.size(), " tensors, its headers hold ", model->tensor_count));
  }
  for (size_t i = 0; i < info->extra_files.size(); ++i) {
    const client::ExtraFile& e = info->extra_files[i];
    if (e.size > options_.max_extra_file_bytes) {
      LOG(INFO) << "cache: model '" << info->name << "': extra file '" << e.name
                << "' of " << e.size << " bytes is over max_extra_file_bytes; "
                << "not served";
      continue;
    }
    const std::string path = absl::StrCat(dir, "/x", i);
    absl::StatusOr<server::FileIdentity> id = server::StatIdentity(path);
    if (!id.ok() || id->size != e.size) {
      ASSIGN_OR_RETURN(std::string bytes, upstream_->ReadFile(*info, e.name));
      RETURN_IF_ERROR(WriteFileAtomically(path, bytes));
      ASSIGN_OR_RETURN(id, server::StatIdentity(path));
    }
    rev->extra_bytes += id->size;
    model->extra_files.push_back(server::ServedExtraFile{e.name, path, *id});
  }
  const std::string toc = dir + "/toc.pb";
  if (!fs::exists(toc, ec)) {
    RETURN_IF_ERROR(WriteFileAtomically(
        toc, wire::ModelInfoToProto(*info).SerializeAsString()));
  }
  rev->model = std::move(model);
  return rev;
}

void CacheRepository::LoadFromDisk() {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, std::shared_ptr<Revision>>> found;
  for (const fs::directory_entry& m :
       fs::directory_iterator(options_.dir + "/models", ec)) {
    std::error_code ec2;
    for (const fs::directory_entry& r : fs::directory_iterator(m.path(), ec2)) {
      const std::string dir = r.path().string();
      const std::string toc_path = dir + "/toc.pb";
      absl::StatusOr<std::string> bytes = ReadSmallFile(toc_path, 256 << 20);
      v1::Model proto;
      if (!bytes.ok() || !proto.ParseFromString(*bytes)) {
        LOG(WARNING) << "cache: " << dir << " has no readable table of "
                     << "contents (a preparation cut short); removing it";
        fs::remove_all(dir, ec2);
        continue;
      }
      auto info = std::make_shared<const client::ModelInfo>(
          wire::ModelInfoFromProto(proto));
      if (RevisionDir(info->name, info->revision) != dir) {
        LOG(WARNING) << "cache: " << dir << " holds model '" << info->name
                     << "' at " << info->revision << "; not ours, skipped";
        continue;
      }
      absl::StatusOr<std::shared_ptr<Revision>> rev = OpenRevision(info, dir);
      if (!rev.ok()) {
        LOG(WARNING) << "cache: " << dir << ": " << rev.status().message()
                     << "; removing it";
        fs::remove_all(dir, ec2);
        continue;
      }
      found.emplace_back(fs::last_write_time(toc_path, ec2), *std::move(rev));
    }
  }
  // The catalog until the upstream answers: per model, its newest revision.
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::shared_ptr<const server::Model>> models;
  absl::flat_hash_map<std::string, bool> named;
  {
    MutexLock lock(&mu_);
    for (auto& [when, rev] : found) {
      if (named.emplace(rev->model->name, true).second) models.push_back(rev->model);
      revisions_[rev->dir] = rev;
    }
  }
  if (!found.empty()) {
    LOG(INFO) << "cache: " << found.size() << " model revisions on disk in "
              << options_.dir;
  }
  Publish(std::move(models));
}

void CacheRepository::Publish(
    std::vector<std::shared_ptr<const server::Model>> models) {
  std::shared_ptr<const server::ModelRepository> next =
      server::ModelRepository::FromModels(models);
  MutexLock lock(&mu_);
  current_models_ = std::move(models);
  current_ = std::move(next);
}

absl::Status CacheRepository::RefreshNow() {
  MutexLock lock(&refresh_mu_);
  return Refresh();
}

absl::Status CacheRepository::Refresh() {
  {
    MutexLock lock(&mu_);
    last_refresh_attempt_ = absl::Now();
  }
  absl::StatusOr<std::vector<client::ModelSummary>> list = upstream_->ListModels();
  if (!list.ok()) {
    MutexLock lock(&mu_);
    ++failed_refreshes_;
    last_refresh_error_ = std::string(list.status().message());
    last_refresh_end_ = absl::Now();
    return list.status();
  }
  std::vector<std::shared_ptr<const server::Model>> models;
  for (const client::ModelSummary& s : *list) {
    if (!s.error.empty()) {
      models.push_back(Unservable(s.name, s.error));
      continue;
    }
    std::shared_ptr<Revision> rev;
    {
      MutexLock lock(&mu_);
      auto it = revisions_.find(RevisionDir(s.name, s.revision));
      if (it != revisions_.end()) rev = it->second;
    }
    if (rev == nullptr) {
      absl::StatusOr<client::ModelInfo> info = upstream_->GetModel(s.name);
      absl::Status status = info.status();
      if (info.ok()) {
        const std::string dir = RevisionDir(info->name, info->revision);
        {
          MutexLock lock(&mu_);
          auto it = revisions_.find(dir);
          if (it != revisions_.end()) rev = it->second;
        }
        if (rev == nullptr) {
          absl::StatusOr<std::shared_ptr<Revision>> opened = OpenRevision(
              std::make_shared<const client::ModelInfo>(*std::move(info)), dir);
          status = opened.status();
          if (opened.ok()) {
            rev = *std::move(opened);
            MutexLock lock(&mu_);
            revisions_[dir] = rev;
          } else {
            std::error_code ec;
            fs::remove_all(dir, ec);
          }
        }
      }
      if (rev == nullptr) {
        LOG(WARNING) << "cache: model '" << s.name << "': " << status.message();
        models.push_back(Unservable(
            s.name, absl::StrCat("the cache could not prepare it: ",
                                 status.message())));
        continue;
      }
    }
    models.push_back(rev->model);
  }
  Publish(std::move(models));
  MutexLock lock(&mu_);
  ++refreshes_;
  last_refresh_error_.clear();
  last_refresh_end_ = absl::Now();
  return absl::OkStatus();
}

size_t CacheRepository::EvictNow() {
  MutexLock lock(&refresh_mu_);
  return Evict();
}

size_t CacheRepository::Evict() {
  struct Candidate {
    std::shared_ptr<Revision> rev;
    bool current;
    int64_t last_used;
    uint64_t bytes;  // What evicting it frees.
  };
  std::vector<Candidate> candidates;
  uint64_t total = 0;
  {
    MutexLock lock(&mu_);
    // While the upstream cannot be reached, a current model evicted could
    // not be prepared again: only revisions it no longer lists go.
    const bool upstream_down = !last_refresh_error_.empty();
    for (const auto& entry : revisions_) {
      const std::shared_ptr<Revision>& rev = entry.second;
      const bool current = std::any_of(
          current_models_.begin(), current_models_.end(),
          [&](const auto& m) { return m == rev->model; });
      total += rev->DiskBytes();
      // A current model keeps its headers and extra files: evicting one
      // that holds less than a block of weights would free nothing and
      // fetch its headers again.
      const uint64_t gain = current ? rev->WeightBytes() : rev->DiskBytes();
      if (current && (upstream_down || gain < options_.block_bytes)) continue;
      candidates.push_back({rev, current, rev->LastUsedNs(), gain});
    }
  }
  if (total <= options_.max_bytes) return 0;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) {
              return std::tie(a.current, a.last_used) <
                     std::tie(b.current, b.last_used);
            });
  const int64_t recent =
      absl::ToUnixNanos(absl::Now() - options_.evict_grace);
  size_t evicted = 0;
  std::vector<std::shared_ptr<Revision>> reprepare;
  for (Candidate& c : candidates) {
    if (total <= options_.max_bytes) break;
    if (c.last_used > recent) continue;
    {
      MutexLock lock(&mu_);
      // Held by revisions_, and when current by current_models_ and the
      // snapshot; one more reference is a stream (or a call) using it.
      const long known = c.current ? 3 : 1;
      if (c.rev->model.use_count() > known) continue;
      revisions_.erase(c.rev->dir);
      ++evicted_;
    }
    LOG(INFO) << "cache: evicting model '" << c.rev->model->name << "' at "
              << c.rev->model->revision << " (" << c.bytes << " bytes, "
              << total << " of max " << options_.max_bytes << " held)";
    std::error_code ec;
    if (c.current) {
      // Only the weights: the extra files and the table stay (small), so
      // that the copy prepared again below has the same extra files, and a
      // ReadFile of the evicted copy's still reads the bytes it listed.
      for (size_t i = 0; i < c.rev->files.size(); ++i) {
        fs::remove(c.rev->files[i]->spec().path, ec);
        fs::remove(c.rev->files[i]->spec().path + ".map", ec);
      }
      reprepare.push_back(c.rev);
    } else {
      fs::remove_all(c.rev->dir, ec);
    }
    total -= std::min(total, c.bytes);
    ++evicted;
  }
  // A model the upstream still lists stays in the catalog: an empty copy
  // (its headers fetched again) replaces the evicted one, so that a client
  // never finds it missing (until then the catalog keeps the evicted one,
  // whose open files still serve). Without an upstream it goes.
  for (const std::shared_ptr<Revision>& old : reprepare) {
    absl::StatusOr<std::shared_ptr<Revision>> fresh =
        OpenRevision(old->info, old->dir);
    if (!fresh.ok()) {
      LOG(WARNING) << "cache: model '" << old->model->name
                   << "' evicted and not prepared again: "
                   << fresh.status().message();
      std::error_code ec;
      fs::remove_all(old->dir, ec);
    }
    MutexLock lock(&mu_);
    if (fresh.ok()) revisions_[old->dir] = *fresh;
    for (auto& m : current_models_) {
      if (m == old->model && fresh.ok()) m = (*fresh)->model;
    }
    if (!fresh.ok()) std::erase(current_models_, old->model);
    current_ = server::ModelRepository::FromModels(current_models_);
  }
  return evicted;
}

CacheStats CacheRepository::stats() const {
  CacheStats s;
  s.upstream_bytes = counters_.upstream_bytes.load();
  s.fetched_blocks = counters_.fetched_regions.load();
  s.verified_blocks = counters_.verified_regions.load();
  s.corrupt_blocks = counters_.corrupt_regions.load();
  s.failed_fetches = counters_.failed_fetches.load();
  s.waits = counters_.waits.load();
  s.failovers = upstream_->failovers();
  MutexLock lock(&mu_);
  for (const auto& [dir, rev] : revisions_) s.disk_bytes += rev->DiskBytes();
  s.revisions = revisions_.size();
  s.evicted_revisions = evicted_;
  s.refreshes = refreshes_;
  s.failed_refreshes = failed_refreshes_;
  s.last_refresh_error = last_refresh_error_;
  return s;
}

void CacheRepository::Run() {
  absl::Time next_refresh = absl::Now() + options_.refresh_interval;
  for (;;) {
    {
      MutexLock lock(&stop_mu_);
      if (!stop_) stop_cv_.WaitWithTimeout(&stop_mu_, absl::Seconds(1));
      if (stop_) return;
    }
    if (absl::Now() >= next_refresh) {
      if (absl::Status s = RefreshNow(); !s.ok()) {
        LOG(WARNING) << "cache: refresh from the upstream failed: " << s.message();
      }
      next_refresh = absl::Now() + options_.refresh_interval;
    }
    EvictNow();
  }
}

}  // namespace weightserver::cache
