// Copyright 2026 The Weightserver Authors.
//
// client/fetch.cc: Client::Fetch, the streaming engine.
//
// The plan's outputs are cut into pieces (an output larger than split_bytes
// becomes several), the pieces are dealt to `streams` workers by size (at
// most one worker per split_bytes of the fetch), and each worker runs Fetch
// calls over its pieces, in plan order (at most max_entries_per_call in one
// call). Every chunk is checked: it must belong to an open piece and
// continue it exactly; the sink gives the bytes it lands in, and its CRC32C
// must match them there. A worker whose stream breaks (or that sees a bad
// CRC, or a chunk it did not ask for: the CRC does not cover the header)
// resumes with a new call for what is still missing after a jittered
// exponential backoff, until max_attempts calls in a row made no progress or
// the fetch's deadline passes; other failures (the sink's, or a status that
// no retry can change) stop every worker, and so does a FetchCancel
// (fetch_cancel.h), which also ends the open calls and the backoffs at once.
#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "util/mutex.h"
#include "client/channels.h"
#include "client/fetch_call.h"
#include "client/retry.h"
#include "client/memory_sink.h"
#include "util/crc32c.h"
#include "util/status_context.h"
#include "weightserver/client/client.h"
#include "weightserver/client/fetch_cancel.h"
#include "weightserver/client/fetch_sink.h"
#include "weightserver/client/load_plan.h"
#include "wire/chunk_codec.h"
#include "wire/selection.h"
#include "wire/status.h"

namespace weightserver::client {
namespace {

struct Piece {
  const PlannedTensor* output = nullptr;
  size_t index = 0;   // Of `output` in the plan.
  uint64_t next = 0;  // Next output byte expected.
  uint64_t end = 0;
};

// Shared by the workers of one fetch.
struct FetchState {
  const ModelInfo* model = nullptr;
  const ClientOptions* options = nullptr;
  FetchSink* sink = nullptr;
  FetchCancel* cancel = nullptr;  // May be null.
  uint64_t total = 0;
  absl::Time deadline = absl::InfiniteFuture();  // Of the whole fetch.
  std::atomic<uint64_t> done{0};
  std::atomic<bool> failed{false};
  Mutex mu;  // Serialises progress callbacks and `first_error`.
  absl::Status first_error ABSL_GUARDED_BY(mu);

  void Fail(absl::Status status) {
    MutexLock lock(&mu);
    if (first_error.ok()) first_error = std::move(status);
    failed.store(true);
  }
  bool Cancelled() const { return cancel != nullptr && cancel->cancelled(); }
  // Sleeps `wait`, or less once the fetch is cancelled.
  void Backoff(absl::Duration wait) const { BackoffSleep(wait, cancel); }
  void Advance(uint64_t n) {
    uint64_t now = done.fetch_add(n) + n;
    if (options->progress) {
      MutexLock lock(&mu);
      options->progress(Progress{now, total});
    }
  }
};

std::string Name(absl::string_view tensor) {
  return absl::StrCat("'", absl::CHexEscape(tensor), "'");
}

// One call over the open `pieces`; advances them. Returns the call's outcome;
// sets *sink_error when the destination failed (no retry can help).
absl::Status RunOnce(const std::shared_ptr<grpc::Channel>& channel,
                     FetchState* state, std::vector<Piece*>& pieces,
                     bool* sink_error) {
  v1::FetchRequest request;
  request.set_model(state->model->name);
  request.set_revision(state->model->revision);
  request.set_chunk_size_hint(state->options->chunk_bytes);
  for (const Piece* p : pieces) {
    v1::TensorRequest* tr = request.add_tensors();
    tr->set_name(p->output->name());
    wire::SelectionToProto(p->output->selection.dims, tr);
    tr->set_offset(p->next);
    tr->set_limit(p->end - p->next);
  }
  FetchCall call(channel, request, state->deadline, state->options->token);
  // A cancel from another thread ends the call at once, whatever it waits
  // for; forgotten before `call` is destroyed.
  const uint64_t cancel_id =
      state->cancel == nullptr
          ? 0
          : state->cancel->OnCancel([&call] { call.Cancel(); });
  absl::Cleanup forget = [state, cancel_id] {
    if (cancel_id != 0) state->cancel->Forget(cancel_id);
  };
  grpc::ByteBuffer message;
  absl::Status problem;
  while (call.Read(&message)) {
    if (state->failed.load()) {
      call.Cancel();
      break;
    }
    Piece* piece = nullptr;
    std::byte* acquired = nullptr;  // From the sink, until Commit/Abandon.
    // Checks the header against the open pieces before any byte is copied.
    auto locate = [&](const wire::ChunkHeader& h) -> absl::StatusOr<std::byte*> {
      // A header the CRC does not cover may have been damaged on the way:
      // DATA_LOSS, retried on a new stream like a bad payload.
      if (h.entry >= pieces.size()) {
        return absl::DataLossError(absl::StrCat(
            "server sent a chunk for entry ", h.entry, " of ", pieces.size()));
      }
      Piece& p = *pieces[h.entry];
      if (h.offset != p.next || h.size > p.end - p.next) {
        return absl::DataLossError(absl::StrCat(
            "tensor ", Name(p.output->name()), ": server sent bytes [",
            h.offset, ", ", h.offset + h.size, "), expected [", p.next, ", ",
            p.end, ")"));
      }
      piece = &p;
      absl::StatusOr<std::byte*> bytes =
          state->sink->Acquire(p.index, p.next, h.size);
      if (!bytes.ok()) {
        *sink_error = true;  // Not the network's fault: no retry.
        return bytes.status();
      }
      return acquired = *bytes;
    };
    absl::StatusOr<wire::ChunkHeader> h = wire::DecodeChunk(&message, locate);
    if (!h.ok()) {
      if (acquired != nullptr) state->sink->Abandon(acquired);
      problem = h.status();
      break;
    }
    Piece& p = *piece;
    if (Crc32cExtend(0, acquired, h->size) != h->crc32c) {
      state->sink->Abandon(acquired);
      problem = absl::DataLossError(absl::StrCat(
          "tensor ", Name(p.output->name()), ": CRC32C mismatch in bytes [",
          p.next, ", ", p.next + h->size, ")"));
      break;
    }
    absl::Status committed =
        state->sink->Commit(p.index, p.next, h->size, acquired);
    if (!committed.ok()) {
      *sink_error = true;
      problem = absl::Status(committed.code(),
                             absl::StrCat("tensor ", Name(p.output->name()),
                                          ": ", committed.message()));
      break;
    }
    p.next += h->size;
    state->Advance(h->size);
  }
  if (!problem.ok()) call.Cancel();
  absl::Status status = call.Finish();
  if (!problem.ok()) return problem;
  if (status.ok()) {
    for (const Piece* p : pieces) {
      if (p->next != p->end) {
        return absl::DataLossError(absl::StrCat(
            "tensor ", Name(p->output->name()), ": stream ended at byte ",
            p->next, " of ", p->end));
      }
    }
  }
  return status;
}

// The open pieces of the next call: from the first open one, at most
// max_entries_per_call.
std::vector<Piece*> NextBatch(std::vector<Piece>* pieces, int max_entries) {
  std::vector<Piece*> open;
  for (Piece& p : *pieces) {
    if (p.next >= p.end) continue;
    if (open.size() >= static_cast<size_t>(std::max(max_entries, 1))) break;
    open.push_back(&p);
  }
  return open;
}

uint64_t Remaining(const std::vector<Piece>& pieces) {
  uint64_t n = 0;
  for (const Piece& p : pieces) n += p.end - p.next;
  return n;
}

void Worker(const std::shared_ptr<grpc::Channel>& channel, FetchState* state,
            std::vector<Piece>* pieces) {
  const ClientOptions& o = *state->options;
  absl::Status last;
  // The failed call before `last` since the last good one, for the
  // timeout's message.
  absl::Status failure;
  int calls = 0;
  int without_progress = 0;  // Failed calls in a row that moved no byte.
  absl::Duration backoff = o.retry_initial_backoff;
  // True, with `last` set to CANCELLED, once the fetch is cancelled.
  auto cancelled = [&] {
    if (!state->Cancelled()) return false;
    last = absl::CancelledError("fetch cancelled");
    return true;
  };
  for (;;) {
    std::vector<Piece*> batch = NextBatch(pieces, o.max_entries_per_call);
    if (batch.empty() || state->failed.load()) return;
    if (cancelled()) break;
    const uint64_t before = Remaining(*pieces);
    bool sink_error = false;
    last = RunOnce(channel, state, batch, &sink_error);
    ++calls;
    if (last.ok()) {
      failure = absl::OkStatus();
      without_progress = 0;
      backoff = o.retry_initial_backoff;
      continue;  // The next batch, if any.
    }
    if (state->failed.load()) return;  // Another worker's error stands.
    if (cancelled()) break;
    if (!sink_error && last.code() == absl::StatusCode::kDeadlineExceeded &&
        absl::Now() >= state->deadline) {
      // The call ran into the fetch's deadline: say so, as a backoff that
      // would end past it does, with what went wrong before.
      last = absl::DeadlineExceededError(absl::StrCat(
          "fetch_timeout reached; last failure: ",
          failure.ok() ? "none, the call was still running"
                       : failure.message()));
      break;
    }
    failure = last;
    if (sink_error || !wire::IsRetryable(last.code())) break;
    if (Remaining(*pieces) < before) {
      without_progress = 0;
      backoff = o.retry_initial_backoff;
    }
    if (++without_progress >= o.max_attempts) break;
    const absl::Duration wait = Jittered(backoff);
    if (absl::Now() + wait >= state->deadline) {
      last = absl::DeadlineExceededError(absl::StrCat(
          "fetch_timeout reached; last failure: ", last.message()));
      break;
    }
    state->Backoff(wait);  // A cancel meanwhile ends the loop at its top.
    backoff = std::min(backoff * 2, o.retry_max_backoff);
  }
  const std::string tries =
      calls == 1 ? ""
                 : absl::StrCat(" (after ", calls, " calls on this stream, ",
                                without_progress, " in a row without progress)");
  state->Fail(absl::Status(
      last.code(), absl::StrCat("Fetch model '", state->model->name, "': ",
                                last.message(), tries)));
}

}  // namespace

absl::Status Client::Fetch(const ModelInfo& model,
                           absl::Span<const FetchItem> items) const {
  std::vector<TensorSlice> wanted;
  wanted.reserve(items.size());
  for (const FetchItem& item : items) {
    wanted.push_back({item.tensor, item.selection});
  }
  absl::StatusOr<LoadPlan> plan = PlanLoad(model, wanted);
  if (!plan.ok()) {
    return WithContext("Fetch", plan.status());
  }
  std::vector<std::byte*> bases;
  bases.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].destination.size() != plan->tensors[i].size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Fetch model '", model.name, "': tensor ", Name(items[i].tensor),
          " has ", plan->tensors[i].size, " bytes, destination has ",
          items[i].destination.size()));
    }
    bases.push_back(items[i].destination.data());
  }
  MemorySink sink(*plan, std::move(bases));
  return Fetch(model, *plan, sink);
}

absl::Status Client::Fetch(const ModelInfo& model, const LoadPlan& plan,
                           FetchSink& sink, FetchCancel* cancel) const {
  FetchState state;
  state.model = &model;
  state.options = &options_;
  state.sink = &sink;
  state.cancel = cancel;
  state.total = plan.total_bytes;
  if (options_.fetch_timeout != absl::InfiniteDuration()) {
    state.deadline = absl::Now() + options_.fetch_timeout;
  }
  // Cut outputs into pieces; deal them to the least-loaded worker, biggest
  // first.
  std::vector<Piece> all;
  const uint64_t split = std::max<uint64_t>(options_.split_bytes, 1);
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const PlannedTensor& out = plan.tensors[i];
    for (uint64_t b = 0; b < out.size; b += split) {
      all.push_back(Piece{&out, i, b, std::min(out.size, b + split)});
    }
  }
  if (all.empty()) return absl::OkStatus();
  std::stable_sort(all.begin(), all.end(), [](const Piece& a, const Piece& b) {
    return a.end - a.next > b.end - b.next;
  });
  // At most one stream per split_bytes of the fetch: a stream costs a call,
  // on a connection of its own where there are enough, and the server's
  // read-ahead buffers; a small fetch is faster on fewer, and eight ranks
  // fetching their shards at once keep the server's pool uncontended.
  uint64_t total = 0;
  for (const Piece& p : all) total += p.end - p.next;
  const uint64_t by_size = total / split + (total % split != 0);
  const size_t workers = static_cast<size_t>(std::min<uint64_t>(
      {static_cast<uint64_t>(std::max(options_.streams, 1)), all.size(),
       std::max<uint64_t>(by_size, 1)}));
  std::vector<std::vector<Piece>> dealt(workers);
  std::vector<uint64_t> load(workers, 0);
  for (const Piece& p : all) {
    size_t w = std::min_element(load.begin(), load.end()) - load.begin();
    dealt[w].push_back(p);
    load[w] += p.end - p.next;
  }
  // Each stream then runs its pieces in plan order: the streams' loads stay
  // as balanced, and outputs complete roughly in plan (file) order, which is
  // what a consumer of early outputs (pending_load.h) waits on.
  for (std::vector<Piece>& w : dealt) {
    std::sort(w.begin(), w.end(), [](const Piece& a, const Piece& b) {
      return a.index != b.index ? a.index < b.index : a.next < b.next;
    });
  }
  const std::vector<std::shared_ptr<grpc::Channel>>& channels =
      channels_->fetch;
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) {
    threads.emplace_back(Worker, channels[w % channels.size()], &state,
                         &dealt[w]);
  }
  Worker(channels[0], &state, &dealt[0]);
  for (std::thread& t : threads) t.join();
  MutexLock lock(&state.mu);
  return state.first_error;
}

}  // namespace weightserver::client
