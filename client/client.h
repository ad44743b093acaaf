// Copyright 2026 The Weightserver Authors.
//
// client/client.h: the Weightserver client library.
//
// A Client talks to one target (a weightserver address). It lists models,
// reads a model's table of contents and fetches tensors into memory the caller
// owns (Fetch), into memory the library allocates (Load, see host_model.h), or
// into .safetensors files (see output_file.h: FetchToFile, MirrorModel).
//
// Every chunk's CRC32C is checked on the destination bytes; a mismatch, or a
// broken stream, is retried from the last verified byte (up to
// ClientOptions::max_attempts per stream); what cannot be recovered is an
// error, never silently wrong bytes. Fetches pin the revision of the table of
// contents they were given: a model changed on the server fails with
// FAILED_PRECONDITION instead of mixing versions.
//
// Example:
//   ASSIGN_OR_RETURN(auto client, Client::Connect("127.0.0.1:50051"));
//   ASSIGN_OR_RETURN(v1::Model toc, client->GetModel("llama"));
//   std::vector<std::byte> buf(toc.tensors(0).length());
//   RETURN_IF_ERROR(client->Fetch(toc, {{toc.tensors(0).name(), buf}}));
//
// Thread-safety: a Client may be used from several threads at once.
#ifndef WEIGHTSERVER_CLIENT_CLIENT_H_
#define WEIGHTSERVER_CLIENT_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/selection.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver::client {

class FetchSink;  // fetch_sink.h

struct Progress {
  uint64_t done_bytes = 0;
  uint64_t total_bytes = 0;
};
// Called from fetch threads, one call at a time, after each verified chunk.
using ProgressCallback = std::function<void(const Progress&)>;

struct ClientOptions {
  // Parallel Fetch streams for one Fetch call.
  int streams = 4;
  // TCP connections (per server) the streams are spread over; each has its
  // own HTTP/2 flow control and socket buffers.
  int connections = 2;
  // Chunk payload size asked of the server (it clamps to its limits).
  uint32_t chunk_bytes = 1 << 20;
  // Tensors larger than this are split into pieces spread over the streams.
  uint64_t split_bytes = 64 << 20;
  // Attempts per stream for retryable failures (CRC mismatch, dropped
  // connection, UNAVAILABLE); each retry resumes at the last verified byte.
  int max_attempts = 4;
  // Deadline of ListModels / GetModel calls.
  absl::Duration unary_timeout = absl::Seconds(60);
  // Largest message accepted from the server (chunks and tables of contents).
  int max_receive_bytes = 256 << 20;
  ProgressCallback progress;
};

// A destination for one tensor, or for a selection of it (selection.h): the
// destination holds exactly the output's bytes (the tensor's length, or the
// selection's dense row-major result, see MeasureSelection).
struct FetchItem {
  std::string tensor;
  absl::Span<std::byte> destination;
  Selection selection;  // Whole tensor by default.
};

class Client {
 public:
  // Creates a channel to `target` ("host:port", "unix:path", "dns:///..." or
  // any gRPC target). Connection happens lazily; errors surface on calls.
  // A target naming several servers ("ipv4:127.0.0.1:1,127.0.0.1:2", or a
  // DNS name with several addresses) is balanced round-robin: calls, and
  // hence the streams of a Fetch, are spread over the replicas.
  // Errors: InvalidArgument for an empty target.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const std::string& target, ClientOptions options = {});

  // Every model of the server, servable or not (see ModelSummary.error).
  // Errors: the RPC's status (UNAVAILABLE when the server cannot be reached).
  absl::StatusOr<std::vector<v1::ModelSummary>> ListModels() const;

  // The table of contents of model `name`.
  // Errors: NOT_FOUND, FAILED_PRECONDITION (not servable), UNAVAILABLE.
  absl::StatusOr<v1::Model> GetModel(absl::string_view name) const;

  // Fetches `items` of `model` into their destinations, verified; an item
  // with a selection receives only the selected part (cut by the server).
  // Errors: INVALID_ARGUMENT when an item names no tensor of `model`, its
  // destination has the wrong size, or its selection is invalid (OUT_OF_RANGE
  // when a range is past its dimension); FAILED_PRECONDITION when the model changed
  // on the server; DATA_LOSS when a chunk fails its check max_attempts times;
  // otherwise the RPC's status, with the model and tensor named.
  absl::Status Fetch(const v1::Model& model,
                     absl::Span<const FetchItem> items) const;

  // Fetch, but every verified chunk goes to `sink` (fetch_sink.h) instead of
  // the items' destinations, which then only give each output's size (their
  // data may be null). `sink` null is Fetch. Errors: Fetch's, and the sink's
  // (not retried), with the tensor named.
  absl::Status FetchTo(const v1::Model& model,
                       absl::Span<const FetchItem> items,
                       FetchSink* sink) const;

  const ClientOptions& options() const { return options_; }
  const std::string& target() const { return target_; }

 private:
  Client(std::string target, ClientOptions options,
         std::vector<std::shared_ptr<grpc::Channel>> channels);

  std::string target_;
  ClientOptions options_;
  // Unary calls, over fetch_channels_[0].
  std::unique_ptr<v1::WeightService::Stub> stub_;
  // Fetch streams: options_.connections channels, each its own connection.
  std::vector<std::shared_ptr<grpc::Channel>> fetch_channels_;
};

// grpc::Status -> absl::Status (same code, same message), the one conversion.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Byte length of the tensors `names` of `model` (all tensors when empty).
// Errors: NOT_FOUND for a name the model does not have.
absl::StatusOr<std::vector<const v1::TensorInfo*>> SelectTensors(
    const v1::Model& model, absl::Span<const std::string> names);

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_CLIENT_H_
