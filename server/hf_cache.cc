// Copyright 2026 The Weightserver Authors.
//
// server/hf_cache.cc
#include "server/hf_cache.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "util/log.h"

namespace weightserver::server {
namespace fs = std::filesystem;

std::string HfRepoId(absl::string_view dir_name) {
  constexpr absl::string_view kPrefix = "models--";
  if (!absl::StartsWith(dir_name, kPrefix)) return "";
  absl::string_view id = dir_name.substr(kPrefix.size());
  if (id.empty() || absl::StartsWith(id, "--") || absl::EndsWith(id, "--")) {
    return "";
  }
  return absl::StrReplaceAll(id, {{"--", "/"}});
}

HfCacheEntry ReadHfCacheEntry(const std::string& dir) {
  HfCacheEntry entry;
  {
    // A commit is 40 hex digits: read a little more, to see a longer one.
    // Only a regular file: a FIFO would block the scan until a writer came.
    std::error_code ref_ec;
    if (fs::is_regular_file(dir + "/refs/main", ref_ec)) {
      std::ifstream ref(dir + "/refs/main");
      char buf[128] = {};
      ref.read(buf, sizeof(buf) - 1);
      entry.main_commit =
          std::string(absl::StripAsciiWhitespace(absl::string_view(buf)));
    }
  }
  std::error_code ec;
  for (fs::directory_iterator it(dir + "/snapshots", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string commit = it->path().filename().string();
    std::error_code type_ec;
    if (absl::StartsWith(commit, ".") || it->is_symlink(type_ec) ||
        !it->is_directory(type_ec)) {
      continue;
    }
    HfSnapshot snapshot{commit, it->path().string(), {}};
    std::error_code files_ec;
    for (fs::directory_iterator f(snapshot.dir, files_ec), fend;
         !files_ec && f != fend; f.increment(files_ec)) {
      std::string name = f->path().filename().string();
      std::error_code file_ec;
      if (absl::StartsWith(name, ".") || !absl::EndsWith(name, ".safetensors") ||
          f->is_directory(file_ec)) {
        continue;
      }
      snapshot.safetensors.push_back(std::move(name));
    }
    if (files_ec) {
      LOG(WARNING) << "listing " << snapshot.dir << ": " << files_ec.message();
    }
    std::sort(snapshot.safetensors.begin(), snapshot.safetensors.end());
    entry.snapshots.push_back(std::move(snapshot));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    LOG(WARNING) << "listing " << dir << "/snapshots: " << ec.message();
  }
  std::sort(entry.snapshots.begin(), entry.snapshots.end(),
            [](const auto& a, const auto& b) { return a.commit < b.commit; });
  return entry;
}

absl::Status CheckSnapshotComplete(const std::vector<std::string>& safetensors,
                                   bool has_index) {
  if (has_index) return absl::OkStatus();
  for (const std::string& name : safetensors) {
    // ...-00001-of-00003.safetensors
    constexpr absl::string_view kSuffix = ".safetensors";
    absl::string_view stem(name);
    stem.remove_suffix(kSuffix.size());
    if (stem.size() < 15) continue;
    absl::string_view tail = stem.substr(stem.size() - 15);  // -NNNNN-of-NNNNN
    bool shard = tail[0] == '-' && tail.substr(6, 4) == "-of-";
    for (size_t i : {1, 2, 3, 4, 5, 10, 11, 12, 13, 14}) {
      shard = shard && absl::ascii_isdigit(tail[i]);
    }
    if (shard) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, " is a shard, but the snapshot has no "
          "model.safetensors.index.json yet (download in progress?)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace weightserver::server
