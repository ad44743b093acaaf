// Copyright 2026 The Weightserver Authors.
//
// server/weight_service.h: the weightserver.v1.WeightService implementation.
//
// Callback API throughout: ListModels and GetModel answer from tables built
// once per catalog snapshot of the catalog source (catalog_source.h: the
// live repository of an origin, or a cache's view of its upstream), the
// first time a call sees that snapshot; each call uses one snapshot
// throughout, and a Fetch stream keeps its model (and so its mappings); Fetch is a raw method (responses are ByteBuffers that
// point at pool buffers, see fetch_reactor.h), one reactor per stream with one
// write in flight. The service owns the read-ahead stage (ChunkFiller) and
// the BufferPool that bounds the bytes in flight over all streams. The number
// of concurrent Fetch and ReadFile streams is bounded, over the server and
// per client (client_limits.h); beyond either bound a stream fails with
// RESOURCE_EXHAUSTED. The bytes each client, and the whole server, sends
// per second may be capped: writes are then paced, never dropped.
//
// Example:
//   ASSIGN_OR_RETURN(auto service, WeightService::Create(repo, {}));
//   builder.RegisterService(service.get());
//
// Thread-safety: all methods may be called concurrently by gRPC.
#ifndef WEIGHTSERVER_SERVER_WEIGHT_SERVICE_H_
#define WEIGHTSERVER_SERVER_WEIGHT_SERVICE_H_

#include <atomic>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "server/access_log.h"
#include "server/buffer_pool.h"
#include "server/call_record.h"
#include "server/chunk_filler.h"
#include "server/client_limits.h"
#include "server/fetch_plan.h"
#include "server/catalog_source.h"
#include "server/model_repository.h"
#include "weightserver/format/model_info.h"
#include "server/auth_policy.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/stall_watchdog.h"
#include "util/mutex.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver::server {

struct ServiceOptions {
  FetchLimits limits;
  // Concurrent Fetch streams; more get RESOURCE_EXHAUSTED.
  int max_streams = 256;
  // Bytes read ahead of the network over all streams (pool capacity).
  uint64_t max_inflight_bytes = 48 << 20;
  // Memory the requests of all streams in progress may hold (their messages
  // and plans, memory_budget.h); a Fetch that does not fit gets
  // RESOURCE_EXHAUSTED. With max_inflight_bytes, the server's memory budget
  // for requests.
  uint64_t max_request_memory = 64 << 20;
  // How often free heap memory is given back to the kernel when malloc
  // holds more than 4 MiB free (MemoryTrimmer). Zero: never.
  absl::Duration trim_interval = absl::Seconds(2);
  // Chunks filling or ready per stream.
  int readahead = 4;
  IoMode io = IoMode::kAuto;
  int io_threads = 4;
  // Send chunks whose pages are in the page cache straight from the mapping
  // (zero copy); false reads every chunk into a pool buffer.
  bool send_from_mapping = true;
  // A Fetch stream whose client accepts no data (one write stays in flight)
  // for this long is cancelled, and its buffers freed (StallWatchdog). Zero
  // or infinite: never.
  absl::Duration stall_timeout = absl::Seconds(60);
  // While streams wait for read-ahead buffers, a stream whose client has
  // accepted nothing for this long while its write holds one is cancelled
  // (StallWatchdog). Zero or infinite: never.
  absl::Duration busy_stall_timeout = absl::Seconds(1);
  // Streams and bytes per second per client and for the whole server
  // (client_limits.h); a client is its identity under the access policy,
  // else its peer address without the port.
  ClientLimitOptions client_limits;
  // Access policy (auth_policy.h): empty, every caller reads every model.
  std::string auth_file;
  absl::Duration auth_reload_interval = absl::Seconds(2);
  // Where calls are counted (metrics.h) and streams logged (access_log.h);
  // nullptr: not. Borrowed: they outlive the service.
  ServerMetrics* metrics = nullptr;
  AccessLog* access_log = nullptr;
};

class WeightService final
    : public v1::WeightService::WithRawCallbackMethod_GetModel<
          v1::WeightService::WithRawCallbackMethod_Fetch<
              v1::WeightService::WithRawCallbackMethod_ReadBytes<
                  v1::WeightService::CallbackService>>> {
 public:
  // Errors: Unavailable when options.io is kUring and io_uring is refused;
  // InvalidArgument for inconsistent limits.
  static absl::StatusOr<std::unique_ptr<WeightService>> Create(
      std::shared_ptr<CatalogSource> repository, ServiceOptions options);
  // Waits for the pacing timers of Fetch streams whose callback is still
  // running, and for their waits on a cache's blocks (each may destroy its
  // stream, which gives back what the stream held to the members below);
  // the server has shut down by then. A cache's source must outlive it.
  ~WeightService() override;

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  // Raw: the table of contents is serialized once, at construction, and
  // every call sends that buffer (a 100,000-tensor table is megabytes).
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Fetch(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;
  // Raw like Fetch, and streamed by the same reactor (a plan of one entry:
  // the file); counts against max_streams and the client's limits alike.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* ReadBytes(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;
  // Counts against max_streams like Fetch.
  grpc::ServerWriteReactor<v1::Chunk>* ReadFile(
      grpc::CallbackServerContext* context,
      const v1::ReadFileRequest* request) override;

  // Fetch streams running now.
  int active_streams() const { return active_streams_.load(); }
  // Fetch streams accepted since construction (for tests and logs: which
  // replica served how much).
  uint64_t streams_served() const { return streams_served_.load(); }
  // Payload bytes handed to gRPC since construction.
  uint64_t bytes_sent() const { return bytes_sent_.load(); }
  // Pool buffers holding read-ahead or unsent bytes now, the bytes of
  // their size classes, and the pool's capacity (max_inflight_bytes).
  size_t buffers_in_use() const { return pool_->in_use(); }
  size_t buffer_bytes_in_use() const { return pool_->bytes_in_use(); }
  size_t buffer_capacity_bytes() const { return pool_->capacity_bytes(); }
  // For tests: the read-ahead pool itself, to hold its buffers as other
  // streams would. Not for the server's own code.
  BufferPool* pool_for_testing() const { return pool_.get(); }
  // Bytes of max_request_memory held by the streams in progress.
  uint64_t request_memory_used() const { return request_budget_.used(); }
  // Times free memory was given back to the kernel (MemoryTrimmer).
  uint64_t memory_trims() const { return trimmer_.trims(); }
  // Streams cancelled because their client stopped reading.
  uint64_t stalled_streams() const { return watchdog_->cancelled(); }
  // Of them, cut for holding a buffer of a contended pool.
  uint64_t busy_stalled_streams() const { return watchdog_->cancelled_busy(); }
  // Calls refused for their credentials (UNAUTHENTICATED), and calls for a
  // model the caller may not read (answered NOT_FOUND).
  uint64_t unauthenticated_calls() const { return unauthenticated_calls_.load(); }
  uint64_t denied_calls() const { return denied_calls_.load(); }
  // What the per-client and bandwidth limits refused and paced.
  LimitStats limit_stats() const { return limiter_.stats(); }
  // The access policy in force; nullptr without --auth_file.
  const AuthPolicyWatcher* auth() const { return auth_.get(); }
  // The read path in use: kUring or kPread.
  IoMode io_mode() const { return filler_->mode(); }
  // Payload bytes the read-ahead stage read, by path (chunk_filler.h).
  ReadPathStats read_path_stats() const { return filler_->stats(); }
  // Times a stream waited for a read-ahead buffer (buffer_pool.h).
  uint64_t pool_waits() const { return pool_->waits(); }

 private:
  WeightService(std::shared_ptr<CatalogSource> repository,
                ServiceOptions options, std::unique_ptr<ChunkFiller> filler);

  // ListModels's answer and the serialized tables of contents of one
  // catalog snapshot.
  struct Catalog;
  // The catalog of the repository's current snapshot, built on first use
  // (reusing the tables of models the previous one had); *snapshot is set
  // to that snapshot (the catalog does not keep it alive).
  std::shared_ptr<const Catalog> CurrentCatalog(
      std::shared_ptr<const ModelRepository>* snapshot)
      ABSL_LOCKS_EXCLUDED(catalog_mu_);

  // The caller's identity under the policy ("" with no policy).
  // Errors: Unauthenticated (AuthPolicy::Authenticate's, more than one
  // authorization header, one that is not "Bearer TOKEN" of <= 4 KiB).
  absl::StatusOr<std::string> Caller(grpc::CallbackServerContext* context);
  // Whether `caller` may read `model` (always, with no policy); counts
  // refusals.
  bool MayRead(const std::string& caller, absl::string_view model);
  // The record of a stream call (nullptr: no metrics, no access log).
  std::unique_ptr<CallRecord> Record(Method method,
                                     grpc::CallbackServerContext* context);
  // Admits a planned Fetch or ReadBytes stream (`call` names it in
  // messages) against the request memory budget, the caller's limits and
  // max_streams, and starts streaming it; `request_bytes`: the size of the
  // request message gRPC keeps for the call.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* StreamPlan(
      absl::string_view call, grpc::CallbackServerContext* context,
      uint64_t request_bytes, const std::string& caller, FetchPlan plan,
      std::unique_ptr<CallRecord> record);
  // Counts a unary call's outcome.
  void CountCall(Method method, const grpc::Status& status);

  std::shared_ptr<CatalogSource> repository_;
  ServiceOptions options_;
  Mutex catalog_mu_;
  std::shared_ptr<const Catalog> catalog_ ABSL_GUARDED_BY(catalog_mu_);
  std::atomic<int> active_streams_{0};
  std::atomic<uint64_t> streams_served_{0};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<int> timers_out_{0};  // Pacing timers not yet returned.
  std::atomic<int> lazy_waits_{0};  // Waits for a cache's blocks, out.
  std::atomic<uint64_t> unauthenticated_calls_{0};
  std::atomic<uint64_t> denied_calls_{0};
  std::unique_ptr<AuthPolicyWatcher> auth_;
  ClientLimiter limiter_;  // Before the streams' owners: outlives them.
  std::unique_ptr<BufferPool> pool_;
  MemoryBudget request_budget_;
  MemoryTrimmer trimmer_;
  std::unique_ptr<ChunkFiller> filler_;  // After pool_: joined first.
  std::unique_ptr<StallWatchdog> watchdog_;
};

// The table of contents of a servable model, as GetModel returns it (through
// wire::ModelInfoToProto).
format::ModelInfo TableOfContents(const Model& model);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_WEIGHT_SERVICE_H_
