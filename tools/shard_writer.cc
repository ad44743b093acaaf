// Copyright 2026 The Weightserver Authors.
//
// tools/shard_writer.cc: demo tensor bytes and the file writer (see
// shard_writer.h). The bytes go through one 4 MiB buffer written with
// pwrite at increasing offsets, so memory stays small for any model size.
#include "tools/shard_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace weightserver::tools {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

absl::Status Errno(absl::string_view op, const std::string& path) {
  const int e = errno;
  return absl::Status(absl::ErrnoToStatusCode(e),
                      absl::StrCat(op, " ", path, ": ", std::strerror(e)));
}

// Appends bytes to a file through a buffer flushed with pwrite.
class BufferedFile {
 public:
  BufferedFile(int fd, std::string path)
      : fd_(fd), path_(std::move(path)), buffer_(kBufferBytes) {}

  // Free space at the end of the buffer (flushes first when full).
  absl::StatusOr<absl::Span<std::byte>> Tail() {
    if (used_ == buffer_.size()) RETURN_IF_ERROR(Flush());
    return absl::MakeSpan(buffer_).subspan(used_);
  }
  void Commit(size_t n) { used_ += n; }

  absl::Status Flush() {
    size_t done = 0;
    while (done < used_) {
      ssize_t n = pwrite(fd_, buffer_.data() + done, used_ - done,
                         static_cast<off_t>(offset_ + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Errno("cannot write", path_);
      done += static_cast<size_t>(n);
    }
    offset_ += used_;
    used_ = 0;
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kBufferBytes = 4 << 20;
  int fd_;
  std::string path_;
  std::vector<std::byte> buffer_;
  size_t used_ = 0;
  uint64_t offset_ = 0;
};

absl::Status WriteAll(BufferedFile& file, TensorStream& stream) {
  while (stream.remaining() > 0) {
    ASSIGN_OR_RETURN(absl::Span<std::byte> tail, file.Tail());
    file.Commit(stream.Read(tail.data(), tail.size()));
  }
  return absl::OkStatus();
}

}  // namespace

TensorStream::TensorStream(const DemoTensor& tensor, uint64_t size)
    : fill_(tensor.fill),
      dtype_(tensor.spec.dtype),
      size_(size),
      state_(SplitMix64(tensor.seed) | 1),
      block_(kBlockBytes) {}

size_t TensorStream::Read(std::byte* out, size_t n) {
  size_t copied = 0;
  while (copied < n && position_ < size_) {
    if (position_ >= block_start_ + block_size_) Generate();
    const size_t offset = position_ - block_start_;
    const size_t take = std::min<uint64_t>(n - copied, block_size_ - offset);
    std::memcpy(out + copied, block_.data() + offset, take);
    copied += take;
    position_ += take;
  }
  return copied;
}

void TensorStream::Generate() {
  block_start_ = position_;  // Always a multiple of kBlockBytes.
  block_size_ = std::min<uint64_t>(kBlockBytes, size_ - position_);
  const size_t words = (block_size_ + 7) / 8;
  uint64_t* w = reinterpret_cast<uint64_t*>(block_.data());
  const uint64_t first = block_start_;
  auto next = [this] {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  };
  Fill fill = fill_;
  if (fill == Fill::kWeight && dtype_ != format::DType::kBF16 &&
      dtype_ != format::DType::kF16) {
    fill = Fill::kRandom;
  }
  switch (fill) {
    case Fill::kWeight: {
      // Four 16-bit lanes a word: keep sign + mantissa, force a small exponent.
      const bool bf16 = dtype_ == format::DType::kBF16;
      const uint64_t keep =
          bf16 ? 0x807F807F807F807FULL : 0x83FF83FF83FF83FFULL;
      const int shift = bf16 ? 7 : 10;
      const uint64_t base = bf16 ? 117 : 7;  // Exponent bias 127 / 15.
      const uint64_t lanes = 0x0001000100010001ULL;
      for (size_t i = 0; i < words; ++i) {
        const uint64_t r = next();
        const uint64_t exponent = ((r >> shift) & (7 * lanes)) + base * lanes;
        w[i] = (r & keep) | (exponent << shift);
      }
      break;
    }
    case Fill::kNorm: {
      float* f = reinterpret_cast<float*>(block_.data());
      for (size_t i = 0; i < words * 2; ++i) {
        const int32_t r = static_cast<int32_t>(next() & 0xFFFF) - 32768;
        f[i] = 1.0f + static_cast<float>(r) * (0.05f / 32768);
      }
      break;
    }
    case Fill::kInvFreq: {
      float* f = reinterpret_cast<float*>(block_.data());
      const double n = static_cast<double>(size_ / 4);
      for (size_t i = 0; i < words * 2; ++i) {
        const double index = static_cast<double>(first / 4 + i);
        f[i] = static_cast<float>(1.0 / std::pow(10000.0, index / n));
      }
      break;
    }
    case Fill::kPositions: {
      if (dtype_ == format::DType::kI32) {
        int32_t* p = reinterpret_cast<int32_t*>(block_.data());
        for (size_t i = 0; i < words * 2; ++i) {
          p[i] = static_cast<int32_t>(first / 4 + i);
        }
      } else {
        int64_t* p = reinterpret_cast<int64_t*>(block_.data());
        for (size_t i = 0; i < words; ++i) {
          p[i] = static_cast<int64_t>(first / 8 + i);
        }
      }
      break;
    }
    case Fill::kRandom:
      for (size_t i = 0; i < words; ++i) w[i] = next();
      break;
  }
}

absl::Status WriteShard(const std::string& path,
                        absl::Span<const DemoTensor> tensors) {
  std::vector<format::TensorSpec> specs;
  specs.reserve(tensors.size());
  for (const DemoTensor& t : tensors) specs.push_back(t.spec);
  ASSIGN_OR_RETURN(format::FileLayout layout,
                   format::PlanFile(specs, format::Metadata{{"format", "pt"}}));
  // layout.tensors is in data order; find the input tensor of each.
  std::vector<size_t> input_of(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) input_of[layout.order[i]] = i;

  const std::string temp = absl::StrCat(path, ".tmp");
  const int fd =
      ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temp);
  bool closed = false;
  absl::Status status = [&]() -> absl::Status {
    BufferedFile file(fd, temp);
    // The header first (it may exceed one buffer for a huge table).
    for (size_t done = 0; done < layout.header_bytes.size();) {
      ASSIGN_OR_RETURN(absl::Span<std::byte> tail, file.Tail());
      const size_t n = std::min(tail.size(), layout.header_bytes.size() - done);
      std::memcpy(tail.data(), layout.header_bytes.data() + done, n);
      file.Commit(n);
      done += n;
    }
    for (size_t j = 0; j < layout.tensors.size(); ++j) {
      TensorStream stream(tensors[input_of[j]], layout.tensors[j].size());
      RETURN_IF_ERROR(WriteAll(file, stream));
    }
    RETURN_IF_ERROR(file.Flush());
    closed = true;
    if (::close(fd) != 0) return Errno("cannot close", temp);
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    if (!closed) ::close(fd);
    ::unlink(temp.c_str());
    return status;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("cannot rename to", path);
    ::unlink(temp.c_str());
    return s;
  }
  return absl::OkStatus();
}

}  // namespace weightserver::tools
