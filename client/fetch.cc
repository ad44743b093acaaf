// Copyright 2026 The Weightserver Authors.
//
// client/fetch.cc: Client::Fetch, the streaming engine.
//
// The requested bytes are cut into pieces (a tensor larger than split_bytes
// becomes several), the pieces are dealt to `streams` workers by size, and
// each worker runs Fetch calls over its pieces. Every chunk is checked: it
// must belong to an open piece, continue it exactly, and its CRC32C must match
// the bytes once they are in the destination. A worker whose stream breaks
// (or that sees a bad CRC) resumes with a new call for what is still missing,
// up to max_attempts calls; other failures stop every worker.
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/chunk_decoder.h"
#include "client/client.h"
#include "client/fetch_sink.h"
#include "util/crc32c.h"

namespace weightserver::client {
namespace {

struct Piece {
  const FetchItem* item = nullptr;
  size_t index = 0;   // Of `item` in the call's span (for a FetchSink).
  uint64_t next = 0;  // Next output byte expected.
  uint64_t end = 0;
};

// Shared by the workers of one Fetch call.
struct FetchState {
  const v1::Model* model = nullptr;
  const ClientOptions* options = nullptr;
  FetchSink* sink = nullptr;  // Null: into FetchItem::destination.
  uint64_t total = 0;
  std::atomic<uint64_t> done{0};
  std::atomic<bool> failed{false};
  std::mutex mu;  // Serialises progress callbacks and `first_error`.
  absl::Status first_error;

  void Fail(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = std::move(status);
    failed.store(true);
  }
  void Advance(uint64_t n) {
    uint64_t now = done.fetch_add(n) + n;
    if (options->progress) {
      std::lock_guard<std::mutex> lock(mu);
      options->progress(Progress{now, total});
    }
  }
};

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDataLoss ||
         code == absl::StatusCode::kAborted ||
         code == absl::StatusCode::kInternal ||
         code == absl::StatusCode::kResourceExhausted;
}

std::string Name(absl::string_view tensor) {
  return absl::StrCat("'", absl::CHexEscape(tensor), "'");
}

// Opens a Fetch call whose responses arrive as raw ByteBuffers, so that each
// chunk is decoded straight into its destination (chunk_decoder.h).
std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> OpenRawFetch(
    grpc::Channel* channel, grpc::ClientContext* context,
    const v1::FetchRequest& request) {
  static const grpc::internal::RpcMethod* const kFetch =
      new grpc::internal::RpcMethod("/weightserver.v1.WeightService/Fetch",
                                    grpc::internal::RpcMethod::SERVER_STREAMING);
  return std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>>(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
          channel, *kFetch, context, request));
}

// One call over the open `pieces`; advances them. Returns the call's outcome;
// sets *protocol_error when the server broke the protocol, or the sink
// failed (neither is worth a retry).
absl::Status RunOnce(grpc::Channel* channel, FetchState* state,
                     std::vector<Piece*>& pieces, bool* protocol_error) {
  v1::FetchRequest request;
  request.set_model(state->model->name());
  request.set_revision(state->model->revision());
  request.set_chunk_size_hint(state->options->chunk_bytes);
  for (const Piece* p : pieces) {
    v1::TensorRequest* tr = request.add_tensors();
    tr->set_name(p->item->tensor);
    if (!p->item->selection.whole()) ToProto(p->item->selection, tr);
    tr->set_offset(p->next);
    tr->set_limit(p->end - p->next);
  }
  grpc::ClientContext context;
  auto reader = OpenRawFetch(channel, &context, request);
  grpc::ByteBuffer message;
  absl::Status problem;
  while (reader->Read(&message)) {
    if (state->failed.load()) {
      context.TryCancel();
      break;
    }
    Piece* piece = nullptr;
    std::byte* acquired = nullptr;  // From the sink, until Commit/Abandon.
    // Checks the header against the open pieces before any byte is copied.
    auto locate = [&](const ChunkHeader& h) -> absl::StatusOr<std::byte*> {
      if (h.entry >= pieces.size()) {
        *protocol_error = true;
        return absl::InternalError(absl::StrCat(
            "server sent a chunk for entry ", h.entry, " of ", pieces.size()));
      }
      Piece& p = *pieces[h.entry];
      if (h.offset != p.next || h.size > p.end - p.next) {
        *protocol_error = true;
        return absl::InternalError(absl::StrCat(
            "tensor ", Name(p.item->tensor), ": server sent bytes [", h.offset,
            ", ", h.offset + h.size, "), expected [", p.next, ", ", p.end,
            ")"));
      }
      piece = &p;
      if (state->sink == nullptr) return p.item->destination.data() + p.next;
      absl::StatusOr<std::byte*> bytes =
          state->sink->Acquire(p.index, p.next, h.size);
      if (!bytes.ok()) {
        *protocol_error = true;  // Not the network's fault: no retry.
        return bytes.status();
      }
      return acquired = *bytes;
    };
    absl::StatusOr<ChunkHeader> h = DecodeChunk(&message, locate);
    if (!h.ok()) {
      if (acquired != nullptr) state->sink->Abandon(acquired);
      problem = h.status();
      break;
    }
    Piece& p = *piece;
    const std::byte* dest =
        acquired != nullptr ? acquired : p.item->destination.data() + p.next;
    if (Crc32cExtend(0, dest, h->size) != h->crc32c) {
      if (acquired != nullptr) state->sink->Abandon(acquired);
      problem = absl::DataLossError(absl::StrCat(
          "tensor ", Name(p.item->tensor), ": CRC32C mismatch in bytes [",
          p.next, ", ", p.next + h->size, ")"));
      break;
    }
    if (acquired != nullptr) {
      absl::Status committed =
          state->sink->Commit(p.index, p.next, h->size, acquired);
      if (!committed.ok()) {
        *protocol_error = true;
        problem = absl::Status(committed.code(),
                               absl::StrCat("tensor ", Name(p.item->tensor),
                                            ": ", committed.message()));
        break;
      }
    }
    p.next += h->size;
    state->Advance(h->size);
  }
  if (!problem.ok()) context.TryCancel();
  absl::Status status = FromGrpcStatus(reader->Finish());
  if (!problem.ok()) return problem;
  if (status.ok()) {
    for (const Piece* p : pieces) {
      if (p->next != p->end) {
        return absl::DataLossError(absl::StrCat(
            "tensor ", Name(p->item->tensor), ": stream ended at byte ",
            p->next, " of ", p->end));
      }
    }
  }
  return status;
}

void Worker(grpc::Channel* channel, FetchState* state,
            std::vector<Piece>* pieces) {
  absl::Status last;
  for (int attempt = 0; attempt < state->options->max_attempts; ++attempt) {
    std::vector<Piece*> open;
    for (Piece& p : *pieces) {
      if (p.next < p.end) open.push_back(&p);
    }
    if (open.empty() || state->failed.load()) return;
    bool protocol_error = false;
    last = RunOnce(channel, state, open, &protocol_error);
    if (last.ok()) return;
    if (protocol_error || !Retryable(last.code())) break;
  }
  state->Fail(absl::Status(
      last.code(), absl::StrCat("Fetch model '", state->model->name(), "': ",
                                last.message())));
}

}  // namespace

absl::Status Client::Fetch(const v1::Model& model,
                           absl::Span<const FetchItem> items) const {
  return FetchTo(model, items, nullptr);
}

absl::Status Client::FetchTo(const v1::Model& model,
                             absl::Span<const FetchItem> items,
                             FetchSink* sink) const {
  absl::flat_hash_map<absl::string_view, const v1::TensorInfo*> by_name;
  for (const v1::TensorInfo& t : model.tensors()) by_name[t.name()] = &t;
  FetchState state;
  state.model = &model;
  state.options = &options_;
  state.sink = sink;
  // Cut items into pieces; deal them to the least-loaded worker, biggest first.
  std::vector<Piece> all;
  for (const FetchItem& item : items) {
    auto it = by_name.find(item.tensor);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Fetch model '", model.name(), "': no tensor ", Name(item.tensor)));
    }
    uint64_t length = it->second->length();
    if (!item.selection.whole()) {
      absl::StatusOr<format::SliceSummary> sliced =
          MeasureSelection(*it->second, item.selection);
      if (!sliced.ok()) {
        return absl::Status(sliced.status().code(),
                            absl::StrCat("Fetch model '", model.name(), "': ",
                                         sliced.status().message()));
      }
      length = sliced->byte_size;
    }
    if (item.destination.size() != length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Fetch model '", model.name(), "': tensor ", Name(item.tensor),
          " has ", length, " bytes, destination has ",
          item.destination.size()));
    }
    state.total += length;
    const uint64_t split = std::max<uint64_t>(options_.split_bytes, 1);
    for (uint64_t b = 0; b < length; b += split) {
      all.push_back(Piece{&item, static_cast<size_t>(&item - items.data()), b,
                          std::min(length, b + split)});
    }
  }
  if (all.empty()) return absl::OkStatus();
  std::stable_sort(all.begin(), all.end(), [](const Piece& a, const Piece& b) {
    return a.end - a.next > b.end - b.next;
  });
  const size_t workers =
      std::min<size_t>(static_cast<size_t>(options_.streams), all.size());
  std::vector<std::vector<Piece>> dealt(workers);
  std::vector<uint64_t> load(workers, 0);
  for (const Piece& p : all) {
    size_t w = std::min_element(load.begin(), load.end()) - load.begin();
    dealt[w].push_back(p);
    load[w] += p.end - p.next;
  }
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) {
    threads.emplace_back(Worker, fetch_channels_[w % fetch_channels_.size()].get(),
                         &state, &dealt[w]);
  }
  Worker(fetch_channels_[0].get(), &state, &dealt[0]);
  for (std::thread& t : threads) t.join();
  return state.first_error;
}

}  // namespace weightserver::client
