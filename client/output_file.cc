// Copyright 2026 The Weightserver Authors.
//
// client/output_file.cc
#include "client/output_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
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

// One output file: what goes in it and where each tensor lands.
struct OutputPlan {
  std::string path;
  std::vector<const v1::TensorInfo*> tensors;
  // Parallel to `tensors` when some are sliced; empty: all whole.
  std::vector<Selection> selections;
  std::optional<format::Metadata> metadata;

  const Selection* selection(size_t i) const {
    return i < selections.size() && !selections[i].whole() ? &selections[i]
                                                           : nullptr;
  }
};

absl::StatusOr<format::FileLayout> Layout(const v1::Model& model,
                                          const OutputPlan& out) {
  std::vector<format::TensorSpec> specs;
  specs.reserve(out.tensors.size());
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    const v1::TensorInfo* t = out.tensors[i];
    std::optional<format::DType> dtype = format::ParseDType(t->dtype());
    if (!dtype.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", model.name(), "': tensor '", t->name(),
          "' has dtype '", t->dtype(), "', unknown to this client"));
    }
    std::vector<uint64_t> shape(t->shape().begin(), t->shape().end());
    if (const Selection* sel = out.selection(i); sel != nullptr) {
      absl::StatusOr<format::SliceSummary> sliced = MeasureSelection(*t, *sel);
      if (!sliced.ok()) {
        return absl::Status(sliced.status().code(),
                            absl::StrCat("model '", model.name(), "': ",
                                         sliced.status().message()));
      }
      shape = std::move(sliced->shape);
    }
    specs.push_back(format::TensorSpec{t->name(), *dtype, std::move(shape)});
  }
  return format::PlanFile(specs, out.metadata);
}

// Fetches every plan's tensors in one Fetch call, then commits the files.
absl::Status WriteOutputs(const Client& client, const v1::Model& model,
                          const std::vector<OutputPlan>& plans) {
  std::vector<std::unique_ptr<PendingFile>> files;
  std::vector<FetchItem> items;
  for (const OutputPlan& plan : plans) {
    ASSIGN_OR_RETURN(format::FileLayout layout, Layout(model, plan));
    ASSIGN_OR_RETURN(auto file, PendingFile::Create(plan.path, layout));
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      const format::TensorInfo& placed = layout.tensors[layout.order[i]];
      const Selection* sel = plan.selection(i);
      items.push_back(FetchItem{
          plan.tensors[i]->name(),
          absl::Span<std::byte>(file->data() + layout.data_offset() + placed.begin,
                                placed.size()),
          sel != nullptr ? *sel : Selection{}});
    }
    files.push_back(std::move(file));
  }
  RETURN_IF_ERROR(client.Fetch(model, items));
  for (auto& file : files) RETURN_IF_ERROR(file->Commit());
  return absl::OkStatus();
}

}  // namespace

absl::Status FetchToFile(const Client& client, const v1::Model& model,
                         absl::Span<const std::string> names,
                         const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<const v1::TensorInfo*> chosen,
                   SelectTensors(model, names));
  std::vector<TensorSlice> whole;
  whole.reserve(chosen.size());
  for (const v1::TensorInfo* t : chosen) whole.push_back({t->name(), {}});
  return FetchSlicesToFile(client, model, whole, path);
}

absl::Status FetchSlicesToFile(const Client& client, const v1::Model& model,
                               absl::Span<const TensorSlice> tensors,
                               const std::string& path) {
  OutputPlan plan;
  plan.path = path;
  std::vector<std::string> names;
  for (const TensorSlice& t : tensors) {
    names.push_back(t.name);
    plan.selections.push_back(t.selection);
  }
  if (!names.empty()) {
    ASSIGN_OR_RETURN(plan.tensors, SelectTensors(model, names));
  }
  std::vector<bool> used(model.files_size(), false);
  for (const v1::TensorInfo* t : plan.tensors) {
    if (t->file_index() < used.size()) used[t->file_index()] = true;
  }
  for (int f = 0; f < model.files_size(); ++f) {
    if (!used[f] || !model.files(f).has_metadata()) continue;
    if (!plan.metadata.has_value()) plan.metadata.emplace();
    for (const auto& [k, v] : model.files(f).metadata()) {
      plan.metadata->emplace(k, v);  // First file's value wins.
    }
  }
  return WriteOutputs(client, model, {plan});
}

absl::Status MirrorModel(const Client& client, const v1::Model& model,
                         const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("create directory ", dir, ": ", ec.message()));
  }
  std::vector<OutputPlan> plans(model.files_size());
  for (int f = 0; f < model.files_size(); ++f) {
    const v1::FileInfo& file = model.files(f);
    plans[f].path = absl::StrCat(dir, "/", file.name());
    if (file.has_metadata()) {
      plans[f].metadata.emplace(file.metadata().begin(), file.metadata().end());
    }
  }
  for (const v1::TensorInfo& t : model.tensors()) {
    if (t.file_index() >= plans.size()) {
      return absl::InternalError(absl::StrCat(
          "model '", model.name(), "': tensor '", t.name(),
          "' names file ", t.file_index(), " of ", plans.size()));
    }
    plans[t.file_index()].tensors.push_back(&t);
  }
  RETURN_IF_ERROR(WriteOutputs(client, model, plans));
  if (!model.sharded()) return absl::OkStatus();

  nlohmann::ordered_json index;
  index["metadata"] = model.index_metadata_json().empty()
                          ? nlohmann::ordered_json::object()
                          : nlohmann::ordered_json::parse(
                                model.index_metadata_json(), nullptr, false);
  std::map<std::string, std::string> weight_map;
  for (const v1::TensorInfo& t : model.tensors()) {
    weight_map[t.name()] = model.files(t.file_index()).name();
  }
  index["weight_map"] = weight_map;
  std::string path = absl::StrCat(dir, "/model.safetensors.index.json");
  std::ofstream out(path, std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out.good()) return Errno("write", path);
  return absl::OkStatus();
}

}  // namespace weightserver::client
