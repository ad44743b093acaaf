// Copyright 2026 The Weightserver Authors.
//
// server/extra_file_reactor.cc
#include "server/extra_file_reactor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/failed_reactor.h"
#include "server/write_pacer.h"
#include "util/crc32c.h"
#include "util/errno_status.h"
#include "wire/status.h"

namespace weightserver::server {
namespace {

class ExtraFileReactor final : public grpc::ServerWriteReactor<v1::Chunk> {
 public:
  ExtraFileReactor(std::shared_ptr<const Model> model,
                   const ServedExtraFile* file, uint32_t chunk_bytes,
                   std::atomic<int>* active, std::atomic<uint64_t>* bytes_sent,
                   std::shared_ptr<StallWatch> watch,
                   std::unique_ptr<ClientLimiter::Stream> limits,
                   std::unique_ptr<CallRecord> record)
      : model_(std::move(model)),
        file_(file),
        chunk_bytes_(chunk_bytes),
        active_(active),
        bytes_sent_(bytes_sent),
        watch_(std::move(watch)),
        limits_(std::move(limits)),
        record_(std::move(record)) {
    absl::Status opened = Open();
    if (!opened.ok()) {
      End(wire::ToGrpcStatus(opened));
      return;
    }
    Next();
  }

  void OnWriteDone(bool ok) override {
    watch_->WriteDone();
    if (!ok) {  // The client went away; the call is over.
      End(grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled"));
      return;
    }
    offset_ += static_cast<uint64_t>(chunk_.data().size());
    // Counted as written, not in OnDone: that may run after the client has
    // seen the end of the stream.
    bytes_sent_->fetch_add(chunk_.data().size(), std::memory_order_relaxed);
    if (record_ != nullptr) record_->Sent(chunk_.data().size());
    Next();
  }

  void OnCancel() override { pacer_.Cancel(); }

  void OnDone() override {
    watch_->Detach();
    if (fd_ >= 0) close(fd_);
    active_->fetch_sub(1);
    if (record_ != nullptr) record_->Done();
    delete this;
  }

 private:
  // Frees the client's slot before the client hears of the end, then
  // finishes.
  void End(const grpc::Status& status) {
    limits_.reset();
    if (record_ != nullptr) record_->SetStatus(wire::FromGrpcStatus(status));
    Finish(status);
  }

  std::string Label() const {
    return absl::StrCat("model '", model_->name, "': extra file ", file_->name);
  }

  absl::Status Changed() const {
    return absl::FailedPreconditionError(absl::StrCat(
        Label(), " changed since the model was scanned (revision ",
        model_->revision, "); the server serves the new version after the "
        "next rescan"));
  }

  absl::Status Open() {
    fd_ = open(file_->path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) {
      if (errno == ENOENT) return Changed();
      return ErrnoStatus(errno, "open", Label());
    }
    return CheckUnchanged();
  }

  absl::Status CheckUnchanged() const {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", Label());
    return S_ISREG(st.st_mode) && IdentityOf(st) == file_->identity
               ? absl::OkStatus()
               : Changed();
  }

  // Reads and writes the next chunk, or finishes.
  void Next() {
    const uint64_t size = file_->identity.size;
    if (offset_ >= size) {
      End(wire::ToGrpcStatus(CheckUnchanged()));
      return;
    }
    const auto n =
        static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, size - offset_));
    std::string* data = chunk_.mutable_data();
    data->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = pread(fd_, data->data() + got, n - got,
                        static_cast<off_t>(offset_ + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        End(wire::ToGrpcStatus(ErrnoStatus(errno, "read", Label())));
        return;
      }
      if (r == 0) {
        End(wire::ToGrpcStatus(Changed()));  // It shrank.
        return;
      }
      got += static_cast<size_t>(r);
    }
    chunk_.set_entry(0);
    chunk_.set_offset(offset_);
    chunk_.set_crc32c(Crc32c(*data));
    const absl::Duration wait = limits_->Reserve(n);
    if (wait <= absl::ZeroDuration()) {
      watch_->WriteStarted();
      StartWrite(&chunk_);
      return;
    }
    if (record_ != nullptr) record_->Paced(n, wait);
    // The stream cannot end while the timer is set (no write, no finish),
    // so `this` outlives the callback's use of it.
    pacer_.After(wait, [this](bool fired) {
      if (!fired) {
        End(grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled"));
        return;
      }
      watch_->WriteStarted();
      StartWrite(&chunk_);
    });
  }

  std::shared_ptr<const Model> model_;  // Keeps file_ alive.
  const ServedExtraFile* file_;
  const uint32_t chunk_bytes_;
  std::atomic<int>* active_;
  std::atomic<uint64_t>* bytes_sent_;
  int fd_ = -1;
  const std::shared_ptr<StallWatch> watch_;
  std::unique_ptr<ClientLimiter::Stream> limits_;  // Reset by End.
  // Metrics and access log (nullptr: neither is on); Done in OnDone.
  const std::unique_ptr<CallRecord> record_;
  WritePacer pacer_;
  uint64_t offset_ = 0;
  v1::Chunk chunk_;
};

}  // namespace

grpc::ServerWriteReactor<v1::Chunk>* StartExtraFileReactor(
    std::shared_ptr<const Model> model, const ServedExtraFile* file,
    uint32_t chunk_bytes, std::atomic<int>* active,
    std::atomic<uint64_t>* bytes_sent, std::shared_ptr<StallWatch> watch,
    std::unique_ptr<ClientLimiter::Stream> limits,
    std::unique_ptr<CallRecord> record) {
  return new ExtraFileReactor(std::move(model), file, chunk_bytes, active,
                              bytes_sent, std::move(watch), std::move(limits),
                              std::move(record));
}

grpc::ServerWriteReactor<v1::Chunk>* FailedExtraFileReactor(
    absl::Status status, std::unique_ptr<CallRecord> record) {
  return new FailedReactor<v1::Chunk>(std::move(status), std::move(record));
}

}  // namespace weightserver::server
