// Copyright 2026 The Weightserver Authors.
//
// client/read_bytes.cc: Client::ReadBytes, raw byte ranges of a model's
// .safetensors files (what a cache copies).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/channels.h"
#include "client/fetch_call.h"
#include "client/retry.h"
#include "util/crc32c.h"
#include "util/quote.h"
#include "weightserver/client/client.h"
#include "weightserver/client/fetch_cancel.h"
#include "wire/chunk_codec.h"
#include "wire/status.h"

namespace weightserver::client {
namespace {

constexpr char kReadBytesMethod[] = "/weightserver.v1.WeightService/ReadBytes";

}  // namespace

absl::Status Client::ReadBytes(const ModelInfo& model, absl::string_view file,
                               uint64_t offset, absl::Span<std::byte> destination,
                               FetchCancel* cancel) const {
  const ModelFile* listed = nullptr;
  for (const ModelFile& f : model.files) {
    if (f.name == file) listed = &f;
  }
  if (listed == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "model '", model.name, "' lists no file ", QuoteInput(file)));
  }
  if (offset > listed->size || destination.size() > listed->size - offset) {
    return absl::OutOfRangeError(absl::StrCat(
        "model '", model.name, "' file '", listed->name, "': bytes [", offset,
        ", ", offset + destination.size(), ") asked, the file has ",
        listed->size));
  }
  const std::string label =
      absl::StrCat("ReadBytes of model '", model.name, "' file '", listed->name,
                   "' [", offset, ", ", offset + destination.size(), ") from ",
                   target_);
  const absl::Time deadline = options_.fetch_timeout == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : absl::Now() + options_.fetch_timeout;
  uint64_t done = 0;
  int without_progress = 0;
  int calls = 0;
  absl::Duration backoff = options_.retry_initial_backoff;
  absl::Status last;
  static std::atomic<uint64_t> next_channel{0};
  while (done < destination.size() || calls == 0) {
    if (cancel != nullptr && cancel->cancelled()) {
      return absl::CancelledError(absl::StrCat(label, ": cancelled"));
    }
    v1::ReadBytesRequest request;
    request.set_model(model.name);
    request.set_revision(model.revision);
    request.set_file(listed->name);
    request.set_offset(offset + done);
    request.set_length(destination.size() - done);
    request.set_chunk_size_hint(options_.chunk_bytes);
    if (destination.size() == 0) {
      // An empty range: nothing to ask (length 0 means "to the end").
      return absl::OkStatus();
    }
    const auto& channels = channels_->fetch;
    FetchCall call(channels[next_channel.fetch_add(1) % channels.size()],
                   request, deadline, options_.token, kReadBytesMethod);
    const uint64_t cancel_id =
        cancel != nullptr ? cancel->OnCancel([&call] { call.Cancel(); }) : 0;
    ++calls;
    const uint64_t before = done;
    absl::Status broken;
    grpc::ByteBuffer message;
    while (broken.ok() && call.Read(&message)) {
      absl::StatusOr<wire::ChunkHeader> h = wire::DecodeChunk(
          &message,
          [&](const wire::ChunkHeader& h) -> absl::StatusOr<std::byte*> {
            if (h.entry != 0 || h.offset != offset + done ||
                h.size > destination.size() - done) {
              return absl::DataLossError(absl::StrCat(
                  label, ": chunk of entry ", h.entry, " at offset ", h.offset,
                  " (", h.size, " bytes) after ", done, " bytes"));
            }
            return destination.data() + done;
          });
      if (!h.ok()) {
        broken = h.status();
      } else if (Crc32c(destination.subspan(done, h->size)) != h->crc32c) {
        broken = absl::DataLossError(
            absl::StrCat(label, ": CRC32C mismatch in bytes [", h->offset, ", ",
                         h->offset + h->size, ")"));
      } else {
        done += h->size;
      }
    }
    if (!broken.ok()) call.Cancel();
    absl::Status status = call.Finish();
    if (cancel != nullptr) cancel->Forget(cancel_id);
    if (broken.ok() && status.ok() && done == destination.size()) {
      return absl::OkStatus();
    }
    if (!broken.ok()) {
      last = broken;
    } else if (status.ok()) {
      last = absl::DataLossError(absl::StrCat(label, ": stream ended after ",
                                              done, " bytes"));
    } else {
      last = absl::Status(status.code(),
                          absl::StrCat(label, ": ", status.message()));
      if (!wire::IsRetryable(status.code())) return last;
    }
    if (cancel != nullptr && cancel->cancelled()) {
      return absl::CancelledError(absl::StrCat(label, ": cancelled"));
    }
    if (done > before) {
      without_progress = 0;
      backoff = options_.retry_initial_backoff;
    }
    if (++without_progress >= options_.max_attempts) break;
    const absl::Duration wait = Jittered(backoff);
    if (absl::Now() + wait >= deadline) break;
    BackoffSleep(wait, cancel);
    backoff = std::min(backoff * 2, options_.retry_max_backoff);
  }
  return absl::Status(last.code(),
                      absl::StrCat(last.message(), " (after ", calls,
                                   " calls, ", without_progress,
                                   " in a row without progress)"));
}

}  // namespace weightserver::client
