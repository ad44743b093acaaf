// Copyright 2026 The Weightserver Authors.
//
// server/grpc_status.h: the one place where absl::Status becomes grpc::Status.
#ifndef WEIGHTSERVER_SERVER_GRPC_STATUS_H_
#define WEIGHTSERVER_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace weightserver::server {

// Same code (the enums share values), same message.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_GRPC_STATUS_H_
