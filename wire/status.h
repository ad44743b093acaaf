// Copyright 2026 The Weightserver Authors.
//
// wire/status.h: absl::Status <-> grpc::Status, the one conversion each way.
//
// The code and message travel as gRPC's status and message; the status's
// payloads (a format error's kind, format/errors.h, among them) travel in
// the status details as a google.rpc.Status whose `details` hold one
// google.protobuf.Any per payload (type URL = payload URL), which is what
// other gRPC clients expect in grpc-status-details-bin. So a client can
// still ask FormatErrorKind() of an error that came over the network.
//
// Example:
//   reactor->Finish(ToGrpcStatus(status));                  // server
//   absl::Status s = FromGrpcStatus(reader->Finish());      // client
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_WIRE_STATUS_H_
#define WEIGHTSERVER_WIRE_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace weightserver::wire {

// Same code (the enums share values), same message, payloads as details.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Same code and message; payloads restored from well-formed details
// (details that do not parse are ignored, the status is kept).
absl::Status FromGrpcStatus(const grpc::Status& status);

// Whether a client should try a call that failed with `code` again (on a
// fresh stream, from the last verified byte): the server is draining or
// overloaded (UNAVAILABLE, RESOURCE_EXHAUSTED), bytes were damaged on the
// way (DATA_LOSS), or the transport broke the stream (ABORTED, INTERNAL,
// UNKNOWN: a Weightserver never answers UNKNOWN itself; gRPC reports a
// stream reset by a dropped connection as UNKNOWN "Stream removed").
bool IsRetryable(absl::StatusCode code);

}  // namespace weightserver::wire

#endif  // WEIGHTSERVER_WIRE_STATUS_H_
