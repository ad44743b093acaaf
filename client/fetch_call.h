// Copyright 2026 The Weightserver Authors.
//
// client/fetch_call.h: one Fetch call whose responses arrive as raw bytes.
//
// The fetch engine decodes each Chunk straight into its destination
// (wire/chunk_codec.h), so it needs the responses as grpc::ByteBuffers, not
// parsed messages. FetchCall runs the server-streaming Fetch method through
// gRPC's public generic stub on a completion queue of its own, one operation
// at a time, on the calling thread: a blocking reader, like the synchronous
// API, over public API only.
//
// Example:
//   FetchCall call(channel, request);
//   grpc::ByteBuffer chunk;
//   while (call.Read(&chunk)) { ... }
//   absl::Status s = call.Finish();
//
// Thread-safety: one thread at a time, except Cancel, which may be called
// from any thread.
#ifndef WEIGHTSERVER_CLIENT_FETCH_CALL_H_
#define WEIGHTSERVER_CLIENT_FETCH_CALL_H_

#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::client {

class FetchCall {
 public:
  // Starts the call and sends `request`; failures show in Read and Finish.
  // A finite `deadline` ends the call there (DEADLINE_EXCEEDED); a
  // `token` is sent as the bearer token.
  // `method`: another server-streaming method of Chunks (ReadBytes), with
  // its request.
  FetchCall(const std::shared_ptr<grpc::Channel>& channel,
            const google::protobuf::MessageLite& request,
            absl::Time deadline = absl::InfiniteFuture(),
            const std::string& token = "",
            const char* method = "/weightserver.v1.WeightService/Fetch");
  // Cancels an unfinished call and waits for gRPC to let go of it.
  ~FetchCall();
  FetchCall(const FetchCall&) = delete;
  FetchCall& operator=(const FetchCall&) = delete;

  // The next response; false at the end of the stream or on failure.
  bool Read(grpc::ByteBuffer* message);
  // Asks the server to stop; the next Read returns false.
  void Cancel() { context_.TryCancel(); }
  // The call's status (wire/status.h), once. Ends a stream still running.
  absl::Status Finish();

 private:
  // Waits for the one operation in flight; its outcome.
  bool Wait();

  grpc::ClientContext context_;
  grpc::CompletionQueue queue_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool open_ = false;      // Writes and reads may still succeed.
  bool finished_ = false;  // Finish has run.
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_FETCH_CALL_H_
