// Copyright 2026 The Weightserver Authors.
//
// util/crc32c.cc: CRC32C through ISA-L.
#include "util/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <vector>

namespace weightserver {

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  // ISA-L's crc32_iscsi neither pre- nor post-inverts; the standard CRC32C
  // inverts both, so the running value is kept inverted across calls.
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t state = ~crc;
  while (size > 0) {
    // crc32_iscsi takes an int length.
    const size_t n = size > (1u << 30) ? (1u << 30) : size;
    state = crc32_iscsi(const_cast<unsigned char*>(p), static_cast<int>(n), state);
    p += n;
    size -= n;
  }
  return ~state;
}

Crc32cCombiner::Crc32cCombiner(uint64_t suffix_length) {
  // Crc32c(A + B) = L(Crc32c(A)) ^ Crc32c(B), where L is the raw register
  // update over |B| zero bytes: L(s) = crc32_iscsi(zeros, |B|, s), linear in
  // s. Tabulate L on each bit, then on each byte of s.
  static const std::vector<unsigned char> zeros(1 << 16, 0);
  uint32_t bit_image[32];
  for (int i = 0; i < 32; ++i) {
    uint32_t state = 1u << i;
    for (uint64_t left = suffix_length; left > 0;) {
      const uint64_t n = std::min<uint64_t>(left, zeros.size());
      state = crc32_iscsi(const_cast<unsigned char*>(zeros.data()),
                          static_cast<int>(n), state);
      left -= n;
    }
    bit_image[i] = state;
  }
  for (int byte = 0; byte < 4; ++byte) {
    for (uint32_t v = 0; v < 256; ++v) {
      uint32_t image = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if (v & (1u << bit)) image ^= bit_image[8 * byte + bit];
      }
      table_[byte][v] = image;
    }
  }
}

}  // namespace weightserver
