// Copyright 2026 The Weightserver Authors.
//
// format/writer.cc: lay out, serialize and write safetensors files exactly as
// the reference writer (`prepare`, tensor.rs:218-265) does.
#include "format/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "weightserver/format/errors.h"
#include "format/header_json.h"
#include "util/status_macros.h"

namespace weightserver::format {
namespace {

using internal::QuoteName;

absl::Status InvalidArgument(ErrorKind kind, absl::string_view detail) {
  return FormatError(absl::StatusCode::kInvalidArgument, kind, "", detail);
}

// `status` (a DataLoss error from TensorByteSize) as InvalidArgument: on the
// write side the bad sizes are the caller's.
absl::Status AsInvalidArgument(const absl::Status& status) {
  absl::Status out(absl::StatusCode::kInvalidArgument, status.message());
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::StatusOr<uint64_t> SpecByteSize(const TensorSpec& spec) {
  absl::StatusOr<uint64_t> size =
      TensorByteSize(spec.dtype, spec.shape, "",
                     absl::StrCat("tensor ", QuoteName(spec.name)));
  if (!size.ok()) return AsInvalidArgument(size.status());
  return size;
}

void AppendTensorJson(const TensorInfo& t, std::string* out) {
  AppendJsonString(t.name, out);
  absl::StrAppend(out, ":{\"dtype\":\"", DTypeName(t.dtype), "\",\"shape\":[");
  for (size_t i = 0; i < t.shape.size(); ++i) {
    absl::StrAppend(out, i == 0 ? "" : ",", t.shape[i]);
  }
  absl::StrAppend(out, "],\"data_offsets\":[", t.begin, ",", t.end, "]}");
}

// The tensors' data sizes must match their specs (TensorInvalidInfo).
absl::Status CheckDataSizes(absl::Span<const TensorData> tensors) {
  for (const TensorData& t : tensors) {
    ASSIGN_OR_RETURN(uint64_t size, SpecByteSize(t.spec));
    if (t.data.size() != size) {
      return InvalidArgument(
          ErrorKind::kTensorInvalidInfo,
          absl::StrCat("tensor ", QuoteName(t.spec.name), ": ",
                       DTypeName(t.spec.dtype), " ",
                       internal::FormatShape(t.spec.shape), " needs ", size,
                       " bytes, but ", t.data.size(), " were given"));
    }
  }
  return absl::OkStatus();
}

std::vector<TensorSpec> Specs(absl::Span<const TensorData> tensors) {
  std::vector<TensorSpec> specs;
  specs.reserve(tensors.size());
  for (const TensorData& t : tensors) specs.push_back(t.spec);
  return specs;
}

// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
absl::Status WriteAll(int fd, absl::string_view bytes,
                      const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Creates a new, empty file next to `path`; returns its fd and sets *tmp.
absl::StatusOr<int> CreateTempNextTo(const std::string& path,
                                     std::string* tmp) {
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path target(path);
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : ".";
  for (int attempt = 0;; ++attempt) {
    *tmp = (dir / absl::StrCat(".", target.filename().string(), ".tmp.",
                               ::getpid(), ".", counter.fetch_add(1)))
               .string();
    // 0666 & ~umask, like the reference's File::create.
    const int fd =
        ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt >= 100) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("create ", *tmp, " (to write ", path, ")"));
    }
  }
}

}  // namespace

void AppendJsonString(absl::string_view value, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // Start of the pending run of bytes written as they are.
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(value.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(value.data() + run, value.size() - run);
  out->push_back('"');
}

absl::StatusOr<FileLayout> PlanFile(absl::Span<const TensorSpec> specs,
                                    const std::optional<Metadata>& metadata) {
  absl::flat_hash_set<absl::string_view> names;
  names.reserve(specs.size());
  std::vector<uint64_t> sizes;
  sizes.reserve(specs.size());
  for (const TensorSpec& spec : specs) {
    if (spec.name == "__metadata__") {
      return InvalidArgument(ErrorKind::kInvalidHeaderDeserialization,
                             "tensor name '__metadata__' is reserved");
    }
    if (!names.insert(spec.name).second) {
      return InvalidArgument(
          ErrorKind::kInvalidHeaderDeserialization,
          absl::StrCat("tensor name ", QuoteName(spec.name), " is repeated"));
    }
    ASSIGN_OR_RETURN(uint64_t size, SpecByteSize(spec));
    sizes.push_back(size);
  }
  // Dtype descending (enum order), then name ascending bytewise.
  std::vector<size_t> by_position(specs.size());
  std::iota(by_position.begin(), by_position.end(), 0);
  std::sort(by_position.begin(), by_position.end(), [&](size_t a, size_t b) {
    if (specs[a].dtype != specs[b].dtype) {
      return specs[a].dtype > specs[b].dtype;
    }
    return specs[a].name < specs[b].name;  // char_traits: unsigned bytes.
  });

  FileLayout layout;
  layout.order.resize(specs.size());
  layout.tensors.reserve(specs.size());
  uint64_t offset = 0;
  for (size_t i : by_position) {
    TensorInfo t;
    t.name = specs[i].name;
    t.dtype = specs[i].dtype;
    t.shape = specs[i].shape;
    t.begin = offset;
    if (__builtin_add_overflow(offset, sizes[i], &t.end)) {
      return InvalidArgument(ErrorKind::kValidationOverflow,
                             "total data size overflows 64 bits");
    }
    offset = t.end;
    layout.order[i] = layout.tensors.size();
    layout.tensors.push_back(std::move(t));
  }

  // Compact JSON: __metadata__ first, then the tensors in data order.
  std::string& out = layout.header_bytes;
  out.assign(kHeaderPrefixSize, '\0');
  out.push_back('{');
  bool first = true;
  if (metadata.has_value()) {
    out.append("\"__metadata__\":{");
    for (const auto& [key, value] : *metadata) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(key, &out);
      out.push_back(':');
      AppendJsonString(value, &out);
      if (out.size() > kHeaderPrefixSize + kMaxHeaderSize) break;  // Doomed.
    }
    out.push_back('}');
    first = false;
  }
  for (const TensorInfo& t : layout.tensors) {
    if (!first) out.push_back(',');
    first = false;
    AppendTensorJson(t, &out);
  }
  out.push_back('}');
  const size_t json_size = out.size() - kHeaderPrefixSize;
  const uint64_t n = (json_size + 7) / 8 * 8;
  if (n > kMaxHeaderSize) {
    return InvalidArgument(
        ErrorKind::kHeaderTooLarge,
        absl::StrCat("header of ", n, " bytes exceeds the limit of ",
                     kMaxHeaderSize, " bytes"));
  }
  out.append(n - json_size, ' ');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return layout;
}

absl::StatusOr<std::string> Serialize(absl::Span<const TensorData> tensors,
                                      const std::optional<Metadata>& metadata) {
  RETURN_IF_ERROR(CheckDataSizes(tensors));
  ASSIGN_OR_RETURN(FileLayout layout, PlanFile(Specs(tensors), metadata));
  const uint64_t data_offset = layout.data_offset();
  std::string out = std::move(layout.header_bytes);
  out.resize(data_offset + layout.data_size());
  char* data = out.data() + data_offset;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = layout.tensors[layout.order[i]];
    if (!tensors[i].data.empty()) {
      std::memcpy(data + t.begin, tensors[i].data.data(), t.size());
    }
  }
  return out;
}

absl::Status WriteFile(const std::string& path,
                       absl::Span<const TensorData> tensors,
                       const std::optional<Metadata>& metadata) {
  RETURN_IF_ERROR(CheckDataSizes(tensors));
  ASSIGN_OR_RETURN(FileLayout layout, PlanFile(Specs(tensors), metadata));
  std::vector<size_t> input_of(tensors.size());  // Data order -> input.
  for (size_t i = 0; i < tensors.size(); ++i) input_of[layout.order[i]] = i;

  std::string tmp;
  ASSIGN_OR_RETURN(int fd, CreateTempNextTo(path, &tmp));
  bool keep = false;
  absl::Cleanup cleanup = [&] {
    if (fd >= 0) ::close(fd);
    if (!keep) ::unlink(tmp.c_str());
  };
  RETURN_IF_ERROR(WriteAll(fd, layout.header_bytes, tmp));
  for (size_t i : input_of) {
    const absl::Span<const std::byte> data = tensors[i].data;
    RETURN_IF_ERROR(
        WriteAll(fd,
                 absl::string_view(reinterpret_cast<const char*>(data.data()),
                                   data.size()),
                 tmp));
  }
  if (::fsync(fd) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fsync ", tmp));
  }
  const int close_result = ::close(fd);
  fd = -1;
  if (close_result != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("close ", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("rename ", tmp, " to ", path));
  }
  keep = true;
  // Best effort: make the rename itself durable.
  const std::filesystem::path parent =
      std::filesystem::path(path).has_parent_path()
          ? std::filesystem::path(path).parent_path()
          : std::filesystem::path(".");
  if (const int dir_fd =
          ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace weightserver::format
