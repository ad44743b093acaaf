// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/corpus.cc
#include "tools/conformance/corpus.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tools/conformance/case_builder.h"

namespace weightserver::conformance {
namespace {

namespace fs = std::filesystem;

absl::Status WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// Makes `dir` and removes the corpus files a previous run left in it.
absl::Status PrepareDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const fs::path ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".safetensors" && ext != ".json")) continue;
    if (!fs::remove(entry.path(), ec) || ec)
      return absl::InternalError(absl::StrCat("cannot remove ", entry.path().string()));
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  return absl::OkStatus();
}

// JSON text with one entry a line: diffable, and readable by hand.
std::string Dump(const nlohmann::json& json) {
  return json.dump(2, ' ', /*ensure_ascii=*/true) + "\n";
}

}  // namespace

std::vector<Case> ConformanceCases() {
  internal::CaseList c;
  internal::AddPrefixCases(c);
  internal::AddTextCases(c);
  internal::AddValidationCases(c);
  internal::AddAcceptedCases(c);
  internal::AddDuplicateCases(c);
  return std::move(c.cases());
}

absl::Status WriteCorpus(const std::vector<Case>& cases, const std::string& dir) {
  std::set<std::string> names;
  for (const Case& c : cases) {
    if (!names.insert(c.file).second)
      return absl::InvalidArgumentError(absl::StrCat("duplicate case ", c.file));
  }
  const fs::path root(dir);
  const fs::path deviations = root / "deviations";
  if (absl::Status s = PrepareDir(root); !s.ok()) return s;
  if (absl::Status s = PrepareDir(deviations); !s.ok()) return s;
  nlohmann::json expected = nlohmann::json::object();
  nlohmann::json deviating_expected = nlohmann::json::object();
  nlohmann::json ours = nlohmann::json::object();
  for (const Case& c : cases) {
    const bool deviates = !c.ours.empty();
    if (absl::Status s = WriteFile((deviates ? deviations : root) / c.file, c.bytes);
        !s.ok())
      return s;
    (deviates ? deviating_expected : expected)[c.file] = c.reference;
    if (deviates) ours[c.file] = {{"ours", c.ours}, {"reason", c.reason}};
  }
  // expected.json last: the build treats it as the corpus's stamp.
  if (absl::Status s = WriteFile(deviations / "deviations.json", Dump(ours)); !s.ok())
    return s;
  if (absl::Status s = WriteFile(deviations / "expected.json", Dump(deviating_expected));
      !s.ok())
    return s;
  return WriteFile(root / "expected.json", Dump(expected));
}

}  // namespace weightserver::conformance
