// Copyright 2026 The Weightserver Authors.
//
// client/fetch_call.cc
#include "client/fetch_call.h"

#include <string>

#include "client/credentials.h"
#include "wire/status.h"

namespace weightserver::client {
namespace {
// The tag of every operation: one is in flight at a time.
void* const kTag = reinterpret_cast<void*>(1);
}  // namespace

FetchCall::FetchCall(const std::shared_ptr<grpc::Channel>& channel,
                     const google::protobuf::MessageLite& request,
                     absl::Time deadline, const std::string& token,
                     const char* method) {
  if (deadline != absl::InfiniteFuture()) {
    context_.set_deadline(absl::ToChronoTime(deadline));
  }
  AddCredentials(token, &context_);
  grpc::GenericStub stub(channel);
  call_ = stub.PrepareCall(&context_, method, &queue_);
  call_->StartCall(kTag);
  open_ = Wait();
  if (!open_) return;
  grpc::Slice bytes(request.SerializeAsString());
  grpc::ByteBuffer message(&bytes, 1);
  // The request and the half-close in one operation: the server reads one.
  call_->WriteLast(message, grpc::WriteOptions(), kTag);
  open_ = Wait();
}

FetchCall::~FetchCall() {
  if (!finished_) {
    context_.TryCancel();
    Finish().IgnoreError();
  }
  queue_.Shutdown();
  void* tag;
  bool ok;
  while (queue_.Next(&tag, &ok)) {
  }
}

bool FetchCall::Wait() {
  void* tag;
  bool ok = false;
  if (!queue_.Next(&tag, &ok)) return false;  // Only after Shutdown.
  return ok;
}

bool FetchCall::Read(grpc::ByteBuffer* message) {
  if (!open_) return false;
  call_->Read(message, kTag);
  open_ = Wait();
  return open_;
}

absl::Status FetchCall::Finish() {
  finished_ = true;
  grpc::Status status;
  call_->Finish(&status, kTag);
  Wait();
  return wire::FromGrpcStatus(status);
}

}  // namespace weightserver::client
