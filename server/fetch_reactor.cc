// Copyright 2026 The Weightserver Authors.
//
// server/fetch_reactor.cc
#include "server/fetch_reactor.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/failed_reactor.h"
#include "server/fetch_scheduler.h"
#include "server/write_pacer.h"
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

class FetchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  FetchReactor(FetchPlan plan, const FetchResources& resources,
               std::shared_ptr<StallWatch> watch,
               std::unique_ptr<ClientLimiter::Stream> limits,
               std::unique_ptr<CallRecord> record)
      : res_(resources),
        watch_(std::move(watch)),
        limits_(std::move(limits)),
        record_(std::move(record)),
        scheduler_(std::move(plan), SchedulerOptions()) {
    Pump();
  }

  void OnWriteDone(bool ok) override {
    WriteEnded(ok);
    Pump();
  }

  void OnCancel() override {
    scheduler_.Cancel();
    pacer_.Cancel();  // A paced write that has not started never will.
    Pump();
  }

  void OnDone() override {
    watch_->Detach();
    res_.active->fetch_sub(1);
    if (record_ != nullptr) record_->Done();
    Unref();
  }

 private:
  // The write is over (sent, failed, or never started).
  void WriteEnded(bool ok) {
    // gRPC is done with the message: drop our reference to its payload now,
    // not at the next write. A stream that then waits for a pool buffer must
    // not hold one: with every buffer held by waiting streams, none would
    // ever be released again. The buffer is ours alone until the scheduler
    // hears of the write's end (no other write starts before).
    grpc::ByteBuffer sent;
    watch_->WriteDone();
    sent.Swap(&write_buffer_);
    sent.Clear();  // May release a buffer and run waiters: outside any lock.
    scheduler_.OnWriteDone(ok);
  }

  // Every fill and every wait for a buffer holds a reference on the reactor
  // until it has come back and pumped the stream.
  FetchScheduler::Options SchedulerOptions() {
    FetchScheduler::Options o;
    o.pool = res_.pool;
    o.readahead = res_.readahead;
    o.send_from_mapping = res_.send_from_mapping;
    o.submit_fill = [this](FillJob job) {
      Ref();
      job.done = [this,
                  done = std::move(job.done)](absl::StatusOr<uint32_t> crc) {
        done(std::move(crc));
        Pump();
        Unref();
      };
      if (job.lazy != nullptr && !job.lazy->Present(job.spans)) {
        // A cache's block not yet here: read once it is (lazy_bytes.h).
        std::vector<SourceSpan> spans = job.spans;
        LazyBytes* lazy = job.lazy;
        res_.lazy_waits->fetch_add(1);
        lazy->WhenPresent(
            std::move(spans),
            [filler = res_.filler, waits = res_.lazy_waits,
             job = std::move(job)](absl::Status s) mutable {
              if (s.ok()) {
                filler->Submit(std::move(job));
              } else {
                job.done(std::move(s));  // May end the stream.
              }
              waits->fetch_sub(1);
            });
        return;
      }
      res_.filler->Submit(std::move(job));
    };
    o.wait_for_buffer = [this](size_t bytes, bool under_share,
                               std::function<void()> resume) {
      Ref();
      // The stall clock runs while the stream waits (stall_watchdog.h); set
      // first: the resume may run at once, inside WaitForRelease.
      watch_->WaitStarted();
      auto woken = [this, resume = std::move(resume)] {
        watch_->WaitDone();
        resume();
        Pump();
        Unref();
      };
      const bool waiting =
          res_.pool->WaitForRelease(bytes, std::move(woken), under_share);
      if (!waiting) {
        watch_->WaitDone();
        Unref();  // Never the last: our caller holds one.
      }
      return waiting;
    };
    return o;
  }

  // Does what the scheduler says next. The scheduler holds no lock while we
  // call into gRPC here, nor while it calls into the pool: a release runs
  // the waiters of every stream, maybe this one's, which pump (see
  // fetch_scheduler.h).
  void Pump() {
    FetchScheduler::Step step = scheduler_.Pump();
    if (step.write.has_value()) {
      BuildWrite(*step.write);
      const bool pooled = step.write->buffer != nullptr;
      const absl::Duration wait = limits_->Reserve(step.write->size);
      if (wait <= absl::ZeroDuration()) {
        watch_->WriteStarted(pooled);
        StartWrite(&write_buffer_);
      } else {
        if (record_ != nullptr) record_->Paced(step.write->size, wait);
        Ref();  // Until the timer's callback has returned.
        res_.timers_out->fetch_add(1);
        if (pooled) watch_->PacedHoldStarted();
        pacer_.After(wait, [this, pooled](bool fired) {
          if (pooled) watch_->PacedHoldDone();
          if (fired) {
            watch_->WriteStarted(pooled);
            StartWrite(&write_buffer_);
          } else {  // Cancelled: the write never started.
            WriteEnded(false);
            Pump();
          }
          std::atomic<int>* timers_out = res_.timers_out;
          Unref();  // May be the last reference, after OnDone.
          timers_out->fetch_sub(1);
        });
      }
    }
    if (step.finish.has_value()) {
      // The client's slot is free before the client hears of the end: its
      // next stream must not find this one still counted.
      limits_.reset();
      if (record_ != nullptr) record_->SetStatus(*step.finish);
      Finish(wire::ToGrpcStatus(*step.finish));
    }
  }

  void BuildWrite(const ReadyChunk& chunk) {
    std::string header =
        wire::EncodeChunkHeader(chunk.entry, chunk.offset, chunk.crc32c, chunk.size);
    std::vector<grpc::Slice> parts;
    parts.reserve(1 + chunk.spans.size());
    parts.emplace_back(header);
    if (chunk.buffer != nullptr) {
      parts.emplace_back(chunk.buffer, chunk.size, ReleasePooledBuffer,
                         new PooledBuffer{res_.pool, chunk.buffer, chunk.size});
    } else {
      std::byte* base = const_cast<std::byte*>(chunk.file->bytes().data());
      for (const SourceSpan& s : chunk.spans) {
        parts.emplace_back(base + s.offset, s.length, ReleaseMapping,
                           new std::shared_ptr<const MappedFile>(chunk.file));
      }
    }
    write_buffer_ = grpc::ByteBuffer(parts.data(), parts.size());
    if (res_.bytes_sent != nullptr) res_.bytes_sent->fetch_add(chunk.size);
    if (record_ != nullptr) record_->Sent(chunk.size);
  }

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  const FetchResources res_;
  const std::shared_ptr<StallWatch> watch_;
  // Reset at the finish (the one Pump that gets it; no write follows).
  std::unique_ptr<ClientLimiter::Stream> limits_;
  // Metrics and access log (nullptr: neither is on); Done in OnDone.
  const std::unique_ptr<CallRecord> record_;
  WritePacer pacer_;
  // Built by the one Pump that got the write; released in WriteEnded (the
  // write sent, failed, or cancelled while it waited for tokens).
  grpc::ByteBuffer write_buffer_;
  // gRPC's (released in OnDone), + fills and waits out.
  std::atomic<int> refs_{1};
  FetchScheduler scheduler_;  // Last: its callbacks use the members above.
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* StartFetchReactor(
    FetchPlan plan, const FetchResources& resources,
    std::shared_ptr<StallWatch> watch,
    std::unique_ptr<ClientLimiter::Stream> limits,
    std::unique_ptr<CallRecord> record) {
  return new FetchReactor(std::move(plan), resources, std::move(watch),
                          std::move(limits), std::move(record));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* FailedFetchReactor(
    absl::Status status, std::unique_ptr<CallRecord> record) {
  return new FailedReactor<grpc::ByteBuffer>(std::move(status), std::move(record));
}

}  // namespace weightserver::server
