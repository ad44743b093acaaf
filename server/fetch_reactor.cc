// Copyright 2026 The Weightserver Authors.
//
// server/fetch_reactor.cc
#include "server/fetch_reactor.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "wire/chunk_codec.h"
#include "wire/status.h"

namespace weightserver::server {
namespace {

// The payload slice's destructor argument: which buffer goes back where.
struct PooledBuffer {
  BufferPool* pool;
  std::byte* buffer;
  size_t bytes;  // As acquired.
};

void ReleasePooledBuffer(void* arg) {
  auto* b = static_cast<PooledBuffer*>(arg);
  b->pool->Release(b->buffer, b->bytes);
  delete b;
}

// A mapped payload slice keeps its file's mapping alive until it is sent.
void ReleaseMapping(void* arg) {
  delete static_cast<std::shared_ptr<const MappedFile>*>(arg);
}

// A resident chunk of at most this many spans is sent from the mapping, one
// slice per span; more fragmented ones are gathered into a pool buffer.
constexpr size_t kMaxMappedSlices = 16;

// Walks an entry's source spans in output order; chunks are cut in order, so
// the cursor only moves forward.
class SpanCursor {
 public:
  void Reset(const PlannedEntry* entry, uint64_t output_pos) {
    entry_ = entry;
    span_ = 0;
    within_ = 0;
    Skip(output_pos);
  }
  // Appends the source spans of the next `n` output bytes to `out`.
  void Take(uint64_t n, std::vector<SourceSpan>* out) {
    // A column shard's chunk has a span per row: size the vector once.
    out->reserve(out->size() + std::min<size_t>(entry_->spans.size() - span_,
                                                kMaxReserve));
    while (n > 0) {
      const SourceSpan& s = entry_->spans[span_];
      const uint64_t take = std::min(n, s.length - within_);
      if (!out->empty() && out->back().offset + out->back().length ==
                               s.offset + within_) {
        out->back().length += take;  // Adjacent: one read.
      } else {
        out->push_back({s.offset + within_, take});
      }
      Advance(take);
      n -= take;
    }
  }

 private:
  void Skip(uint64_t n) {
    while (n > 0 && span_ < entry_->spans.size()) {
      const uint64_t step = std::min(n, entry_->spans[span_].length - within_);
      Advance(step);
      n -= step;
    }
  }
  void Advance(uint64_t n) {
    within_ += n;
    while (span_ < entry_->spans.size() &&
           within_ == entry_->spans[span_].length) {
      ++span_;
      within_ = 0;
    }
  }
  static constexpr size_t kMaxReserve = 1 << 16;
  const PlannedEntry* entry_ = nullptr;
  size_t span_ = 0;
  uint64_t within_ = 0;
};

class FetchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  FetchReactor(FetchPlan plan, const FetchResources& resources,
               std::shared_ptr<StallWatch> watch)
      : plan_(std::move(plan)), res_(resources), watch_(std::move(watch)) {
    if (!plan_.entries.empty()) cursor_.Reset(&plan_.entries[0], plan_.entries[0].begin);
    position_ = plan_.entries.empty() ? 0 : plan_.entries[0].begin;
    Pump();
  }

  void OnWriteDone(bool ok) override {
    // gRPC is done with the message: drop our reference to its payload now,
    // not at the next write. A stream that then waits for a pool buffer must
    // not hold one: with every buffer held by waiting streams, none would
    // ever be released again.
    grpc::ByteBuffer sent;
    watch_->WriteDone();
    {
      std::lock_guard<std::mutex> lock(mu_);
      write_in_flight_ = false;
      sent.Swap(&write_buffer_);
      if (!ok) cancelled_ = true;  // The client went away.
    }
    sent.Clear();  // May release a buffer and run waiters: outside mu_.
    Pump();
  }

  void OnCancel() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
    }
    Pump();
  }

  void OnDone() override {
    watch_->Detach();
    res_.active->fetch_sub(1);
    Unref();
  }

 private:
  struct Slot {
    uint32_t entry = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    std::byte* buffer = nullptr;  // nullptr: sent from the mapping (`spans` of `file`).
    std::shared_ptr<const MappedFile> file;
    std::vector<SourceSpan> spans;
    bool filled = false;
    absl::StatusOr<uint32_t> crc = 0u;
  };

  // Advances the stream as far as it can: starts fills up to the read-ahead
  // depth, starts the next write, or finishes. Never holds mu_ while calling
  // into gRPC or the pool.
  void Pump() {
    std::vector<FillJob> fills;
    // Released after unlocking: a release may run another stream's waiter.
    std::vector<std::pair<std::byte*, size_t>> release;
    bool wait_for_buffer = false;
    bool write = false;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished_) return;
      if (!cancelled_ && !out_of_memory_) PlanFills(&fills, &wait_for_buffer);
      if (cancelled_) {
        if (!write_in_flight_) finish = grpc::Status(grpc::StatusCode::CANCELLED,
                                                     "stream cancelled");
      } else if (write_in_flight_) {
        // Nothing to do until OnWriteDone: one write in flight, and Finish
        // only after it.
      } else if (out_of_memory_) {
        finish = wire::ToGrpcStatus(Annotate(absl::ResourceExhaustedError(
            "out of memory for read-ahead buffers; retry later")));
      } else if (!slots_.empty() && slots_.front()->filled &&
                 !slots_.front()->crc.ok()) {
        finish = wire::ToGrpcStatus(Annotate(slots_.front()->crc.status()));
      } else if (!slots_.empty() && slots_.front()->filled) {
        BuildWrite(*slots_.front());
        slots_.pop_front();
        write_in_flight_ = true;
        write = true;
      } else if (slots_.empty() && AllPlanned()) {
        finish = grpc::Status::OK;
      }
      if (finish.has_value()) {
        finished_ = true;
        for (const auto& s : slots_) {
          // Unfilled slots give their buffer back when their fill returns.
          if (s->filled && s->buffer != nullptr) {
            release.emplace_back(s->buffer, s->size);
          }
        }
        std::erase_if(slots_, [](const auto& s) { return s->filled; });
      }
    }
    for (const auto& [b, bytes] : release) res_.pool->Release(b, bytes);
    for (FillJob& job : fills) res_.filler->Submit(std::move(job));
    if (wait_for_buffer) {
      auto resume = [this](bool out_of_memory) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          waiting_ = false;
          out_of_memory_ = out_of_memory;
        }
        Pump();
        Unref();
      };
      if (!res_.pool->WaitForRelease(plan_.chunk_bytes,
                                     [resume] { resume(false); })) {
        resume(true);  // No buffer can be allocated, and none will be freed.
      }
    }
    if (write) {
      watch_->WriteStarted();
      StartWrite(&write_buffer_);
    }
    if (finish.has_value()) Finish(*finish);
  }

  bool AllPlanned() const { return entry_ >= plan_.entries.size(); }

  void PlanFills(std::vector<FillJob>* fills, bool* wait_for_buffer) {
    SkipFinishedEntries();
    while (!AllPlanned() && slots_.size() < static_cast<size_t>(res_.readahead)) {
      const PlannedEntry& e = plan_.entries[entry_];
      if (!pending_.has_value()) {
        // Cut on a copy of the cursor: committed only once the chunk is
        // issued. A cut that must wait for a buffer is kept for the retry
        // (a fragmented chunk has thousands of spans to walk).
        Cut& cut = pending_.emplace();
        cut.size = std::min<uint64_t>(plan_.chunk_bytes, e.end - position_);
        cut.next = cursor_;
        cut.next.Take(cut.size, &cut.spans);
        cut.mapped =
            res_.send_from_mapping && cut.spans.size() <= kMaxMappedSlices;
        for (size_t i = 0; cut.mapped && i < cut.spans.size(); ++i) {
          cut.mapped = e.file->file->Resident(cut.spans[i].offset,
                                              cut.spans[i].length);
        }
      }
      const uint64_t n = pending_->size;
      const bool mapped = pending_->mapped;
      std::byte* buffer = nullptr;
      if (!mapped) {
        buffer = res_.pool->TryAcquire(n);
        if (buffer == nullptr) {
          if (!waiting_) {
            waiting_ = true;
            ++refs_;
            *wait_for_buffer = true;
          }
          return;
        }
      }
      cursor_ = pending_->next;
      FillJob job;
      job.file = e.file->file.get();
      job.spans = std::move(pending_->spans);
      pending_.reset();
      auto owned = std::make_unique<Slot>();
      owned->entry = static_cast<uint32_t>(entry_);
      owned->offset = position_;
      owned->size = n;
      owned->buffer = buffer;
      if (mapped) {
        owned->file = e.file->file;
        owned->spans = job.spans;
      }
      slots_.push_back(std::move(owned));
      job.buffer = buffer;
      Slot* slot = slots_.back().get();
      job.done = [this, slot](absl::StatusOr<uint32_t> crc) { OnFilled(slot, crc); };
      ++refs_;
      fills->push_back(std::move(job));
      position_ += n;
      SkipFinishedEntries();
    }
  }

  void SkipFinishedEntries() {
    while (!AllPlanned() && position_ >= plan_.entries[entry_].end) {
      ++entry_;
      if (!AllPlanned()) {
        position_ = plan_.entries[entry_].begin;
        cursor_.Reset(&plan_.entries[entry_], position_);
      }
    }
  }

  void OnFilled(Slot* slot, absl::StatusOr<uint32_t> crc) {
    std::byte* release = nullptr;
    size_t release_bytes = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished_) {
        release = slot->buffer;  // nullptr for a mapped slot.
        release_bytes = slot->size;
        std::erase_if(slots_, [slot](const auto& s) { return s.get() == slot; });
      } else {
        slot->filled = true;
        slot->crc = std::move(crc);
      }
    }
    if (release != nullptr) res_.pool->Release(release, release_bytes);
    Pump();
    Unref();
  }

  void BuildWrite(const Slot& slot) {
    std::string header =
        wire::EncodeChunkHeader(slot.entry, slot.offset, *slot.crc, slot.size);
    std::vector<grpc::Slice> parts;
    parts.reserve(1 + slot.spans.size());
    parts.emplace_back(header);
    if (slot.buffer != nullptr) {
      parts.emplace_back(slot.buffer, slot.size, ReleasePooledBuffer,
                         new PooledBuffer{res_.pool, slot.buffer, slot.size});
    } else {
      std::byte* base = const_cast<std::byte*>(slot.file->bytes().data());
      for (const SourceSpan& s : slot.spans) {
        parts.emplace_back(base + s.offset, s.length, ReleaseMapping,
                           new std::shared_ptr<const MappedFile>(slot.file));
      }
    }
    write_buffer_ = grpc::ByteBuffer(parts.data(), parts.size());
    if (res_.bytes_sent != nullptr) res_.bytes_sent->fetch_add(slot.size);
  }

  absl::Status Annotate(const absl::Status& s) const {
    return absl::Status(s.code(), absl::StrCat("model '", plan_.model->name,
                                               "': ", s.message()));
  }

  void Unref() {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last = --refs_ == 0;
    }
    if (last) delete this;
  }

  FetchPlan plan_;
  const FetchResources res_;
  const std::shared_ptr<StallWatch> watch_;
  std::mutex mu_;
  // Guarded by mu_:
  size_t entry_ = 0;       // Next entry to cut chunks from.
  uint64_t position_ = 0;  // Next output byte of that entry.
  SpanCursor cursor_;
  // The next chunk, cut but waiting for a pool buffer.
  struct Cut {
    SpanCursor next;  // The cursor after it.
    std::vector<SourceSpan> spans;
    uint64_t size = 0;
    bool mapped = false;
  };
  std::optional<Cut> pending_;
  // Issued chunks, in stream order; fills hold Slot pointers, so each slot
  // lives on the heap until it is written or dropped.
  std::deque<std::unique_ptr<Slot>> slots_;
  grpc::ByteBuffer write_buffer_;
  bool write_in_flight_ = false;
  bool waiting_ = false;
  bool out_of_memory_ = false;  // The pool can give no buffer, ever.
  bool cancelled_ = false;
  bool finished_ = false;
  int refs_ = 1;  // gRPC's (released in OnDone), + fills and waits out.
};

class FailedReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit FailedReactor(absl::Status status) { Finish(wire::ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* StartFetchReactor(
    FetchPlan plan, const FetchResources& resources,
    std::shared_ptr<StallWatch> watch) {
  return new FetchReactor(std::move(plan), resources, std::move(watch));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* FailedFetchReactor(
    absl::Status status) {
  return new FailedReactor(std::move(status));
}

}  // namespace weightserver::server
