// Copyright 2026 The Weightserver Authors.
//
// tests/conformance/suite.cc
#include "tests/conformance/suite.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "weightserver/format/errors.h"
#include "nlohmann/json.hpp"

namespace weightserver::conformance {
namespace {

namespace fs = std::filesystem;
constexpr char kDeviations[] = "deviations";

absl::StatusOr<nlohmann::json> ReadJsonObject(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr,
                                              /*allow_exceptions=*/false);
  if (!json.is_object())
    return absl::DataLossError(absl::StrCat(path.string(), " is not a JSON object"));
  return json;
}

// Adds `path`'s {"file": "Kind"} entries to `out` as prefix + file.
absl::Status ReadExpected(const fs::path& path, const std::string& prefix,
                          std::map<std::string, std::string>& out) {
  absl::StatusOr<nlohmann::json> json = ReadJsonObject(path);
  if (!json.ok()) return json.status();
  for (const auto& [name, kind] : json->items()) {
    if (!kind.is_string())
      return absl::DataLossError(absl::StrCat(path.string(), ": ", name, " is not a string"));
    out[prefix + name] = kind.get<std::string>();
  }
  return absl::OkStatus();
}

}  // namespace

std::string Suite::OurKind(const std::string& file) const {
  auto it = ours.find(file);
  if (it != ours.end()) return it->second;
  auto ref = reference.find(file);
  return ref == reference.end() ? "(not listed)" : ref->second;
}

std::vector<std::string> Suite::UnlistedFiles() const {
  std::vector<std::string> out;
  for (const std::string sub : {"", kDeviations}) {
    const fs::path d = fs::path(dir) / sub;
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    for (const fs::directory_entry& e : fs::directory_iterator(d, ec)) {
      if (e.path().extension() != ".safetensors") continue;
      const std::string rel =
          sub.empty() ? e.path().filename().string()
                      : absl::StrCat(sub, "/", e.path().filename().string());
      if (!reference.count(rel)) out.push_back(rel);
    }
  }
  return out;
}

absl::StatusOr<Suite> LoadSuite(const std::string& dir) {
  Suite suite;
  suite.dir = dir;
  const fs::path root(dir);
  if (absl::Status s = ReadExpected(root / "expected.json", "", suite.reference);
      !s.ok())
    return s;
  const fs::path deviations = root / kDeviations;
  std::error_code ec;
  if (!fs::exists(deviations / "expected.json", ec)) return suite;
  const std::string prefix = absl::StrCat(kDeviations, "/");
  if (absl::Status s = ReadExpected(deviations / "expected.json", prefix,
                                    suite.reference);
      !s.ok())
    return s;
  absl::StatusOr<nlohmann::json> ours = ReadJsonObject(deviations / "deviations.json");
  if (!ours.ok()) return ours.status();
  for (const auto& [name, entry] : ours->items()) {
    if (!entry.is_object() || !entry.contains("ours") || !entry["ours"].is_string() ||
        !entry.contains("reason") || !entry["reason"].is_string())
      return absl::DataLossError(absl::StrCat(
          "deviations.json: ", name, " needs string fields ours and reason"));
    suite.ours[prefix + name] = entry["ours"].get<std::string>();
    suite.reasons[prefix + name] = entry["reason"].get<std::string>();
  }
  return suite;
}

std::string KindOf(const absl::Status& status) {
  if (status.ok()) return "ok";
  std::optional<format::ErrorKind> kind = format::FormatErrorKind(status);
  if (!kind.has_value())
    return absl::StrCat("(not a format error) ", status.ToString());
  return std::string(format::ErrorKindName(*kind));
}

}  // namespace weightserver::conformance
