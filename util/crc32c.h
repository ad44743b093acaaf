// Copyright 2026 The Weightserver Authors.
//
// util/crc32c.h: CRC32C (Castagnoli), the checksum carried by every chunk.
//
// This is the standard CRC32C of iSCSI, gRPC and GCS, so a client in any
// language can check it: Crc32c("123456789") == 0xE3069283. It is computed by
// ISA-L's crc32_iscsi (tens of GB/s with SSE4.2/PCLMUL).
//
// Example:
//   uint32_t crc = Crc32c(AsBytes(payload));
//   crc = Crc32cExtend(crc, AsBytes(more));  // == Crc32c(payload + more)
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_UTIL_CRC32C_H_
#define WEIGHTSERVER_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace weightserver {

// Returns the CRC32C of the concatenation of the bytes summarised by `crc`
// and `data`. Crc32cExtend(0, data) == Crc32c(data).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

// Returns the CRC32C of `data`.
inline uint32_t Crc32c(absl::Span<const std::byte> data) {
  return Crc32cExtend(0, data.data(), data.size());
}
inline uint32_t Crc32c(absl::string_view data) {
  return Crc32cExtend(0, data.data(), data.size());
}

// Combines checksums of adjacent pieces without reading them again: for any
// A and any B of `suffix_length` bytes,
//   Crc32cCombiner(|B|).Combine(Crc32c(A), Crc32c(B)) == Crc32c(A + B).
// (The CRC of A, shifted by |B| zero bytes, is a linear map of it: the
// constructor tabulates that map, Combine is four lookups.)
//
// Example:
//   static const Crc32cCombiner kBlock(64 << 10);
//   crc = kBlock.Combine(crc, cached_crc_of_next_block);
class Crc32cCombiner {
 public:
  explicit Crc32cCombiner(uint64_t suffix_length);

  uint32_t Combine(uint32_t crc_a, uint32_t crc_b) const {
    return table_[0][crc_a & 0xff] ^ table_[1][(crc_a >> 8) & 0xff] ^
           table_[2][(crc_a >> 16) & 0xff] ^ table_[3][crc_a >> 24] ^ crc_b;
  }

 private:
  uint32_t table_[4][256];
};

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_CRC32C_H_
