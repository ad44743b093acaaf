// Copyright 2026 The Weightserver Authors.
//
// util/crc32c.cc: CRC32C through ISA-L.
#include "util/crc32c.h"

#include <isa-l/crc.h>

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

}  // namespace weightserver
