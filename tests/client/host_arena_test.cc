// Copyright 2026 The Weightserver Authors.
//
// tests/client/host_arena_test.cc: HostArena and ArenaPrefaulter.
#include "client/host_arena.h"

#include <sys/utsname.h>

#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace weightserver::client {
namespace {

// MADV_POPULATE_WRITE exists from Linux 5.14.
bool KernelHasPopulateWrite() {
  utsname u;
  if (uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 5 || (major == 5 && minor >= 14);
}

TEST(HostArenaTest, IsHugePageAlignedAndZeroed) {
  auto arena = HostArena::Allocate(3 << 20);
  ASSERT_TRUE(arena.ok()) << arena.status();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(arena->data()) % (2 << 20), 0u);
  EXPECT_EQ(arena->size(), uint64_t{4} << 20);
  EXPECT_EQ(arena->data()[arena->size() - 1], std::byte{0});
}

TEST(ArenaPrefaulterTest, FaultsEverythingInWithoutChangingBytes) {
  auto arena = HostArena::Allocate(100 << 20);
  ASSERT_TRUE(arena.ok()) << arena.status();
  std::byte* p = arena->data();
  const uint64_t n = arena->size();
  // Bytes written while the prefaulter runs beside the writer survive it.
  ArenaPrefaulter prefault(p, n);
  for (uint64_t at = 0; at < n; at += 4096) p[at] = std::byte{0x5a};
  prefault.Join();
  for (uint64_t at = 0; at < n; at += 4096) {
    ASSERT_EQ(p[at], std::byte{0x5a}) << at;
  }
  if (KernelHasPopulateWrite()) {
    EXPECT_EQ(prefault.faulted(), n);
  } else {
    EXPECT_EQ(prefault.faulted(), 0u);
  }
}

}  // namespace
}  // namespace weightserver::client
