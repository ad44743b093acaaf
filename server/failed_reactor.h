// Copyright 2026 The Weightserver Authors.
//
// server/failed_reactor.h: the reactor of a stream call refused before it
// starts (unknown model, bad request, a limit): it finishes at once with
// the status, and tells the call's record (metrics, access log) when given.
// Fetch streams write grpc::ByteBuffer, ReadFile streams v1::Chunk.
//
// Example:
//   return new FailedReactor<v1::Chunk>(absl::NotFoundError("..."), nullptr);
//
// Thread-safety: owned by gRPC, which deletes it through OnDone.
#ifndef WEIGHTSERVER_SERVER_FAILED_REACTOR_H_
#define WEIGHTSERVER_SERVER_FAILED_REACTOR_H_

#include <grpcpp/support/server_callback.h>

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "server/call_record.h"
#include "wire/status.h"

namespace weightserver::server {

template <typename Message>
class FailedReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  // `record` may be null.
  FailedReactor(absl::Status status, std::unique_ptr<CallRecord> record)
      : record_(std::move(record)) {
    if (record_ != nullptr) record_->Refuse(status);
    this->Finish(wire::ToGrpcStatus(status));
  }
  void OnDone() override {
    if (record_ != nullptr) record_->Done();
    delete this;
  }

 private:
  const std::unique_ptr<CallRecord> record_;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_FAILED_REACTOR_H_
