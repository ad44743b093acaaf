// Copyright 2026 The Weightserver Authors.
//
// cli/text.cc: text formatting (see text.h).
#include "cli/text.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace weightserver::cli {

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit + 1 < 6) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

std::string Rate(uint64_t bytes, double seconds) {
  if (seconds <= 0) return "-";
  return absl::StrFormat("%.2f GB/s",
                         static_cast<double>(bytes) / seconds / 1e9);
}

std::string FormatShape(absl::Span<const uint64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

std::string PrintableName(absl::string_view name) {
  // Bytes >= 0x80 are kept (UTF-8 names print as such); only ASCII control
  // characters, quotes and backslashes are escaped.
  bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f && c != '\\';
  });
  return plain ? std::string(name) : absl::Utf8SafeCEscape(name);
}

Table::Table(std::vector<std::string> header, std::vector<bool> right_align)
    : right_align_(std::move(right_align)) {
  right_align_.resize(header.size(), false);
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(rows_[0].size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out, absl::string_view indent) const {
  const size_t columns = rows_[0].size();
  std::vector<size_t> width(columns, 0);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < columns; ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line(indent);
    for (size_t c = 0; c < columns; ++c) {
      const std::string& cell = row[c];
      const std::string pad(width[c] - cell.size(), ' ');
      const bool last = c + 1 == columns;
      if (right_align_[c]) {
        absl::StrAppend(&line, pad, cell);
      } else {
        absl::StrAppend(&line, cell, last ? "" : pad);
      }
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

}  // namespace weightserver::cli
