// Copyright 2026 The Weightserver Authors.
//
// server/fetch_scheduler.h: the scheduling of one Fetch stream, without gRPC.
//
// FetchScheduler decides what a stream does next; its owner (FetchReactor)
// turns that into gRPC calls. It cuts the plan's entries into chunks of
// plan.chunk_bytes in output order, and decides for each one where its
// payload comes from: a chunk of at most kMaxMappedSlices source spans whose
// pages are all resident is sent from the file mapping (its fill only
// checksums it); any other one is read into a BufferPool buffer. It keeps up
// to `readahead` chunks filling or ready, waits for a pool release when the
// pool is spent, hands out the ready chunks one write at a time in stream
// order (taking no more than its fair share of the pool while other streams
// wait for buffers, and shedding unwritten read-ahead when asked, see
// buffer_pool.h), and finishes: OK after the last chunk, the fill's status when the
// next chunk to write failed, RESOURCE_EXHAUSTED when no buffer can ever be
// allocated, CANCELLED when cancelled or a write failed. On finishing, the
// buffers of filled chunks go back to the pool; those still filling go back
// when their fill returns.
//
// Every side effect other than gRPC's goes through Options: fills are
// submitted with `submit_fill` (the owner may complete them on any thread, in
// any order, late, or with errors), buffer waits with `wait_for_buffer`, and
// residency is asked of `resident`. The scheduler never holds its mutex while
// submitting a fill, waiting for a buffer or releasing one: a release runs
// the waiters of every stream, this one included, and a waiter pumps its
// stream; a fill may return at once. Only `resident` and
// BufferPool::TryAcquire, which call nothing back, run under it.
//
// Example:
//   FetchScheduler scheduler(std::move(plan),
//                            {.pool = &pool, .readahead = 4,
//                             .submit_fill = [&](FillJob job) { ... }});
//   FetchScheduler::Step step = scheduler.Pump();
//   if (step.write) {
//     ...send it, release its buffer...;
//     scheduler.OnWriteDone(true);  // Then Pump again.
//   }
//   if (step.finish) { ...done, with *step.finish... }
//
// Thread-safety: all methods may be called concurrently, from any thread.
#ifndef WEIGHTSERVER_SERVER_FETCH_SCHEDULER_H_
#define WEIGHTSERVER_SERVER_FETCH_SCHEDULER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/buffer_pool.h"
#include "server/chunk_filler.h"
#include "server/fetch_plan.h"
#include "server/mapped_file.h"

namespace weightserver::server {

// A resident chunk of at most this many spans is sent from the mapping, one
// slice per span; more fragmented ones are gathered into a pool buffer.
inline constexpr size_t kMaxMappedSlices = 16;

// A chunk ready to be written: bytes [offset, offset + size) of entry
// `entry`'s output, with their CRC32C.
struct ReadyChunk {
  uint32_t entry = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t crc32c = 0;
  // A pool buffer holding the payload, acquired with `size` bytes: the
  // receiver owns it and releases it to the pool once it has been sent.
  // nullptr: the payload is `spans` of `file`, sent from the mapping.
  std::byte* buffer = nullptr;
  std::shared_ptr<const MappedFile> file;  // Mapped chunks only.
  std::vector<SourceSpan> spans;           // Mapped chunks only.
};

class FetchScheduler final : public BufferPool::User {
 public:
  using ResidentFn = std::function<bool(const MappedFile& file, uint64_t offset,
                                        uint64_t length)>;

  struct Options {
    BufferPool* pool = nullptr;  // Not owned; outlives the scheduler.
    int readahead = 4;           // Chunks filling or ready (>= 1).
    bool send_from_mapping = true;
    // Starts filling `job`, whose `done` must then run exactly once, on any
    // thread (it may run before submit_fill returns). Required.
    std::function<void(FillJob job)> submit_fill = nullptr;
    // Runs `resume` once a buffer of `bytes` may be available (maybe at
    // once), or returns false without ever running it when none ever will
    // be; `under_share`: this stream holds less than its fair share.
    // Default: pool->WaitForRelease.
    std::function<bool(size_t bytes, bool under_share,
                       std::function<void()> resume)>
        wait_for_buffer = nullptr;
    // Whether bytes [offset, offset + length) of `file` are in the page
    // cache; called under the scheduler's mutex, so it must not call into
    // the scheduler. Default: MappedFile::Resident.
    ResidentFn resident = nullptr;
    // For tests: told that the last `chunks` issued chunks were shed (they
    // are cut and filled again later). Called under the scheduler's mutex:
    // it must not call into the scheduler or the pool.
    std::function<void(size_t chunks)> on_shed = nullptr;
  };

  // What the owner must do after a Pump; at most one of them is set.
  struct Step {
    // Write this chunk, then call OnWriteDone.
    std::optional<ReadyChunk> write;
    // Finish the stream with this status (returned exactly once). Every
    // status but CANCELLED names the model.
    std::optional<absl::Status> finish;
  };

  // Schedules `plan`; nothing happens until the first Pump.
  // plan.chunk_bytes must be in [1, options.pool->max_buffer_bytes()].
  FetchScheduler(FetchPlan plan, Options options);
  FetchScheduler(const FetchScheduler&) = delete;
  FetchScheduler& operator=(const FetchScheduler&) = delete;
  // Only once every submitted fill has returned and every wait for a buffer
  // has resumed or been refused.
  ~FetchScheduler() override;

  // BufferPool::User: gives back the buffers of filled, unwritten chunks at
  // the end of its read-ahead beyond `keep_bytes` (while a write is in
  // flight: the stream pumps again when it completes) and rewinds to cut
  // them again later.
  std::vector<std::pair<std::byte*, size_t>> Shed(size_t keep_bytes) override;

  // Advances the stream as far as it can: submits fills up to the read-ahead
  // depth (or starts waiting for a buffer), then says whether to write the
  // next chunk or to finish. The owner pumps after construction, after each
  // OnWriteDone or Cancel, and after each fill's `done` and each `resume`
  // has returned (they only record what happened).
  Step Pump();

  // The write of the last Step's chunk is done; `ok` false (the client went
  // away) cancels the stream. Call it only after dropping the chunk's
  // buffer: a stream that then waits for a buffer must not hold one.
  void OnWriteDone(bool ok);

  // Cancels the stream: the next Pump with no write in flight finishes with
  // CANCELLED.
  void Cancel();

  const FetchPlan& plan() const { return plan_; }

  // A snapshot for tests and metrics.
  struct Stats {
    size_t preparing = 0;     // Chunks filling or ready (<= readahead).
    size_t filling = 0;       // Of those, fills not yet returned.
    size_t buffers_held = 0;  // Pool buffers of those.
    bool waiting = false;     // For a pool buffer.
    bool write_in_flight = false;
    bool finished = false;
  };
  Stats stats() const;

 private:
  // Walks an entry's source spans in output order; chunks are cut in order,
  // so the cursor only moves forward.
  class SpanCursor {
   public:
    void Reset(const PlannedEntry* entry, uint64_t output_pos);
    // Appends the source spans of the next `n` output bytes to `out`.
    void Take(uint64_t n, std::vector<SourceSpan>* out);

   private:
    void Skip(uint64_t n);
    void Advance(uint64_t n);
    const PlannedEntry* entry_ = nullptr;
    size_t span_ = 0;
    uint64_t within_ = 0;
  };

  // The next chunk, cut but waiting for a pool buffer.
  struct Cut {
    // User-provided, not defaulted: clang 14 otherwise finds a nested class
    // with member initializers not default-constructible in std::optional.
    Cut() {}
    SpanCursor next;  // The cursor after it.
    std::vector<SourceSpan> spans;
    uint64_t size = 0;
    bool mapped = false;
  };

  // An issued chunk. Fills hold Slot pointers, so each slot lives on the
  // heap until it is written or dropped.
  struct Slot {
    uint32_t entry = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    std::byte* buffer = nullptr;             // nullptr: sent from the mapping.
    std::shared_ptr<const MappedFile> file;  // Mapped slots only.
    std::vector<SourceSpan> spans;           // Mapped slots only.
    bool filled = false;
    absl::StatusOr<uint32_t> crc = 0u;
  };

  // What a Pump does outside mu_.
  struct Effects {
    std::vector<FillJob> fills;
    std::vector<std::pair<std::byte*, size_t>> release;
    bool wait_for_buffer = false;
    bool shed_others = false;  // Waits while under its fair share.
  };

  // Pool bytes held: read-ahead buffers and the write in flight's.
  size_t HeldBytes() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void Decide(Effects* fx, Step* step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PlanFills(Effects* fx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SkipFinishedEntries() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AllPlanned() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return entry_ >= plan_.entries.size();
  }
  void OnFilled(Slot* slot, absl::StatusOr<uint32_t> crc);
  void OnBufferMaybeFree();
  absl::Status Annotate(const absl::Status& s) const;

  const FetchPlan plan_;
  const Options options_;
  mutable Mutex mu_;
  size_t entry_ ABSL_GUARDED_BY(mu_) = 0;       // Next entry to cut from.
  uint64_t position_ ABSL_GUARDED_BY(mu_) = 0;  // Its next output byte.
  SpanCursor cursor_ ABSL_GUARDED_BY(mu_);
  std::optional<Cut> pending_ ABSL_GUARDED_BY(mu_);
  // Issued chunks, in stream order.
  std::deque<std::unique_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  // The pool buffer of the write in flight (0: none, or a mapped chunk).
  size_t write_buffer_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // After a Shed: the pool bytes it may hold until its write completes (it
  // must not take back at once what it gave up for a waiting stream). 0:
  // no cap.
  size_t shed_cap_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool out_of_memory_ ABSL_GUARDED_BY(mu_) = false;  // No buffer, ever.
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_FETCH_SCHEDULER_H_
