// Copyright 2026 The Weightserver Authors.
//
// util/byte_size.cc
#include "util/byte_size.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weightserver {

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  const absl::string_view original = text;
  auto bad = [&original] {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", original, "' is not a size (bytes, or a number with K, M, G, T "
        "or P: powers of 1024, e.g. 800G)"));
  };
  text = absl::StripAsciiWhitespace(text);
  if (!text.empty() && (text.back() == 'B' || text.back() == 'b')) {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.back() == 'i') text.remove_suffix(1);
  int shift = 0;
  if (!text.empty()) {
    switch (absl::ascii_toupper(static_cast<unsigned char>(text.back()))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      case 'P': shift = 50; break;
      default: break;
    }
    if (shift != 0) text.remove_suffix(1);
  }
  // Digits and at most one decimal point: no sign, exponent or hex.
  if (text.empty() || text.find_first_not_of("0123456789.") != absl::string_view::npos ||
      text.find('.') != text.rfind('.') || text == ".") {
    return bad();
  }
  uint64_t whole = 0;
  if (absl::SimpleAtoi(text, &whole)) {
    if (shift > 0 && whole > (UINT64_MAX >> shift)) return bad();
    return whole << shift;
  }
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || value < 0) {
    return bad();
  }
  const double bytes = std::ldexp(value, shift);
  if (bytes >= 18446744073709551615.0) return bad();
  return static_cast<uint64_t>(bytes);
}

}  // namespace weightserver
