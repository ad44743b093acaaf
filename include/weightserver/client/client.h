// Copyright 2026 The Weightserver Authors.
//
// weightserver/client/client.h: the Weightserver client.
//
// A Client talks to one target (a weightserver address). It lists models,
// reads a model's table of contents (format/model_info.h) and fetches
// tensors, or selections of them (selection.h), verified. Where the bytes go
// is a destination: memory the caller owns (Fetch with FetchItems), one block
// of host or GPU memory the library allocates (tensor_table.h), .safetensors
// files (output_file.h), or any FetchSink (fetch_sink.h). All of them run the
// same engine over a LoadPlan (load_plan.h).
//
// Every chunk's CRC32C is checked on the destination bytes; a mismatch, or a
// broken stream, is retried from the last verified byte (up to
// ClientOptions::max_attempts calls per stream); what cannot be recovered is
// an error, never silently wrong bytes. Fetches pin the revision of the table
// of contents they were given: a model changed on the server fails with
// FAILED_PRECONDITION instead of mixing versions.
//
// Example:
//   ASSIGN_OR_RETURN(auto client, Client::Connect("127.0.0.1:50051"));
//   ASSIGN_OR_RETURN(ModelInfo toc, client->GetModel("llama"));
//   std::vector<std::byte> buf(toc.tensors[0].length);
//   RETURN_IF_ERROR(client->Fetch(toc, {{toc.tensors[0].name, buf}}));
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

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "weightserver/client/selection.h"
#include "weightserver/format/model_info.h"

namespace weightserver::client {

using format::ExtraFile;
using format::ModelFile;
using format::ModelInfo;
using format::ModelSummary;
using format::ModelTensor;

class FetchCancel;  // fetch_cancel.h
class FetchSink;  // fetch_sink.h
struct LoadPlan;  // load_plan.h

struct Progress {
  uint64_t done_bytes = 0;
  uint64_t total_bytes = 0;
};
// Called from fetch threads, one call at a time, after each verified chunk.
using ProgressCallback = std::function<void(const Progress&)>;

struct ClientOptions {
  // Parallel Fetch streams for one fetch; a fetch of N bytes uses at most
  // ceil(N / split_bytes) of them (a 100 MiB fetch uses 2).
  int streams = 4;
  // TCP connections (per server) the streams are spread over; each has its
  // own HTTP/2 flow control and socket buffers.
  int connections = 2;
  // Chunk payload size asked of the server (it clamps to its limits).
  uint32_t chunk_bytes = 1 << 20;
  // Tensors larger than this are split into pieces spread over the streams;
  // it also bounds the streams of a small fetch (see streams).
  uint64_t split_bytes = 64 << 20;
  // Retries (README "Retries"). A stream whose call fails with a retryable
  // status (a dropped connection, UNAVAILABLE, RESOURCE_EXHAUSTED, a CRC
  // mismatch, a chunk the client did not ask for) starts a new call for what
  // is still missing, at the last verified byte, after a backoff: the first
  // retry_initial_backoff, doubling up to retry_max_backoff, each with
  // +-50% jitter. It gives up after max_attempts calls in a row that
  // delivered no byte (a call that moved bytes resets the count), or at
  // fetch_timeout; the error then names the last failure and the attempts.
  int max_attempts = 6;
  absl::Duration retry_initial_backoff = absl::Milliseconds(50);
  absl::Duration retry_max_backoff = absl::Seconds(2);
  // Deadline of one whole Fetch (every stream and retry); infinite: none.
  absl::Duration fetch_timeout = absl::InfiniteDuration();
  // Most tensors (pieces) named in one Fetch call; a stream with more runs
  // calls one after another (servers refuse requests over 65,536 entries or
  // 8 MiB by default).
  int max_entries_per_call = 8192;
  // Deadline of ListModels / GetModel calls.
  absl::Duration unary_timeout = absl::Seconds(60);
  // Largest message accepted from the server (chunks and tables of contents).
  int max_receive_bytes = 256 << 20;
  // TLS (README "Security"). With `tls`, the channel is encrypted and the
  // server's certificate verified against tls_ca_file (PEM; empty: the
  // system's roots) and the target's host name, or tls_server_name when set.
  // tls_cert_file + tls_key_file: this client's certificate, for servers
  // that require one (mutual TLS). The files are read by Connect.
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_server_name;
  // A bearer token for servers with an access policy (README "Security"),
  // sent as `authorization: Bearer TOKEN` on every call. Connect refuses to
  // send it over plaintext to anything but loopback or a unix socket unless
  // allow_insecure_token is set.
  std::string token;
  bool allow_insecure_token = false;
  ProgressCallback progress;
};

// A destination in memory the caller owns, for one tensor or a selection of
// it: exactly the output's bytes (the tensor's length, or the selection's
// dense row-major result, see MeasureSelection / PlanLoad).
struct FetchItem {
  std::string tensor;
  absl::Span<std::byte> destination;
  Selection selection;  // Whole tensor by default.
};

class Client {
 public:
  // Creates channels to `target` ("host:port", "unix:path", "dns:///..." or
  // any gRPC target). Connection happens lazily; errors surface on calls.
  // A target naming several servers ("ipv4:127.0.0.1:1,127.0.0.1:2", or a
  // DNS name with several addresses) is balanced round-robin: calls, and
  // hence the streams of a fetch (at most one per split_bytes of it), are
  // spread over the replicas.
  // Errors: InvalidArgument for an empty target, TLS files without `tls`,
  // only one of tls_cert_file / tls_key_file, a TLS file that holds no
  // PEM block, or a token over plaintext to a non-loopback target;
  // ReadSmallFile's for a TLS file that cannot be read.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const std::string& target, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Every model of the server, servable or not (see ModelSummary::error).
  // Errors: the RPC's status (UNAVAILABLE when the server cannot be reached).
  absl::StatusOr<std::vector<ModelSummary>> ListModels() const;

  // The table of contents of model `name`.
  // Errors: NOT_FOUND, FAILED_PRECONDITION (not servable), UNAVAILABLE.
  absl::StatusOr<ModelInfo> GetModel(absl::string_view name) const;

  // The same, pinned: when `revision` is not empty and the server's model is
  // at another revision, FAILED_PRECONDITION naming both (a model URI's
  // @REVISION, uri.h). Fetches then pin the revision returned, as always.
  // A revision may also name a snapshot the server lists as NAME@REVISION
  // (a Hugging Face cache entry at a commit): that model is returned when
  // NAME is missing or at another revision.
  absl::StatusOr<ModelInfo> GetModel(absl::string_view name,
                                     absl::string_view revision) const;

  // Fetches `items` of `model` into their destinations, verified; an item
  // with a selection receives only the selected part (cut by the server).
  // Errors: PlanLoad's for the items; INVALID_ARGUMENT when a destination
  // has the wrong size; otherwise Fetch(model, plan, sink)'s.
  absl::Status Fetch(const ModelInfo& model,
                     absl::Span<const FetchItem> items) const;

  // The engine: fetches every output of `plan` (made from `model`) into
  // `sink`, verified. Errors: FAILED_PRECONDITION when the model changed on
  // the server; DATA_LOSS when a chunk fails its check max_attempts times;
  // the sink's errors (not retried); CANCELLED once `cancel` (optional,
  // fetch_cancel.h) is cancelled, from any thread; otherwise the RPC's
  // status; messages name the model and tensor.
  absl::Status Fetch(const ModelInfo& model, const LoadPlan& plan,
                     FetchSink& sink, FetchCancel* cancel = nullptr) const;

  // The bytes of `model`'s extra file `name` (one of model.extra_files:
  // config.json, tokenizer.json, ...), every chunk verified, pinned to
  // model.revision; a broken or corrupt stream is read again (up to
  // max_attempts). The deadline is unary_timeout plus a second per MiB.
  // Errors: NOT_FOUND when model.extra_files has no `name`;
  // RESOURCE_EXHAUSTED when it is listed larger than max_receive_bytes;
  // FAILED_PRECONDITION when the model or the file changed on the server;
  // DATA_LOSS when it stays corrupt; otherwise the RPC's status.
  absl::StatusOr<std::string> ReadFile(const ModelInfo& model,
                                       absl::string_view name) const;

  // Bytes [offset, offset + destination.size()) of `model`'s .safetensors
  // file `file` (one of model.files), header included, exactly as the
  // server stores them, into `destination`; every chunk verified, pinned to
  // model.revision; a broken or corrupt stream resumes from the last
  // verified byte, as Fetch's streams do (max_attempts calls in a row
  // without progress, fetch_timeout). For caches (README "Cache tier").
  // Errors: NOT_FOUND when model.files has no `file`; OUT_OF_RANGE for a
  // range past its end; FAILED_PRECONDITION when the model changed on the
  // server; DATA_LOSS when it stays corrupt; CANCELLED once `cancel` is;
  // otherwise the RPC's status.
  absl::Status ReadBytes(const ModelInfo& model, absl::string_view file,
                         uint64_t offset, absl::Span<std::byte> destination,
                         FetchCancel* cancel = nullptr) const;

  // Writes every extra file of `model` into `dir` (created if missing),
  // each through a new temporary file (mkstemp) renamed into place, so that `dir` can be
  // an engine's model path once the weights are loaded. Existing files of
  // the same names are replaced; nothing else in `dir` is touched.
  // Errors: INVALID_ARGUMENT when the server lists a name that is not a
  // plain file name (nothing is written then); ReadFile's; file errors.
  absl::Status DownloadExtraFiles(const ModelInfo& model,
                                  const std::string& dir) const;

  const ClientOptions& options() const { return options_; }
  const std::string& target() const { return target_; }

 private:
  struct Channels;  // gRPC's types stay out of this header.
  Client(std::string target, ClientOptions options,
         std::unique_ptr<Channels> channels);

  std::string target_;
  ClientOptions options_;
  std::unique_ptr<Channels> channels_;
};

}  // namespace weightserver::client

#endif  // WEIGHTSERVER_CLIENT_CLIENT_H_
