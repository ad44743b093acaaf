// Copyright 2026 The Weightserver Authors.
//
// server/weight_service.h: the weightserver.v1.WeightService implementation.
//
// Callback API throughout: ListModels and GetModel answer from tables built
// once at construction; each Fetch stream is one FetchReactor (see
// fetch_reactor.h) with one write in flight. The number of concurrent Fetch
// streams is bounded; beyond it a Fetch fails with RESOURCE_EXHAUSTED.
//
// Example:
//   WeightService service(std::move(repo), ServiceOptions{});
//   builder.RegisterService(&service);
//
// Thread-safety: all methods may be called concurrently by gRPC.
#ifndef WEIGHTSERVER_SERVER_WEIGHT_SERVICE_H_
#define WEIGHTSERVER_SERVER_WEIGHT_SERVICE_H_

#include <atomic>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "server/fetch_plan.h"
#include "server/model_repository.h"
#include "weightserver/v1/weightserver.grpc.pb.h"

namespace weightserver::server {

struct ServiceOptions {
  FetchLimits limits;
  // Concurrent Fetch streams; more get RESOURCE_EXHAUSTED.
  int max_streams = 256;
};

class WeightService final : public v1::WeightService::CallbackService {
 public:
  WeightService(std::shared_ptr<const ModelRepository> repository,
                ServiceOptions options);

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const v1::GetModelRequest* request,
                                     v1::Model* response) override;
  grpc::ServerWriteReactor<v1::Chunk>* Fetch(
      grpc::CallbackServerContext* context,
      const v1::FetchRequest* request) override;

  // Fetch streams running now.
  int active_streams() const { return active_streams_.load(); }

 private:
  std::shared_ptr<const ModelRepository> repository_;
  ServiceOptions options_;
  v1::ListModelsResponse list_;
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Model>> tocs_;
  std::atomic<int> active_streams_{0};
};

// The table of contents of a servable model, as GetModel returns it.
v1::Model BuildToc(const Model& model);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_WEIGHT_SERVICE_H_
