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
#include "util/log.h"

namespace weightserver::server {
namespace fs = std::filesystem;

ModelRepository::ModelRepository(
    std::vector<std::shared_ptr<const Model>> models)
    : models_(std::move(models)) {
  for (size_t i = 0; i < models_.size(); ++i) by_name_[models_[i]->name] = i;
}

std::shared_ptr<const Model> ModelRepository::Find(
    absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : models_[it->second];
}

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Scan(
    const RepositoryOptions& options) {
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
  // Directory (relative to root) -> *.safetensors names in it. Directory
  // symlinks are not followed, so the walk stays under the root and ends.
  std::map<std::string, std::vector<std::string>> dirs;
  std::map<std::string, std::string> skipped;  // Name -> why.
  fs::recursive_directory_iterator it(
      root, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("model repository ", options.root, ": ", ec.message()));
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      LOG(WARNING) << "scan " << root.string() << ": " << ec.message();
      break;
    }
    const fs::path& p = it->path();
    std::string file_name = p.filename().string();
    if (absl::StartsWith(file_name, ".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    std::error_code type_ec;
    if (it->is_symlink(type_ec) && it->is_directory(type_ec)) {
      // Not followed, but listed with why, so that `ls` hides no directory:
      // one that leaves the root is not served; one inside is an alias of a
      // directory that is scanned (and served) under its own name.
      fs::path target = fs::canonical(p, type_ec);
      std::string rel_target =
          type_ec ? "" : target.lexically_relative(root).generic_string();
      std::string& why = skipped[p.lexically_relative(root).generic_string()];
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
    if (it->is_directory(ec)) continue;
    std::string rel = p.parent_path().lexically_relative(root).generic_string();
    dirs[rel].push_back(file_name);
  }

  std::vector<std::shared_ptr<const Model>> models;
  for (auto& [rel, names] : dirs) {
    std::string name = rel == "." ? root.filename().string() : rel;
    std::string dir = (root / rel).lexically_normal().string();
    models.push_back(LoadModel(root.string(), dir, name, std::move(names),
                               options));
    const Model& m = *models.back();
    if (m.servable()) {
      LOG(INFO) << "model " << m.name << ": " << m.files.size() << " file(s), "
                << m.tensor_count << " tensors, " << m.total_tensor_bytes
                << " bytes, revision " << m.revision;
    } else {
      LOG(WARNING) << "model " << m.name << " not servable: " << m.error;
    }
  }
  for (auto& [name, why] : skipped) {
    auto m = std::make_shared<Model>();
    m->name = name;
    m->error = why;
    LOG(WARNING) << "model " << m->name << " not servable: " << m->error;
    models.push_back(std::move(m));
  }
  std::sort(models.begin(), models.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  return std::unique_ptr<ModelRepository>(
      new ModelRepository(std::move(models)));
}

}  // namespace weightserver::server
