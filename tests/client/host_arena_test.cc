// Copyright 2026 The Weightserver Authors.
//
// tests/client/host_arena_test.cc: HostArena and ArenaPrefaulter.
#include "client/host_arena.h"

#include <sys/utsname.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
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

TEST(HugePagesForTest, OffOnlyWhereTheBalloonReportsFreePagesOrAsked) {
  // Bits 1, 2, 5 (VIRTIO_BALLOON_F_REPORTING) and 7: this VM's balloon.
  const std::string reporting = "0110010100000000";
  const std::string not_reporting = "0110000100000000";
  EXPECT_TRUE(HugePagesFor(nullptr, {}));  // No balloon: bare metal, most VMs.
  EXPECT_TRUE(HugePagesFor(nullptr, {not_reporting}));
  EXPECT_FALSE(HugePagesFor(nullptr, {reporting}));
  EXPECT_FALSE(HugePagesFor(nullptr, {not_reporting, reporting}));
  EXPECT_TRUE(HugePagesFor(nullptr, {"011"}));  // Too short to say.
  EXPECT_TRUE(HugePagesFor("1", {reporting}));
  EXPECT_FALSE(HugePagesFor("0", {}));
  EXPECT_FALSE(HugePagesFor("yes", {reporting}));  // Ignored.
  EXPECT_TRUE(HugePagesFor("", {}));
}

// The arena's mapping carries the advice ArenaUsesHugePages() chose: "hg"
// (MADV_HUGEPAGE) or "nh" (MADV_NOHUGEPAGE) among its VmFlags.
TEST(HostArenaTest, AsksForThePagesDecided) {
  auto arena = HostArena::Allocate(4 << 20);
  ASSERT_TRUE(arena.ok()) << arena.status();
  const auto at = reinterpret_cast<uintptr_t>(arena->data());
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  std::string flags;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long start = 0, end = 0;
    // A mapping's first line ("START-END perms ..."); its fields follow.
    if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2) {
      inside = start <= at && at < end;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) {
      flags = line;
      break;
    }
  }
  ASSERT_FALSE(flags.empty()) << "no mapping holds the arena";
  const std::string want = ArenaUsesHugePages() ? " hg" : " nh";
  EXPECT_NE(flags.find(want), std::string::npos) << flags;
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
