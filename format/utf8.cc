// Copyright 2026 The Weightserver Authors.
//
// format/utf8.cc: strict UTF-8 validation (the table of RFC 3629 §4).
#include "format/utf8.h"

#include <cstdint>

#include "absl/strings/string_view.h"

namespace weightserver::format {
namespace {

bool InRange(uint8_t b, uint8_t lo, uint8_t hi) { return b >= lo && b <= hi; }

// Length of the well-formed sequence starting at bytes[i], or 0 if none.
size_t SequenceLength(absl::string_view bytes, size_t i) {
  const size_t left = bytes.size() - i;
  auto at = [&](size_t k) { return static_cast<uint8_t>(bytes[i + k]); };
  const uint8_t b0 = at(0);
  if (b0 < 0x80) return 1;
  // Second-byte range for each lead byte; the later bytes are always 80..BF.
  uint8_t lo = 0x80, hi = 0xBF;
  size_t len = 0;
  if (InRange(b0, 0xC2, 0xDF)) {
    len = 2;
  } else if (b0 == 0xE0) {
    len = 3, lo = 0xA0;  // No overlongs.
  } else if (InRange(b0, 0xE1, 0xEC) || InRange(b0, 0xEE, 0xEF)) {
    len = 3;
  } else if (b0 == 0xED) {
    len = 3, hi = 0x9F;  // No surrogates.
  } else if (b0 == 0xF0) {
    len = 4, lo = 0x90;  // No overlongs.
  } else if (InRange(b0, 0xF1, 0xF3)) {
    len = 4;
  } else if (b0 == 0xF4) {
    len = 4, hi = 0x8F;  // Nothing above U+10FFFF.
  } else {
    return 0;  // 80..C1 (continuation or overlong lead), F5..FF.
  }
  if (left < len) return 0;
  if (!InRange(at(1), lo, hi)) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (!InRange(at(k), 0x80, 0xBF)) return 0;
  }
  return len;
}

}  // namespace

size_t FirstInvalidUtf8(absl::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<uint8_t>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = SequenceLength(bytes, i);
    if (len == 0) return i;
    i += len;
  }
  return bytes.size();
}

bool IsValidUtf8(absl::string_view bytes) {
  return FirstInvalidUtf8(bytes) == bytes.size();
}

}  // namespace weightserver::format
