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

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_CRC32C_H_
