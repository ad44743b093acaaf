// Copyright 2026 The Weightserver Authors.
//
// cli/text.h: text formatting for weightctl's human-readable output.
//
// Example:
//   HumanBytes(1288490189);        // "1.2 GiB"
//   Rate(3'000'000'000, 1.5);      // "2.00 GB/s"
//   Table t({"NAME", "SIZE"}, {false, true});
//   t.AddRow({"llama", "1.2 GiB"});
//   t.Print(std::cout);            // aligned columns, header first
//
// Thread-safety: pure functions; a Table is not thread-safe.
#ifndef WEIGHTSERVER_CLI_TEXT_H_
#define WEIGHTSERVER_CLI_TEXT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace weightserver::cli {

// Binary units with one decimal: "512 B", "1.0 KiB", "1.2 GiB".
std::string HumanBytes(uint64_t bytes);

// Decimal gigabytes per second with two decimals: "2.31 GB/s"; "-" when
// `seconds` is not positive.
std::string Rate(uint64_t bytes, double seconds);

// "[4096, 11008]"; "[]" for a scalar.
std::string FormatShape(absl::Span<const uint64_t> shape);

// A tensor name for a terminal: printable ASCII and UTF-8 as is, other
// bytes (NUL, control characters) C-escaped.
std::string PrintableName(absl::string_view name);

// Columns padded to their widest cell, separated by two spaces; the last
// column is not padded. Right-aligned columns suit numbers.
class Table {
 public:
  Table(std::vector<std::string> header, std::vector<bool> right_align);

  // A row with as many cells as the header (missing cells print empty).
  void AddRow(std::vector<std::string> cells);
  // Writes the header and the rows, each line prefixed with `indent`.
  void Print(std::ostream& out, absl::string_view indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header.
  std::vector<bool> right_align_;
};

}  // namespace weightserver::cli

#endif  // WEIGHTSERVER_CLI_TEXT_H_
