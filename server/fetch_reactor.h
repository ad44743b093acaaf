// Copyright 2026 The Weightserver Authors.
//
// server/fetch_reactor.h: the reactor that streams one Fetch plan.
//
// Fetch is a raw callback method: each response is a grpc::ByteBuffer of a
// small Chunk header slice (wire/chunk_codec.h) (entry, offset, crc32c, and the tag
// and length of `data`) and the payload slices. A chunk whose pages are in
// the page cache (mincore) and that has at most 16 source spans is sent
// straight from the file mapping: its slices point into the mapping and hold
// a reference on it (zero copy; the CRC is computed off the gRPC threads
// under a SIGBUS guard). Any other chunk is read into a BufferPool buffer
// (io_uring or pread) whose slice returns the buffer to the pool once gRPC
// has sent it. The bytes on the wire are exactly the documented Chunk.
//
// Lifecycle: FetchScheduler (fetch_scheduler.h) decides the stream's steps:
// it keeps up to `readahead` chunks of the plan filling (ChunkFiller, off
// the gRPC threads) or ready, and one write in flight; the reactor turns its
// steps into gRPC writes and the finish. OnWriteDone, OnCancel and each
// finished fill or buffer wait pump the next step. A client that stops
// reading stops its stream (HTTP/2 flow control) and holds at most
// `readahead` buffers. When the pool is empty the stream waits for a release.
// A failed fill ends the stream with its status (DATA_LOSS for a truncated
// file, FAILED_PRECONDITION for a modified one). Each write first takes its
// payload's bytes from the client's limits (client_limits.h); when a bucket
// is in debt the write starts after a timer (write_pacer.h), off every
// thread, and the stall clock starts only with the write: a paced stream is
// not stalled (a paced write that holds a pool buffer still counts for the
// busy timeout, stall_watchdog.h). The reactor deletes itself after OnDone
// and after every fill, wait and pacing timer it started has come back.
//
// Thread-safety: gRPC callbacks and fill completions may run on any thread;
// the scheduler's state is guarded by its mutex.
#ifndef WEIGHTSERVER_SERVER_FETCH_REACTOR_H_
#define WEIGHTSERVER_SERVER_FETCH_REACTOR_H_

#include <atomic>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "server/buffer_pool.h"
#include "server/call_record.h"
#include "server/chunk_filler.h"
#include "server/client_limits.h"
#include "server/fetch_plan.h"
#include "server/stall_watchdog.h"

namespace weightserver::server {

// What every Fetch stream shares.
struct FetchResources {
  BufferPool* pool = nullptr;
  ChunkFiller* filler = nullptr;
  int readahead = 4;               // Chunks filling or ready per stream.
  bool send_from_mapping = true;   // Resident chunks: zero copy.
  std::atomic<int>* active = nullptr;    // Decremented when a stream ends.
  std::atomic<uint64_t>* bytes_sent = nullptr;  // Payload bytes written.
  // Pacing timers whose callback has not returned yet (required): their
  // owner waits for none before it goes (the callback may end the stream).
  std::atomic<int>* timers_out = nullptr;
  // Waits for a cache's blocks (ServedFile::lazy) whose callback has not
  // returned yet (required): their owner waits for none before it goes.
  std::atomic<int>* lazy_waits = nullptr;
};

// Starts streaming `plan`. plan.chunk_bytes must be <= pool->max_buffer_bytes().
// `watch` times each write (StallWatchdog); the reactor detaches it in OnDone.
// `limits` (required) paces the writes and is freed when the stream ends.
// `record` (optional) hears of every payload written and of the end.
grpc::ServerWriteReactor<grpc::ByteBuffer>* StartFetchReactor(
    FetchPlan plan, const FetchResources& resources,
    std::shared_ptr<StallWatch> watch,
    std::unique_ptr<ClientLimiter::Stream> limits,
    std::unique_ptr<CallRecord> record = nullptr);

// A reactor that finishes at once with `status` (for rejected requests);
// `record` (optional) logs the refusal.
grpc::ServerWriteReactor<grpc::ByteBuffer>* FailedFetchReactor(
    absl::Status status, std::unique_ptr<CallRecord> record = nullptr);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_FETCH_REACTOR_H_
