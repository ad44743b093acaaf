// Copyright 2026 The Weightserver Authors.
//
// cli/cmd_check.cc: `weightctl check`, validation of local .safetensors files
// with the same reader the server uses (format::ParseFile), no server needed.
//
//   $ weightctl check good.safetensors bad.safetensors missing.safetensors
//   good.safetensors: ok (3 tensors, 1536 bytes)
//   bad.safetensors: InvalidOffset: tensor 'w': begins at 4, expected 0
//   missing.safetensors: cannot open: No such file or directory
//   weightctl: 2 of 3 files invalid
//
// A directory argument stands for every *.safetensors file below it.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "weightserver/format/errors.h"
#include "format/header.h"

namespace weightserver::cli {
namespace {

// A read-only private mapping of a whole file; unmapped on destruction.
class Mapping {
 public:
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data_ != nullptr) munmap(data_, size_);
  }

  // Maps `path`. Errors: a one-line reason ("cannot open: ...").
  absl::Status Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open");
    struct stat st;
    if (fstat(fd, &st) != 0) {
      absl::Status s = Errno("cannot stat");
      ::close(fd);
      return s;
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return absl::FailedPreconditionError("not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        absl::Status s = Errno("cannot map");
        ::close(fd);
        return s;
      }
      data_ = p;
    }
    ::close(fd);  // The mapping stays valid.
    return absl::OkStatus();
  }

  absl::Span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(data_), data_ == nullptr ? 0 : size_};
  }

 private:
  static absl::Status Errno(absl::string_view what) {
    int e = errno;
    return absl::Status(absl::ErrnoToStatusCode(e),
                        absl::StrCat(what, ": ", std::strerror(e)));
  }

  void* data_ = nullptr;
  size_t size_ = 0;
};

// Expands directory arguments into their *.safetensors files (sorted);
// other arguments pass through unchanged.
std::vector<std::string> ExpandArguments(const std::vector<std::string>& args,
                                         std::vector<std::string>* empty_dirs) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (!std::filesystem::is_directory(arg, ec)) {
      files.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    for (auto it = std::filesystem::recursive_directory_iterator(arg, ec);
         !ec && it != std::filesystem::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->path().extension() == ".safetensors") {
        found.push_back(it->path().string());
      }
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) empty_dirs->push_back(arg);
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// One line for `path`: "path: ok (...)" or "path: <Kind>: ..." / "path: ...".
bool CheckOne(const std::string& path, std::ostream& out) {
  Mapping mapping;
  absl::Status status = mapping.Open(path);
  if (!status.ok()) {
    out << path << ": " << status.message() << "\n";
    return false;
  }
  absl::StatusOr<format::Header> header =
      format::ParseFile(mapping.bytes(), path);
  if (header.ok()) {
    out << path << ": ok (" << header->tensors.size() << " tensor"
        << (header->tensors.size() == 1 ? "" : "s") << ", "
        << header->data_size() << " bytes)\n";
    return true;
  }
  // Format errors read "<path>: <Kind>: <detail>" already.
  std::string message(header.status().message());
  if (!absl::StartsWith(message, absl::StrCat(path, ": "))) {
    std::optional<format::ErrorKind> kind =
        format::FormatErrorKind(header.status());
    message = absl::StrCat(
        path, ": ",
        kind.has_value() &&
                !absl::StartsWith(message, format::ErrorKindName(*kind))
            ? absl::StrCat(format::ErrorKindName(*kind), ": ")
            : "",
        message);
  }
  out << message << "\n";
  return false;
}

}  // namespace

absl::Status RunCheck(const Context& ctx, const ParsedArgs& args) {
  std::vector<std::string> empty_dirs;
  std::vector<std::string> files =
      ExpandArguments(args.positional(), &empty_dirs);
  size_t bad = 0;
  for (const std::string& dir : empty_dirs) {
    *ctx.out << dir << ": no .safetensors files\n";
    ++bad;
  }
  for (const std::string& path : files) {
    if (!CheckOne(path, *ctx.out)) ++bad;
  }
  const size_t total = files.size() + empty_dirs.size();
  if (bad == 0) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(bad, " of ", total, " file",
                                          total == 1 ? "" : "s", " invalid"));
}

}  // namespace weightserver::cli
