// Copyright 2026 The Weightserver Authors.
//
// server/fetch_scheduler.cc
#include "server/fetch_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace weightserver::server {
namespace {

// A column shard's chunk has a span per row: Take sizes its vector once, up
// to this many.
constexpr size_t kMaxReserve = 1 << 16;

}  // namespace

void FetchScheduler::SpanCursor::Reset(const PlannedEntry* entry,
                                       uint64_t output_pos) {
  entry_ = entry;
  span_ = 0;
  within_ = 0;
  Skip(output_pos);
}

void FetchScheduler::SpanCursor::Take(uint64_t n,
                                      std::vector<SourceSpan>* out) {
  out->reserve(out->size() +
               std::min<size_t>(entry_->spans.size() - span_, kMaxReserve));
  while (n > 0) {
    const SourceSpan& s = entry_->spans[span_];
    const uint64_t take = std::min(n, s.length - within_);
    if (!out->empty() &&
        out->back().offset + out->back().length == s.offset + within_) {
      out->back().length += take;  // Adjacent: one read.
    } else {
      out->push_back({s.offset + within_, take});
    }
    Advance(take);
    n -= take;
  }
}

void FetchScheduler::SpanCursor::Skip(uint64_t n) {
  while (n > 0 && span_ < entry_->spans.size()) {
    const uint64_t step = std::min(n, entry_->spans[span_].length - within_);
    Advance(step);
    n -= step;
  }
}

void FetchScheduler::SpanCursor::Advance(uint64_t n) {
  within_ += n;
  while (span_ < entry_->spans.size() &&
         within_ == entry_->spans[span_].length) {
    ++span_;
    within_ = 0;
  }
}

FetchScheduler::FetchScheduler(FetchPlan plan, Options options)
    : plan_(std::move(plan)), options_([&] {
        if (!options.wait_for_buffer) {
          BufferPool* pool = options.pool;
          options.wait_for_buffer = [pool](size_t bytes, bool under_share,
                                           std::function<void()> resume) {
            return pool->WaitForRelease(bytes, std::move(resume), under_share);
          };
        }
        if (!options.resident) {
          options.resident = [](const MappedFile& f, uint64_t offset,
                                uint64_t length) {
            return f.Resident(offset, length);
          };
        }
        return std::move(options);
      }()) {
  {
    MutexLock lock(&mu_);
    if (!plan_.entries.empty()) {
      position_ = plan_.entries[0].begin;
      cursor_.Reset(&plan_.entries[0], position_);
    }
  }
  options_.pool->AddUser(this);
}

FetchScheduler::~FetchScheduler() { options_.pool->RemoveUser(this); }

size_t FetchScheduler::HeldBytes() const {
  size_t held = write_buffer_bytes_ == 0
                    ? 0
                    : BufferPool::BufferBytesFor(write_buffer_bytes_);
  for (const auto& s : slots_) {
    if (s->buffer != nullptr) held += BufferPool::BufferBytesFor(s->size);
  }
  return held;
}

std::vector<std::pair<std::byte*, size_t>> FetchScheduler::Shed(
    size_t keep_bytes) {
  std::vector<std::pair<std::byte*, size_t>> shed;
  MutexLock lock(&mu_);
  if (finished_ || cancelled_ || !write_in_flight_) return shed;
  size_t held = HeldBytes();
  size_t chunks = 0;
  // A chunk whose fill failed is kept: its error stands.
  while (held > keep_bytes && !slots_.empty() && slots_.back()->filled &&
         slots_.back()->crc.ok() && slots_.back()->buffer != nullptr) {
    Slot& s = *slots_.back();
    held -= BufferPool::BufferBytesFor(s.size);
    shed.emplace_back(s.buffer, s.size);
    entry_ = s.entry;
    position_ = s.offset;
    slots_.pop_back();
    ++chunks;
  }
  if (chunks > 0) {
    cursor_.Reset(&plan_.entries[entry_], position_);
    pending_.reset();
    shed_cap_bytes_ = std::max<size_t>(keep_bytes, 1);
    if (options_.on_shed) options_.on_shed(chunks);
  }
  return shed;
}

FetchScheduler::Step FetchScheduler::Pump() {
  for (;;) {
    Effects fx;
    Step step;
    {
      MutexLock lock(&mu_);
      Decide(&fx, &step);
    }
    // Outside mu_: a release runs the pool's waiters, maybe this stream's
    // own, which pump it (and lock mu_) at once; so may a fill that returns
    // before Submit does, and a wait that can be met now.
    for (const auto& [b, bytes] : fx.release) options_.pool->Release(b, bytes);
    for (FillJob& job : fx.fills) options_.submit_fill(std::move(job));
    const bool waiting =
        fx.wait_for_buffer &&
        options_.wait_for_buffer(plan_.chunk_bytes, fx.shed_others,
                                 [this] { OnBufferMaybeFree(); });
    // Under its fair share and waiting: the others give back unwritten
    // read-ahead beyond theirs (a release may resume this stream at once).
    if (waiting && fx.shed_others) {
      options_.pool->ShedFor(this, plan_.chunk_bytes);
    }
    if (fx.wait_for_buffer && !waiting) {
      // No buffer can be allocated, and none will be freed.
      {
        MutexLock lock(&mu_);
        waiting_ = false;
        out_of_memory_ = true;
      }
      // Decide again to finish now, unless this step already writes (the
      // next Pump finishes) or finishes.
      if (!step.write.has_value() && !step.finish.has_value()) continue;
    }
    return step;
  }
}

void FetchScheduler::Decide(Effects* fx, Step* step) {
  if (finished_) return;
  if (!cancelled_ && !out_of_memory_) PlanFills(fx);
  std::optional<absl::Status> finish;
  if (cancelled_) {
    if (!write_in_flight_) finish = absl::CancelledError("stream cancelled");
  } else if (write_in_flight_) {
    // Nothing to do until OnWriteDone: one write in flight, and the finish
    // only after it.
  } else if (out_of_memory_) {
    finish = Annotate(absl::ResourceExhaustedError(
        "out of memory for read-ahead buffers; retry later"));
  } else if (!slots_.empty() && slots_.front()->filled &&
             !slots_.front()->crc.ok()) {
    finish = Annotate(slots_.front()->crc.status());
  } else if (!slots_.empty() && slots_.front()->filled) {
    Slot& s = *slots_.front();
    step->write = ReadyChunk{.entry = s.entry,
                             .offset = s.offset,
                             .size = s.size,
                             .crc32c = *s.crc,
                             .buffer = s.buffer,
                             .file = std::move(s.file),
                             .spans = std::move(s.spans)};
    write_buffer_bytes_ = s.buffer != nullptr ? s.size : 0;
    write_in_flight_ = true;
    slots_.pop_front();  // Last: `s` dies with it.
  } else if (slots_.empty() && AllPlanned()) {
    finish = absl::OkStatus();
  }
  if (finish.has_value()) {
    finished_ = true;
    for (const auto& s : slots_) {
      // Unfilled slots give their buffer back when their fill returns.
      if (s->filled && s->buffer != nullptr) {
        fx->release.emplace_back(s->buffer, s->size);
      }
    }
    std::erase_if(slots_, [](const auto& s) { return s->filled; });
    step->finish = std::move(finish);
  }
}

void FetchScheduler::PlanFills(Effects* fx) {
  SkipFinishedEntries();
  while (!AllPlanned() &&
         slots_.size() < static_cast<size_t>(options_.readahead)) {
    const PlannedEntry& e = plan_.entries[entry_];
    if (!pending_.has_value()) {
      // Cut on a copy of the cursor: committed only once the chunk is
      // issued. A cut that must wait for a buffer is kept for the retry (a
      // fragmented chunk has thousands of spans to walk).
      Cut& cut = pending_.emplace();
      cut.size = std::min<uint64_t>(plan_.chunk_bytes, e.end - position_);
      cut.next = cursor_;
      cut.next.Take(cut.size, &cut.spans);
      cut.mapped =
          options_.send_from_mapping && cut.spans.size() <= kMaxMappedSlices;
      for (size_t i = 0; cut.mapped && i < cut.spans.size(); ++i) {
        cut.mapped = options_.resident(*e.file->file, cut.spans[i].offset,
                                       cut.spans[i].length);
      }
    }
    const uint64_t n = pending_->size;
    const bool mapped = pending_->mapped;
    std::byte* buffer = nullptr;
    if (!mapped) {
      // While other streams wait, a stream at its fair share takes no more;
      // its next write's end pumps it again. The pool's calls here run no
      // callbacks: safe under mu_.
      const size_t held = HeldBytes();
      const size_t more = held + BufferPool::BufferBytesFor(n);
      if (held > 0 && ((shed_cap_bytes_ > 0 && more > shed_cap_bytes_) ||
                       (options_.pool->contended() &&
                        more > options_.pool->FairShareBytes(n)))) {
        return;
      }
      buffer = options_.pool->TryAcquire(n);
      if (buffer == nullptr) {
        if (!waiting_) {
          waiting_ = true;
          fx->wait_for_buffer = true;
          fx->shed_others = held < options_.pool->FairShareBytes(n);
        }
        return;
      }
    }
    cursor_ = pending_->next;
    FillJob job;
    job.file = e.file->file.get();
    job.lazy = e.file->lazy.get();
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
    Slot* slot = owned.get();
    slots_.push_back(std::move(owned));
    job.buffer = buffer;
    job.done = [this, slot](absl::StatusOr<uint32_t> crc) {
      OnFilled(slot, std::move(crc));
    };
    fx->fills.push_back(std::move(job));
    position_ += n;
    SkipFinishedEntries();
  }
}

void FetchScheduler::SkipFinishedEntries() {
  while (!AllPlanned() && position_ >= plan_.entries[entry_].end) {
    ++entry_;
    if (!AllPlanned()) {
      position_ = plan_.entries[entry_].begin;
      cursor_.Reset(&plan_.entries[entry_], position_);
    }
  }
}

void FetchScheduler::OnFilled(Slot* slot, absl::StatusOr<uint32_t> crc) {
  std::byte* release = nullptr;
  size_t release_bytes = 0;
  {
    MutexLock lock(&mu_);
    if (finished_) {
      release = slot->buffer;  // nullptr for a mapped slot.
      release_bytes = slot->size;
      std::erase_if(slots_, [slot](const auto& s) { return s.get() == slot; });
    } else {
      slot->filled = true;
      slot->crc = std::move(crc);
    }
  }
  if (release != nullptr) options_.pool->Release(release, release_bytes);
}

void FetchScheduler::OnBufferMaybeFree() {
  MutexLock lock(&mu_);
  waiting_ = false;
}

void FetchScheduler::OnWriteDone(bool ok) {
  MutexLock lock(&mu_);
  write_in_flight_ = false;
  write_buffer_bytes_ = 0;
  shed_cap_bytes_ = 0;
  if (!ok) cancelled_ = true;  // The client went away.
}

void FetchScheduler::Cancel() {
  MutexLock lock(&mu_);
  cancelled_ = true;
}

FetchScheduler::Stats FetchScheduler::stats() const {
  MutexLock lock(&mu_);
  Stats st;
  st.preparing = slots_.size();
  for (const auto& s : slots_) {
    if (!s->filled) ++st.filling;
    if (s->buffer != nullptr) ++st.buffers_held;
  }
  st.waiting = waiting_;
  st.write_in_flight = write_in_flight_;
  st.finished = finished_;
  return st;
}

absl::Status FetchScheduler::Annotate(const absl::Status& s) const {
  const std::string model = plan_.model != nullptr ? plan_.model->name : "";
  return absl::Status(s.code(),
                      absl::StrCat("model '", model, "': ", s.message()));
}

}  // namespace weightserver::server
