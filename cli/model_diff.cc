// Copyright 2026 The Weightserver Authors.
//
// cli/model_diff.cc
#include "cli/model_diff.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace weightserver::cli {
namespace {

std::string Added(const client::ModelSummary& m) {
  return m.error.empty()
             ? absl::StrCat("+ ", m.name, "  revision ", m.revision, "\n")
             : absl::StrCat("+ ", m.name, "  not servable: ", m.error, "\n");
}

}  // namespace

std::vector<std::string> DiffModels(
    const std::vector<client::ModelSummary>& before,
    const std::vector<client::ModelSummary>& after) {
  std::map<std::string, const client::ModelSummary*> old, now;
  for (const auto& m : before) old[m.name] = &m;
  for (const auto& m : after) now[m.name] = &m;
  std::map<std::string, std::string> lines;  // By name.
  for (const auto& [name, m] : now) {
    auto it = old.find(name);
    if (it == old.end()) {
      lines[name] = Added(*m);
      continue;
    }
    const client::ModelSummary& o = *it->second;
    const bool was_ok = o.error.empty(), is_ok = m->error.empty();
    if (was_ok && !is_ok) {
      lines[name] = absl::StrCat("! ", name, "  not servable: ", m->error, "\n");
    } else if (!was_ok && is_ok) {
      lines[name] = absl::StrCat("~ ", name, "  servable again, revision ",
                                 m->revision, "\n");
    } else if (is_ok && o.revision != m->revision) {
      lines[name] = absl::StrCat("~ ", name, "  revision ", o.revision, " -> ",
                                 m->revision, "\n");
    } else if (!is_ok && o.error != m->error) {
      lines[name] = absl::StrCat("! ", name, "  not servable: ", m->error, "\n");
    }
  }
  for (const auto& [name, m] : old) {
    if (!now.contains(name)) lines[name] = absl::StrCat("- ", name, "\n");
  }
  std::vector<std::string> out;
  for (auto& [name, line] : lines) out.push_back(std::move(line));
  return out;
}

}  // namespace weightserver::cli
