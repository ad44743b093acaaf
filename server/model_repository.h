// Copyright 2026 The Weightserver Authors.
//
// server/model_repository.h: the catalog of models found under a directory.
//
// Every directory below the root that holds *.safetensors files is a model,
// named by its path relative to the root ("llama-3-8b", "org/name"; files
// directly in the root form a model named after the root's basename). A model
// with model.safetensors.index.json is sharded: its files are the shards the
// index names, and the index must match the shards' headers exactly.
//
// A model's other small regular files (config.json, tokenizer files, chat
// templates, ...) are its extra files, served by ReadFile: plain files of the
// model directory itself, not hidden, not weights (*.safetensors, the index,
// *.bin, *.pt, *.gguf, ... and their *.index.json), at most
// max_extra_file_bytes each and max_extra_files in all. A symlink is followed
// only when it stays inside the root. Skipped files are logged. Their
// identities are part of the model's revision.
//
// Every file is validated completely by format/ before it is served (header
// read with pread, so a hostile file is never faulted in), then mapped. A
// model with any invalid file, a bad index, a duplicated tensor name or a
// symlink leaving the root is kept in the catalog with its error and is not
// servable. Directory symlinks are never followed, but each is listed under
// its own name with why, not servable: one that leaves the root, and one
// that is an alias of a directory inside it (served once, under the
// target's name). The scan itself fails only when the root cannot be read.
//
// Hidden entries (names starting with '.') are skipped silently, directories
// with all they hold: a hidden directory is the staging area for publishing
// a model (copy it to ".tmp-name", then rename it to "name"), and a model
// half copied there must neither be served nor clutter the listing.
//
// A top-level directory named models--ORG--NAME is a Hugging Face hub cache
// entry (hf_cache.h; RepositoryOptions::hf_cache): each of its snapshots is
// served as "ORG/NAME@COMMIT", and the snapshot refs/main names also as
// "ORG/NAME". Its files are symlinks into its blobs/, inside the root.
//
// Rescans (live_repository.h) pass the previous catalog: a model whose
// directory holds the same entries with the same identities (device, inode,
// size, mtime, ctime) as when it was loaded, and none of whose mappings is
// poisoned, is taken over as it is (the same shared_ptr), without reading
// or mapping anything again. Anything else is loaded anew, with a new
// revision.
//
// Names from requests are only ever looked up in the catalog, never joined
// into paths.
//
// Example:
//   ASSIGN_OR_RETURN(auto repo, ModelRepository::Scan({.root = "/models"}));
//   std::shared_ptr<const Model> m = repo->Find("org/name");
//
// Thread-safety: immutable after Scan; all methods are safe concurrently.
#ifndef WEIGHTSERVER_SERVER_MODEL_REPOSITORY_H_
#define WEIGHTSERVER_SERVER_MODEL_REPOSITORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "format/header.h"
#include "server/lazy_bytes.h"
#include "server/mapped_file.h"

namespace weightserver::server {

struct ServedFile {
  std::string name;  // Relative to the model directory.
  std::shared_ptr<const MappedFile> file;
  format::Header header;
  // nullptr: every byte of `file` is on disk. A cache's sparse copy: ask it
  // before reading (lazy_bytes.h).
  std::shared_ptr<LazyBytes> lazy;
};

// Where a tensor lives: files[file].header.tensors[index].
struct TensorLocation {
  uint32_t file = 0;
  uint32_t index = 0;
};

// One extra file of a model. Opened anew for each ReadFile, which refuses it
// when its identity no longer matches.
struct ServedExtraFile {
  std::string name;  // In the model directory.
  std::string path;  // dir + "/" + name, as scanned.
  FileIdentity identity;
};

struct Model {
  std::string name;
  std::string revision;  // Empty when not servable.
  std::string error;     // Empty when servable.
  bool sharded = false;
  std::string index_metadata_json;  // Compact JSON, sharded models only.
  std::vector<ServedFile> files;    // Sorted by name.
  std::vector<ServedExtraFile> extra_files;  // Sorted by name.
  absl::flat_hash_map<std::string, TensorLocation> tensors;
  uint64_t tensor_count = 0;
  uint64_t total_tensor_bytes = 0;

  bool servable() const { return error.empty(); }
  const format::TensorInfo& tensor(TensorLocation at) const {
    return files[at.file].header.tensors[at.index];
  }
  // The extra file named `name`, or nullptr.
  const ServedExtraFile* FindExtraFile(absl::string_view name) const;

  // What the scan saw of the model's directory: the name and identity of
  // each of its entries (DirectoryKey). Equal keys: the model is unchanged.
  std::string scan_key;
};

struct RepositoryOptions {
  std::string root;
  // Index files larger than this are refused (they are JSON parsed in memory).
  uint64_t max_index_bytes = 64 << 20;
  // Extra files larger than this are not served (a large tokenizer.json is
  // ~30 MB).
  uint64_t max_extra_file_bytes = 64 << 20;
  // Extra files served per model; the rest (by name) are skipped.
  size_t max_extra_files = 256;
  // Serve top-level models--ORG--NAME directories as Hugging Face cache
  // entries (hf_cache.h); false: as plain directories.
  bool hf_cache = true;
};

class ModelRepository {
 public:
  // A catalog of `models` (sorted here by name; names must be unique), for
  // a source of models other than a scan (the cache tier, cache/).
  static std::unique_ptr<ModelRepository> FromModels(
      std::vector<std::shared_ptr<const Model>> models);

  // Scans `options.root`. Errors: NotFound / InvalidArgument when the root is
  // missing or not a directory; per-model problems land in Model::error.
  // With `previous` (a catalog of the same root), its unchanged servable
  // models are reused instead of loaded again.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Scan(
      const RepositoryOptions& options,
      const ModelRepository* previous = nullptr);

  // The model named `name` (servable or not), or nullptr.
  std::shared_ptr<const Model> Find(absl::string_view name) const;

  // Every model, sorted by name.
  const std::vector<std::shared_ptr<const Model>>& models() const {
    return models_;
  }

  // Of models(): how many were taken over from the previous catalog, and
  // how many were loaded (validated and mapped) by this scan.
  size_t reused() const { return reused_; }
  size_t loaded() const { return loaded_; }

 private:
  explicit ModelRepository(std::vector<std::shared_ptr<const Model>> models);

  std::vector<std::shared_ptr<const Model>> models_;
  absl::flat_hash_map<std::string, size_t> by_name_;
  size_t reused_ = 0;
  size_t loaded_ = 0;
};

// Loads one model from `dir` (absolute) with catalog name `name`, given the
// *.safetensors file names found in it; never fails: problems are recorded in
// the returned model's error. `root` bounds where symlinks may point.
std::shared_ptr<Model> LoadModel(const std::string& root,
                                       const std::string& dir,
                                       const std::string& name,
                                       std::vector<std::string> file_names,
                                       const RepositoryOptions& options);

// The scan key of directory `dir`: every entry that is not hidden and not a
// directory, sorted, with the identity stat() gives (symlinks followed; a
// dangling one has a zero identity). Never fails: the key of a directory
// that cannot be listed starts with '!', and no model loaded from it is
// servable, so none is reused.
std::string DirectoryKey(const std::string& dir);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_MODEL_REPOSITORY_H_
