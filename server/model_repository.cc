// Copyright 2026 The Weightserver Authors.
//
// server/model_repository.cc: walking the root and building the catalog.
#include "server/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/hf_cache.h"
#include "util/log.h"

namespace weightserver::server {
namespace fs = std::filesystem;
namespace {

bool Reusable(const Model& model, const std::string& key) {
  if (!model.servable() || model.scan_key != key) return false;
  for (const ServedFile& f : model.files) {
    if (f.file->Poisoned()) return false;  // Validate and map it again.
  }
  return true;
}

// Builds the catalog of one scan: loads each model directory, or takes the
// previous scan's model over when its directory is unchanged.
class CatalogBuilder {
 public:
  CatalogBuilder(const std::string& root, const RepositoryOptions& options,
                 const ModelRepository* previous)
      : root_(root), options_(options), previous_(previous) {}

  // The model of directory `dir` (absolute) named `name`, whose
  // *.safetensors are `names`; `precheck` (when not OK) makes it
  // unservable without loading it.
  std::shared_ptr<const Model> Load(const std::string& dir,
                                    const std::string& name,
                                    std::vector<std::string> names,
                                    absl::Status precheck = absl::OkStatus()) {
    std::string key = DirectoryKey(dir);
    if (previous_ != nullptr) {
      std::shared_ptr<const Model> old = previous_->Find(name);
      if (old != nullptr && precheck.ok() && Reusable(*old, key)) {
        ++reused_;
        return old;
      }
    }
    ++loaded_;
    std::shared_ptr<Model> m;
    if (precheck.ok()) {
      m = LoadModel(root_, dir, name, std::move(names), options_);
    } else {
      m = std::make_shared<Model>();
      m->name = name;
      m->error = std::string(precheck.message());
    }
    m->scan_key = std::move(key);
    if (m->servable()) {
      LOG(INFO) << "model " << m->name << ": " << m->files.size()
                << " file(s), " << m->tensor_count << " tensors, "
                << m->total_tensor_bytes << " bytes, revision " << m->revision;
    } else {
      LOG(WARNING) << "model " << m->name << " not servable: " << m->error;
    }
    return m;
  }

  // `model` under the name `alias` (a Hugging Face ref): the previous
  // scan's alias when it was the same model.
  std::shared_ptr<const Model> Alias(const std::shared_ptr<const Model>& model,
                                     const std::string& alias) {
    if (previous_ != nullptr) {
      std::shared_ptr<const Model> old = previous_->Find(alias);
      if (old != nullptr && model->servable() &&
          old->revision == model->revision &&
          Reusable(*old, model->scan_key)) {
        return old;
      }
    }
    auto copy = std::make_shared<Model>(*model);
    copy->name = alias;
    return copy;
  }

  // The models of the cache entry `dir_name` (hf_cache.h).
  void AddHfEntry(const std::string& dir_name, const std::string& repo_id,
                  std::vector<std::shared_ptr<const Model>>* models) {
    const std::string dir = root_ + "/" + dir_name;
    HfCacheEntry entry = ReadHfCacheEntry(dir);
    for (HfSnapshot& snapshot : entry.snapshots) {
      if (snapshot.safetensors.empty()) continue;  // Other formats only.
      std::error_code ec;
      absl::Status complete = CheckSnapshotComplete(
          snapshot.safetensors,
          fs::exists(snapshot.dir + "/model.safetensors.index.json", ec));
      models->push_back(Load(snapshot.dir,
                             absl::StrCat(repo_id, "@", snapshot.commit),
                             std::move(snapshot.safetensors), complete));
      if (snapshot.commit == entry.main_commit) {
        models->push_back(Alias(models->back(), repo_id));
      }
    }
  }

  size_t reused() const { return reused_; }
  size_t loaded() const { return loaded_; }

 private:
  const std::string& root_;
  const RepositoryOptions& options_;
  const ModelRepository* previous_;
  size_t reused_ = 0;
  size_t loaded_ = 0;
};

}  // namespace

std::string DirectoryKey(const std::string& dir) {
  std::error_code ec;
  std::vector<std::pair<std::string, FileIdentity>> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (absl::StartsWith(name, ".") || it->is_directory(type_ec)) continue;
    absl::StatusOr<FileIdentity> id = StatIdentity(it->path().string());
    entries.emplace_back(std::move(name), id.ok() ? *id : FileIdentity{});
  }
  if (ec) return absl::StrCat("!", ec.message());
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string key;
  for (const auto& [name, id] : entries) {
    absl::StrAppend(&key, name.size(), ":", name, ":", id.device, ",",
                    id.inode, ",", id.size, ",", id.mtime_ns, ",", id.ctime_ns,
                    ";");
  }
  return key;
}

ModelRepository::ModelRepository(
    std::vector<std::shared_ptr<const Model>> models)
    : models_(std::move(models)) {
  for (size_t i = 0; i < models_.size(); ++i) by_name_[models_[i]->name] = i;
}

std::unique_ptr<ModelRepository> ModelRepository::FromModels(
    std::vector<std::shared_ptr<const Model>> models) {
  std::sort(models.begin(), models.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  return std::unique_ptr<ModelRepository>(
      new ModelRepository(std::move(models)));
}

std::shared_ptr<const Model> ModelRepository::Find(
    absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : models_[it->second];
}

namespace {

// What one walk of the repository's tree found.
struct Walk {
  // Directory (relative to root) -> *.safetensors names in it.
  std::map<std::string, std::vector<std::string>> dirs;
  std::map<std::string, std::string> skipped;     // Name -> why.
  std::map<std::string, std::string> hf_entries;  // Dir name -> repo id.
};

// Walks the tree under `root` (canonical) into *out (empty). Directory
// symlinks are not followed, so the walk stays under the root and ends.
// Errors: PermissionDenied when the root cannot be read; Unavailable when
// the walk failed on the way (a directory removed under it): *out is then
// partial and must not be published.
absl::Status WalkRepository(const fs::path& root,
                            const RepositoryOptions& options, Walk* out) {
  std::error_code ec;
  fs::recursive_directory_iterator it(
      root, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("model repository ", options.root, ": ", ec.message()));
  }
  // An error ends the iterator (it compares equal to the end), so `ec` is
  // checked after the loop as well as in it.
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    std::string file_name = p.filename().string();
    if (absl::StartsWith(file_name, ".")) {
      std::error_code type_ec;
      if (it->is_directory(type_ec)) it.disable_recursion_pending();
      continue;
    }
    std::error_code type_ec;
    if (options.hf_cache && it.depth() == 0 && !it->is_symlink(type_ec) &&
        it->is_directory(type_ec) && !HfRepoId(file_name).empty()) {
      out->hf_entries[file_name] = HfRepoId(file_name);
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(type_ec) && it->is_directory(type_ec)) {
      // Not followed, but listed with why, so that `ls` hides no directory:
      // one that leaves the root is not served; one inside is an alias of a
      // directory that is scanned (and served) under its own name.
      fs::path target = fs::canonical(p, type_ec);
      std::string rel_target =
          type_ec ? "" : target.lexically_relative(root).generic_string();
      std::string& why =
          out->skipped[p.lexically_relative(root).generic_string()];
      if (type_ec) {
        why = absl::StrCat("directory symlink: ", type_ec.message(),
                           "; not followed, not served");
      } else if (rel_target.empty() || rel_target == ".." ||
                 absl::StartsWith(rel_target, "../")) {
        why = absl::StrCat("directory symlink to ", target.string(),
                           " leaves the model repository; not followed, "
                           "not served");
      } else {
        why = absl::StrCat("alias of '", rel_target,
                           "': a directory symlink to another directory of "
                           "the repository is not followed, so no model is "
                           "served twice");
      }
      continue;
    }
    if (!absl::EndsWith(file_name, ".safetensors")) continue;
    if (it->is_directory(type_ec)) continue;
    std::string rel = p.parent_path().lexically_relative(root).generic_string();
    out->dirs[rel].push_back(file_name);
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "model repository ", options.root, ": the walk failed (",
        ec.message(), "); was the tree changing under the scan?"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Scan(
    const RepositoryOptions& options, const ModelRepository* previous) {
  std::error_code ec;
  fs::path root = fs::canonical(options.root, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("model repository ", options.root, ": ", ec.message()));
  }
  if (!fs::is_directory(root, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("model repository ", options.root, ": not a directory"));
  }
  // A directory removed while the walk passes ends it early; such a walk
  // is retried (a few times: an `rm -rf` or a rename is over quickly), and
  // never published partial.
  Walk walk;
  for (int attempt = 1;; ++attempt) {
    walk = Walk();
    absl::Status walked = WalkRepository(root, options, &walk);
    if (walked.ok()) break;
    if (walked.code() != absl::StatusCode::kUnavailable || attempt == 3) {
      return walked;
    }
    LOG(WARNING) << walked.message() << "; walking it again";
  }
  auto& [dirs, skipped, hf_entries] = walk;

  std::vector<std::shared_ptr<const Model>> models;
  const std::string root_string = root.string();
  CatalogBuilder builder(root_string, options, previous);
  for (auto& [rel, names] : dirs) {
    std::string name = rel == "." ? root.filename().string() : rel;
    std::string dir = (root / rel).lexically_normal().string();
    models.push_back(builder.Load(dir, name, std::move(names)));
  }
  for (const auto& [dir_name, repo_id] : hf_entries) {
    builder.AddHfEntry(dir_name, repo_id, &models);
  }
  for (auto& [name, why] : skipped) {
    auto m = std::make_shared<Model>();
    m->name = name;
    m->error = why;
    LOG(WARNING) << "model " << m->name << " not servable: " << m->error;
    models.push_back(std::move(m));
  }
  std::stable_sort(
      models.begin(), models.end(),
      [](const auto& a, const auto& b) { return a->name < b->name; });
  // Two sources of one name (a plain directory "org/name" beside a cache
  // entry models--org--name): the plain directory, added first, is served.
  models.erase(std::unique(models.begin(), models.end(),
                           [](const auto& a, const auto& b) {
                             return a->name == b->name;
                           }),
               models.end());
  auto repo = std::unique_ptr<ModelRepository>(
      new ModelRepository(std::move(models)));
  repo->reused_ = builder.reused();
  repo->loaded_ = builder.loaded();
  return repo;
}

}  // namespace weightserver::server
