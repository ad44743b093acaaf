// Copyright 2026 The Weightserver Authors.
//
// server/model_loader.cc: loading and validating one model directory: its
// files, their headers, the shard index, and the model's revision.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "weightserver/format/errors.h"
#include "nlohmann/json.hpp"
#include "server/model_repository.h"
#include "util/crc32c.h"
#include "util/file_io.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace weightserver::server {
namespace {
namespace fs = std::filesystem;

constexpr char kIndexName[] = "model.safetensors.index.json";

// Refuses a path that resolves outside `root` (a symlink leaving the repo).
absl::Status CheckInsideRoot(const std::string& root, const std::string& path,
                             const std::string& label) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(label, ": ", ec.message()));
  std::string rel = real.lexically_relative(root).generic_string();
  if (rel.empty() || rel == ".." || absl::StartsWith(rel, "../")) {
    return absl::PermissionDeniedError(absl::StrCat(
        label, ": resolves to ", real.string(),
        ", outside the model repository (symlinks may not leave it)"));
  }
  return absl::OkStatus();
}

// Opens, validates and maps one file. The header is read with pread so that
// nothing of a hostile file is touched through the mapping.
absl::StatusOr<ServedFile> LoadFile(const std::string& root,
                                    const std::string& dir,
                                    const std::string& file_name,
                                    uint32_t* header_crc) {
  std::string path = dir + "/" + file_name;
  RETURN_IF_ERROR(CheckInsideRoot(root, path, file_name));
  ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path));
  const uint64_t size = mapped.size();
  std::byte prefix[format::kHeaderPrefixSize];
  const size_t prefix_len =
      static_cast<size_t>(std::min<uint64_t>(size, sizeof(prefix)));
  RETURN_IF_ERROR(PreadFull(mapped.fd(), prefix, prefix_len, 0, path));
  ASSIGN_OR_RETURN(
      uint64_t n,
      format::ParseHeaderLength(absl::MakeConstSpan(prefix, prefix_len), size,
                                file_name));
  std::string json(n, '\0');
  RETURN_IF_ERROR(
      PreadFull(mapped.fd(), json.data(), n, format::kHeaderPrefixSize, path));
  ASSIGN_OR_RETURN(
      format::Header header,
      format::ParseHeader(absl::MakeConstSpan(
                              reinterpret_cast<const std::byte*>(json.data()),
                              json.size()),
                          size, file_name));
  *header_crc = Crc32c(json);
  return ServedFile{file_name,
                    std::make_shared<const MappedFile>(std::move(mapped)),
                    std::move(header), /*lazy=*/nullptr};
}

// A shard name from an index must be a plain file name in the model dir.
absl::Status CheckShardName(const std::string& shard) {
  if (shard.empty() || shard.find('/') != std::string::npos ||
      shard.find('\\') != std::string::npos || shard == "." || shard == ".." ||
      !absl::EndsWith(shard, ".safetensors") ||
      shard.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        kIndexName, ": shard name '", absl::CHexEscape(shard),
        "' is not a plain *.safetensors file name in the model directory"));
  }
  return absl::OkStatus();
}

struct Index {
  std::vector<std::pair<std::string, std::string>> weight_map;  // name, shard
  std::string metadata_json;
};

absl::StatusOr<Index> ReadIndex(const std::string& root,
                                const std::string& dir,
                                const RepositoryOptions& options) {
  std::string path = dir + "/" + kIndexName;
  RETURN_IF_ERROR(CheckInsideRoot(root, path, kIndexName));
  ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(path));
  if (f.size() > options.max_index_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        kIndexName, ": ", f.size(), " bytes, over the limit of ",
        options.max_index_bytes));
  }
  std::string text(f.size(), '\0');
  RETURN_IF_ERROR(PreadFull(f.fd(), text.data(), text.size(), 0, path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kIndexName, ": not a JSON object"));
  }
  auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kIndexName, ": no \"weight_map\" object"));
  }
  Index index;
  for (auto& [name, shard] : wm->items()) {
    if (!shard.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kIndexName, ": weight_map['", name, "'] is not a string"));
    }
    RETURN_IF_ERROR(CheckShardName(shard.get<std::string>()));
    index.weight_map.emplace_back(name, shard.get<std::string>());
  }
  auto md = j.find("metadata");
  if (md != j.end() && !md->is_null()) {
    if (!md->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kIndexName, ": \"metadata\" is not an object"));
    }
    index.metadata_json = md->dump();
  }
  return index;
}

// True for names of weights in any format, which are never extra files.
bool IsWeightFile(absl::string_view name) {
  static constexpr absl::string_view kWeightSuffixes[] = {
      ".safetensors", ".index.json", ".bin", ".pt", ".pth", ".ckpt",
      ".gguf", ".ggml", ".h5", ".msgpack", ".onnx", ".tflite", ".npz",
      ".ot", ".pb", ".mlmodel", ".nemo"};
  for (absl::string_view suffix : kWeightSuffixes) {
    if (absl::EndsWith(name, suffix)) return true;
  }
  return false;
}

// Lists the extra files of `dir` into model->extra_files (see
// model_repository.h for the rules); never fails, skips are logged.
void LoadExtraFiles(const std::string& root, const std::string& dir,
                    const RepositoryOptions& options, Model* model) {
  std::error_code ec;
  std::vector<ServedExtraFile> found;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (absl::StartsWith(name, ".") || IsWeightFile(name)) continue;
    std::error_code type_ec;
    if (it->is_directory(type_ec)) continue;  // Follows symlinks: also skipped.
    const std::string path = dir + "/" + name;
    auto skip = [&](absl::string_view why) {
      LOG(WARNING) << "model " << model->name << ": extra file '"
                   << absl::CHexEscape(name) << "' not served: " << why;
    };
    if (absl::Status inside = CheckInsideRoot(root, path, name); !inside.ok()) {
      skip(inside.message());
      continue;
    }
    if (!it->is_regular_file(type_ec)) {
      skip("not a regular file");
      continue;
    }
    absl::StatusOr<FileIdentity> id = StatIdentity(path);
    if (!id.ok()) {
      skip(id.status().message());
      continue;
    }
    if (id->size > options.max_extra_file_bytes) {
      skip(absl::StrCat(id->size, " bytes, over the limit of ",
                        options.max_extra_file_bytes));
      continue;
    }
    found.push_back(ServedExtraFile{name, path, *id});
  }
  if (ec) {
    LOG(WARNING) << "model " << model->name << ": listing " << dir << ": "
                 << ec.message() << "; extra files may be missing";
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  if (found.size() > options.max_extra_files) {
    LOG(WARNING) << "model " << model->name << ": " << found.size()
                 << " extra files, serving the first "
                 << options.max_extra_files << " by name";
    found.resize(options.max_extra_files);
  }
  model->extra_files = std::move(found);
}

// Fills files, tensors and counts; the first problem is returned.
absl::Status LoadInto(const std::string& root, const std::string& dir,
                      std::vector<std::string> file_names,
                      const RepositoryOptions& options, Model* model) {
  std::error_code ec;
  std::optional<Index> index;
  if (fs::exists(dir + "/" + kIndexName, ec)) {
    ASSIGN_OR_RETURN(index, ReadIndex(root, dir, options));
    model->sharded = true;
    model->index_metadata_json = index->metadata_json;
    std::set<std::string> shards;
    for (const auto& [name, shard] : index->weight_map) shards.insert(shard);
    for (const std::string& shard : shards) {
      if (std::find(file_names.begin(), file_names.end(), shard) ==
          file_names.end()) {
        return absl::NotFoundError(absl::StrCat(
            kIndexName, ": shard '", shard, "' is not in the model directory"));
      }
    }
    // Files beside the shards that the index does not name are not served.
    // A loop, not assign(): GCC 12 warns falsely on assign's std::distance
    // over set iterators (-Waggressive-loop-optimizations).
    file_names.clear();
    for (const std::string& shard : shards) file_names.push_back(shard);
  }
  std::sort(file_names.begin(), file_names.end());

  uint64_t revision = 0xcbf29ce484222325ull;  // FNV-1a over file identities.
  auto mix = [&revision](const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) revision = (revision ^ p[i]) * 0x100000001b3ull;
  };
  // Not the device: replicas that mount one shared volume (an NFS export
  // has a device number of its own on every node) must agree on revisions,
  // or a client or cache moving to another replica gets FAILED_PRECONDITION.
  auto mix_identity = [&mix](const FileIdentity& id) {
    mix(&id.inode, sizeof(id.inode));
    mix(&id.size, sizeof(id.size));
    mix(&id.mtime_ns, sizeof(id.mtime_ns));
    mix(&id.ctime_ns, sizeof(id.ctime_ns));
  };
  for (const std::string& file_name : file_names) {
    uint32_t header_crc = 0;
    ASSIGN_OR_RETURN(ServedFile file,
                     LoadFile(root, dir, file_name, &header_crc));
    const FileIdentity& id = file.file->identity();
    mix(file_name.data(), file_name.size() + 1);
    mix_identity(id);
    mix(&header_crc, sizeof(header_crc));
    const auto file_index = static_cast<uint32_t>(model->files.size());
    for (size_t i = 0; i < file.header.tensors.size(); ++i) {
      const format::TensorInfo& t = file.header.tensors[i];
      auto [it, inserted] = model->tensors.try_emplace(
          t.name, TensorLocation{file_index, static_cast<uint32_t>(i)});
      if (!inserted) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tensor '", absl::CHexEscape(t.name), "' is in both ",
            model->files[it->second.file].name, " and ", file_name));
      }
      model->total_tensor_bytes += t.size();
    }
    model->tensor_count += file.header.tensors.size();
    model->files.push_back(std::move(file));
  }
  if (index.has_value()) {
    if (index->weight_map.size() != model->tensors.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kIndexName, ": weight_map names ", index->weight_map.size(),
          " tensors, the shards hold ", model->tensors.size()));
    }
    for (const auto& [name, shard] : index->weight_map) {
      auto it = model->tensors.find(name);
      if (it == model->tensors.end() ||
          model->files[it->second.file].name != shard) {
        return absl::InvalidArgumentError(absl::StrCat(
            kIndexName, ": weight_map puts tensor '", name, "' in ", shard,
            ", which does not hold it"));
      }
    }
  }
  LoadExtraFiles(root, dir, options, model);
  for (const ServedExtraFile& extra : model->extra_files) {
    mix(extra.name.data(), extra.name.size() + 1);
    mix_identity(extra.identity);
  }
  model->revision = absl::StrFormat("%016x", revision);
  return absl::OkStatus();
}

}  // namespace

const ServedExtraFile* Model::FindExtraFile(absl::string_view name) const {
  auto it = std::lower_bound(
      extra_files.begin(), extra_files.end(), name,
      [](const ServedExtraFile& f, absl::string_view n) { return f.name < n; });
  return it != extra_files.end() && it->name == name ? &*it : nullptr;
}

std::shared_ptr<Model> LoadModel(const std::string& root,
                                       const std::string& dir,
                                       const std::string& name,
                                       std::vector<std::string> file_names,
                                       const RepositoryOptions& options) {
  auto model = std::make_shared<Model>();
  model->name = name;
  absl::Status status = LoadInto(root, dir, std::move(file_names), options,
                                 model.get());
  if (!status.ok()) {
    model->error = std::string(status.message());
    model->revision.clear();
    model->files.clear();
    model->tensors.clear();
    model->extra_files.clear();
  }
  return model;
}

}  // namespace weightserver::server
