// Copyright 2026 The Weightserver Authors.
//
// server/fetch_reactor.h: the reactor that streams one Fetch plan as chunks.
//
// Lifecycle (gRPC callback API): the constructor starts the first write;
// OnWriteDone starts the next one, so exactly one write is in flight and a
// client that stops reading stops the stream (flow control) instead of
// making the server buffer; after the last chunk the reactor finishes with
// OK; OnDone deletes it and releases the stream slot.
//
// Each chunk holds at most plan.chunk_bytes of one entry's output, starting at
// the entry's `begin`, with the CRC32C of its bytes. Before the first chunk
// the files involved are checked to be unchanged since the scan
// (FAILED_PRECONDITION otherwise).
//
// Thread-safety: gRPC serialises the reactor's callbacks.
#ifndef WEIGHTSERVER_SERVER_FETCH_REACTOR_H_
#define WEIGHTSERVER_SERVER_FETCH_REACTOR_H_

#include <atomic>

#include "absl/status/status.h"
#include "server/fetch_plan.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver::server {

// Starts streaming `plan`; `active` is decremented when the reactor is done.
grpc::ServerWriteReactor<v1::Chunk>* StartFetchReactor(FetchPlan plan,
                                                       std::atomic<int>* active);

// A reactor that finishes at once with `status` (for rejected requests).
grpc::ServerWriteReactor<v1::Chunk>* FailedFetchReactor(absl::Status status);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_FETCH_REACTOR_H_
