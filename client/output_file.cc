// Copyright 2026 The Weightserver Authors.
//
// client/output_file.cc
#include "weightserver/client/output_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "client/memory_sink.h"
#include "format/writer.h"
#include "nlohmann/json.hpp"
#include "util/errno_status.h"
#include "util/status_macros.h"

namespace weightserver::client {
namespace {

absl::Status Errno(absl::string_view op, const std::string& path) {
  return ErrnoStatus(errno, op, path);
}

// A file being written: created as PATH.tmp-PID at full size and mapped;
// Commit() flushes and renames it to PATH; otherwise it is removed.
class PendingFile {
 public:
  static absl::StatusOr<std::unique_ptr<PendingFile>> Create(
      const std::string& path, const format::FileLayout& layout) {
    std::unique_ptr<PendingFile> f(new PendingFile());
    f->path_ = path;
    f->tmp_ = absl::StrCat(path, ".tmp-", getpid());
    f->size_ = layout.file_size();
    f->fd_ = open(f->tmp_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd_ < 0) return Errno("create", f->tmp_);
    if (ftruncate(f->fd_, static_cast<off_t>(f->size_)) != 0) {
      return Errno("resize", f->tmp_);
    }
    void* p = mmap(nullptr, f->size_, PROT_READ | PROT_WRITE, MAP_SHARED,
                   f->fd_, 0);
    if (p == MAP_FAILED) return Errno("map", f->tmp_);
    f->data_ = static_cast<std::byte*>(p);
    std::memcpy(f->data_, layout.header_bytes.data(), layout.header_bytes.size());
    return f;
  }

  ~PendingFile() {
    if (data_ != nullptr) munmap(data_, size_);
    if (fd_ >= 0) close(fd_);
    if (!committed_ && !tmp_.empty()) unlink(tmp_.c_str());
  }

  std::byte* data() { return data_; }

  absl::Status Commit() {
    if (msync(data_, size_, MS_SYNC) != 0) return Errno("flush", tmp_);
    munmap(data_, size_);
    data_ = nullptr;
    if (fsync(fd_) != 0) return Errno("sync", tmp_);
    if (rename(tmp_.c_str(), path_.c_str()) != 0) return Errno("rename", tmp_);
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  PendingFile() = default;
  std::string path_, tmp_;
  uint64_t size_ = 0;
  int fd_ = -1;
  std::byte* data_ = nullptr;
  bool committed_ = false;
};

// One output file: its path and what goes in it.
struct OutputFile {
  std::string path;
  std::vector<size_t> outputs;  // Indices into the plan, in file order.
  std::optional<format::Metadata> metadata;
};

// Lays out every file, creates it, and fetches the plan into the files in
// one fetch; then commits them.
absl::Status WriteOutputs(const Client& client, const ModelInfo& model,
                          const LoadPlan& plan,
                          const std::vector<OutputFile>& outputs) {
  std::vector<std::unique_ptr<PendingFile>> files;
  std::vector<std::byte*> bases(plan.tensors.size(), nullptr);
  for (const OutputFile& out : outputs) {
    std::vector<format::TensorSpec> specs;
    specs.reserve(out.outputs.size());
    for (size_t i : out.outputs) {
      const PlannedTensor& p = plan.tensors[i];
      std::optional<format::DType> dtype = format::ParseDType(p.dtype());
      if (!dtype.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model '", model.name, "': tensor '", p.name(), "' has dtype '",
            p.dtype(), "', unknown to this client"));
      }
      specs.push_back(format::TensorSpec{p.name(), *dtype, p.shape});
    }
    ASSIGN_OR_RETURN(format::FileLayout layout,
                     format::PlanFile(specs, out.metadata));
    ASSIGN_OR_RETURN(auto file, PendingFile::Create(out.path, layout));
    for (size_t k = 0; k < out.outputs.size(); ++k) {
      const format::TensorInfo& placed = layout.tensors[layout.order[k]];
      bases[out.outputs[k]] = file->data() + layout.data_offset() + placed.begin;
    }
    files.push_back(std::move(file));
  }
  MemorySink sink(plan, std::move(bases));
  RETURN_IF_ERROR(client.Fetch(model, plan, sink));
  for (auto& file : files) RETURN_IF_ERROR(file->Commit());
  return absl::OkStatus();
}

}  // namespace

absl::Status FetchToFile(const Client& client, const ModelInfo& model,
                         const LoadPlan& plan, const std::string& path) {
  OutputFile out;
  out.path = path;
  std::vector<bool> used(model.files.size(), false);
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    out.outputs.push_back(i);
    const uint32_t f = plan.tensors[i].source->file_index;
    if (f < used.size()) used[f] = true;
  }
  for (size_t f = 0; f < model.files.size(); ++f) {
    if (!used[f] || !model.files[f].metadata.has_value()) continue;
    if (!out.metadata.has_value()) out.metadata.emplace();
    for (const auto& [k, v] : *model.files[f].metadata) {
      out.metadata->emplace(k, v);  // First file's value wins.
    }
  }
  return WriteOutputs(client, model, plan, {out});
}

absl::Status MirrorModel(const Client& client, const ModelInfo& model,
                         const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("create directory ", dir, ": ", ec.message()));
  }
  // The extra files first: they are small, and a name the client refuses
  // stops the mirror before any weight moved.
  RETURN_IF_ERROR(client.DownloadExtraFiles(model, dir));
  ASSIGN_OR_RETURN(LoadPlan plan, PlanWholeTensors(model, {}));
  std::vector<OutputFile> outputs(model.files.size());
  for (size_t f = 0; f < model.files.size(); ++f) {
    outputs[f].path = absl::StrCat(dir, "/", model.files[f].name);
    outputs[f].metadata = model.files[f].metadata;
  }
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const ModelTensor& t = *plan.tensors[i].source;
    if (t.file_index >= outputs.size()) {
      return absl::InternalError(absl::StrCat(
          "model '", model.name, "': tensor '", t.name, "' names file ",
          t.file_index, " of ", outputs.size()));
    }
    outputs[t.file_index].outputs.push_back(i);
  }
  RETURN_IF_ERROR(WriteOutputs(client, model, plan, outputs));
  if (!model.sharded) return absl::OkStatus();

  nlohmann::ordered_json index;
  index["metadata"] = model.index_metadata_json.empty()
                          ? nlohmann::ordered_json::object()
                          : nlohmann::ordered_json::parse(
                                model.index_metadata_json, nullptr, false);
  std::map<std::string, std::string> weight_map;
  for (const ModelTensor& t : model.tensors) {
    weight_map[t.name] = model.files[t.file_index].name;
  }
  index["weight_map"] = weight_map;
  std::string path = absl::StrCat(dir, "/model.safetensors.index.json");
  std::ofstream out(path, std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out.good()) return Errno("write", path);
  return absl::OkStatus();
}

}  // namespace weightserver::client
