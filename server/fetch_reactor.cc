// Copyright 2026 The Weightserver Authors.
//
// server/fetch_reactor.cc
#include "server/fetch_reactor.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "server/grpc_status.h"
#include "util/crc32c.h"

namespace weightserver::server {
namespace {

class FetchReactor final : public grpc::ServerWriteReactor<v1::Chunk> {
 public:
  FetchReactor(FetchPlan plan, std::atomic<int>* active)
      : plan_(std::move(plan)), active_(active) {
    absl::Status status = CheckFiles();
    if (!status.ok()) {
      Finish(ToGrpcStatus(status));
      return;
    }
    entry_ = 0;
    position_ = plan_.entries.empty() ? 0 : plan_.entries[0].begin;
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      // The client went away or the call was cancelled.
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
      return;
    }
    WriteNext();
  }

  void OnDone() override {
    active_->fetch_sub(1);
    delete this;
  }

 private:
  absl::Status CheckFiles() const {
    std::set<const ServedFile*> files;
    for (const PlannedEntry& e : plan_.entries) files.insert(e.file);
    for (const ServedFile* f : files) {
      absl::Status s = f->file->CheckUnchanged();
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("model '", plan_.model->name,
                                                   "': ", s.message()));
      }
    }
    return absl::OkStatus();
  }

  // Skips finished entries; fills chunk_ with the next piece and writes it,
  // or finishes the call when nothing is left.
  void WriteNext() {
    while (entry_ < plan_.entries.size() &&
           position_ >= plan_.entries[entry_].end) {
      ++entry_;
      if (entry_ < plan_.entries.size()) {
        position_ = plan_.entries[entry_].begin;
      }
    }
    if (entry_ >= plan_.entries.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    const PlannedEntry& e = plan_.entries[entry_];
    const uint64_t n = std::min<uint64_t>(plan_.chunk_bytes, e.end - position_);
    chunk_.set_entry(static_cast<uint32_t>(entry_));
    chunk_.set_offset(position_);
    std::string* data = chunk_.mutable_data();
    data->resize(n);
    CopyOutput(e, position_, n, data->data());
    chunk_.set_crc32c(Crc32c(*data));
    position_ += n;
    StartWrite(&chunk_);
  }

  // Copies output bytes [from, from + n) of `e` to `out`.
  static void CopyOutput(const PlannedEntry& e, uint64_t from, uint64_t n,
                         char* out) {
    const std::byte* base = e.file->file->bytes().data();
    uint64_t span_start = 0;
    for (const SourceSpan& s : e.spans) {
      if (n == 0) break;
      if (from < span_start + s.length) {
        const uint64_t skip = from - span_start;
        const uint64_t take = std::min(n, s.length - skip);
        std::memcpy(out, base + s.offset + skip, take);
        out += take;
        from += take;
        n -= take;
      }
      span_start += s.length;
    }
  }

  FetchPlan plan_;
  std::atomic<int>* active_;
  size_t entry_ = 0;
  uint64_t position_ = 0;
  v1::Chunk chunk_;
};

class FailedReactor final : public grpc::ServerWriteReactor<v1::Chunk> {
 public:
  explicit FailedReactor(absl::Status status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::Chunk>* StartFetchReactor(
    FetchPlan plan, std::atomic<int>* active) {
  return new FetchReactor(std::move(plan), active);
}

grpc::ServerWriteReactor<v1::Chunk>* FailedFetchReactor(absl::Status status) {
  return new FailedReactor(std::move(status));
}

}  // namespace weightserver::server
