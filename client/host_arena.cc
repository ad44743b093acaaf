// Copyright 2026 The Weightserver Authors.
//
// client/host_arena.cc
#include "client/host_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace weightserver::client {
namespace {
constexpr uint64_t kHugePage = 2 << 20;
constexpr uint64_t kPrefaultStep = 32 << 20;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
constexpr size_t kBalloonReportingBit = 5;  // VIRTIO_BALLOON_F_REPORTING

std::vector<std::string> BalloonFeatures() {
  std::vector<std::string> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(
           "/sys/bus/virtio/drivers/virtio_balloon", ec), end;
       !ec && it != end; it.increment(ec)) {
    std::ifstream in(it->path() / "features");
    std::string bits;
    if (in >> bits) out.push_back(bits);
  }
  return out;
}
}  // namespace

bool HugePagesFor(const char* env,
                  const std::vector<std::string>& balloon_features) {
  if (env != nullptr && std::strcmp(env, "1") == 0) return true;
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  for (const std::string& bits : balloon_features) {
    if (bits.size() > kBalloonReportingBit &&
        bits[kBalloonReportingBit] == '1') {
      return false;
    }
  }
  return true;
}

bool ArenaUsesHugePages() {
  static const bool huge =
      HugePagesFor(std::getenv("WEIGHTSERVER_HUGE_PAGES"), BalloonFeatures());
  return huge;
}

absl::StatusOr<HostArena> HostArena::Allocate(uint64_t size) {
  const uint64_t mapped =
      std::max<uint64_t>(1, (size + kHugePage - 1) / kHugePage) * kHugePage;
  // Over-map by one huge page to align the start to 2 MiB.
  void* raw = mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map ", size, " bytes of host memory: ",
                     std::strerror(errno)));
  }
  auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + mapped + kHugePage;
  if (end > aligned + mapped) {
    munmap(reinterpret_cast<void*>(aligned + mapped), end - (aligned + mapped));
  }
  // Best effort: without THP the memory still works with small pages.
  madvise(reinterpret_cast<void*>(aligned), mapped,
          ArenaUsesHugePages() ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return HostArena(reinterpret_cast<std::byte*>(aligned), mapped);
}

HostArena::HostArena(HostArena&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

HostArena& HostArena::operator=(HostArena&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HostArena::~HostArena() {
  if (data_ != nullptr) munmap(data_, size_);
}

ArenaPrefaulter::ArenaPrefaulter(std::byte* data, uint64_t size)
    : thread_([this, data, size] {
        for (uint64_t at = 0; at < size && !stop_.load(); at += kPrefaultStep) {
          const uint64_t n = std::min(kPrefaultStep, size - at);
          if (madvise(data + at, n, MADV_POPULATE_WRITE) != 0) return;
          faulted_.fetch_add(n);
        }
      }) {}

void ArenaPrefaulter::Join() {
  if (thread_.joinable()) thread_.join();
}

ArenaPrefaulter::~ArenaPrefaulter() {
  stop_.store(true);
  Join();
}

}  // namespace weightserver::client
