// Copyright 2026 The Weightserver Authors.
//
// server/extra_file_reactor.h: the reactor that streams one extra file of a
// model (config.json, tokenizer.json, ...) for ReadFile.
//
// The file is opened when the call starts and refused (FAILED_PRECONDITION)
// unless its identity (device, inode, size, mtime, ctime) is the one the scan
// recorded, so a client never gets bytes of another version than the
// revision it was given; the identity is checked again before the stream
// ends OK. Chunks are read with pread into one reused buffer of
// `chunk_bytes` (extra files are small and usually cached), each with its
// CRC32C, one write in flight: a stream holds one chunk of memory whatever
// the client does, and the StallWatchdog cancels it when its client stops
// reading (as a Fetch stream). The file is opened O_NONBLOCK (a FIFO
// swapped in after the scan cannot block a gRPC thread) and must still be a
// regular file. The reads run on gRPC's callback threads: extra files are
// small and usually in the page cache. Writes are paced by the client's
// limits like Fetch's (client_limits.h, write_pacer.h).
//
// Thread-safety: gRPC serializes a reactor's callbacks; a pacing timer's
// callback runs on another gRPC thread, but only while no write is in flight
// and the stream has not ended (OnCancel only cancels the timer).
#ifndef WEIGHTSERVER_SERVER_EXTRA_FILE_REACTOR_H_
#define WEIGHTSERVER_SERVER_EXTRA_FILE_REACTOR_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "server/call_record.h"
#include "server/client_limits.h"
#include "server/model_repository.h"
#include "server/stall_watchdog.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::server {

// Streams `file` of `model` (which keeps it listed) in chunks of
// `chunk_bytes`. `active` is decremented, and `bytes_sent` grows by the
// payload sent, when the stream ends. `watch` times each write; the reactor
// detaches it in OnDone. `limits` (required) paces the writes and is freed
// when the stream finishes. `record` (optional) hears of every payload
// written and of the end.
grpc::ServerWriteReactor<v1::Chunk>* StartExtraFileReactor(
    std::shared_ptr<const Model> model, const ServedExtraFile* file,
    uint32_t chunk_bytes, std::atomic<int>* active,
    std::atomic<uint64_t>* bytes_sent, std::shared_ptr<StallWatch> watch,
    std::unique_ptr<ClientLimiter::Stream> limits,
    std::unique_ptr<CallRecord> record = nullptr);

// A reactor that finishes at once with `status`; `record` (optional) logs
// the refusal.
grpc::ServerWriteReactor<v1::Chunk>* FailedExtraFileReactor(
    absl::Status status, std::unique_ptr<CallRecord> record = nullptr);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_EXTRA_FILE_REACTOR_H_
