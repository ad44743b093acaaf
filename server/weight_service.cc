// Copyright 2026 The Weightserver Authors.
//
// server/weight_service.cc
#include "server/weight_service.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "format/dtype.h"
#include "server/fetch_reactor.h"
#include "server/grpc_status.h"
#include "util/status_macros.h"

namespace weightserver::server {

v1::Model BuildToc(const Model& model) {
  v1::Model toc;
  toc.set_name(model.name);
  toc.set_revision(model.revision);
  toc.set_sharded(model.sharded);
  toc.set_index_metadata_json(model.index_metadata_json);
  toc.mutable_tensors()->Reserve(static_cast<int>(model.tensor_count));
  for (size_t f = 0; f < model.files.size(); ++f) {
    const ServedFile& file = model.files[f];
    v1::FileInfo* fi = toc.add_files();
    fi->set_name(file.name);
    fi->set_size(file.file->size());
    fi->set_header_size(file.header.header_size);
    fi->set_has_metadata(file.header.metadata.has_value());
    if (file.header.metadata.has_value()) {
      for (const auto& [k, v] : *file.header.metadata) {
        (*fi->mutable_metadata())[k] = v;
      }
    }
    for (const format::TensorInfo& t : file.header.tensors) {
      v1::TensorInfo* ti = toc.add_tensors();
      ti->set_name(t.name);
      ti->set_dtype(std::string(format::DTypeName(t.dtype)));
      for (uint64_t d : t.shape) ti->add_shape(d);
      ti->set_file_index(static_cast<uint32_t>(f));
      ti->set_offset(file.header.data_offset() + t.begin);
      ti->set_length(t.size());
    }
  }
  return toc;
}

absl::StatusOr<std::unique_ptr<WeightService>> WeightService::Create(
    std::shared_ptr<const ModelRepository> repository, ServiceOptions options) {
  FetchLimits& l = options.limits;
  if (l.min_chunk_bytes == 0 || l.min_chunk_bytes > l.max_chunk_bytes ||
      options.readahead < 1 || options.max_streams < 1) {
    return absl::InvalidArgumentError(
        "service options: need 0 < min_chunk_bytes <= max_chunk_bytes, "
        "readahead >= 1, max_streams >= 1");
  }
  l.default_chunk_bytes =
      std::clamp(l.default_chunk_bytes, l.min_chunk_bytes, l.max_chunk_bytes);
  // A chunk costs its buffer's size class (a power of two) of the budget.
  const uint64_t largest = BufferPool::BufferBytesFor(l.max_chunk_bytes);
  if (options.max_inflight_bytes < 2 * largest) {
    return absl::InvalidArgumentError(absl::StrCat(
        "service options: max_inflight_bytes (", options.max_inflight_bytes,
        ") must hold at least two chunks of max_chunk_bytes (",
        l.max_chunk_bytes, ", a buffer of ", largest, " bytes)"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ChunkFiller> filler,
                   ChunkFiller::Create({.mode = options.io,
                                        .threads = options.io_threads}));
  return std::unique_ptr<WeightService>(new WeightService(
      std::move(repository), std::move(options), std::move(filler)));
}

WeightService::WeightService(std::shared_ptr<const ModelRepository> repository,
                             ServiceOptions options,
                             std::unique_ptr<ChunkFiller> filler)
    : repository_(std::move(repository)),
      options_(options),
      pool_(std::make_unique<BufferPool>(options.max_inflight_bytes,
                                         options.limits.max_chunk_bytes)),
      filler_(std::move(filler)),
      watchdog_(std::make_unique<StallWatchdog>(options.stall_timeout)) {
  for (const auto& model : repository_->models()) {
    v1::ModelSummary* s = list_.add_models();
    s->set_name(model->name);
    s->set_revision(model->revision);
    s->set_file_count(static_cast<uint32_t>(model->files.size()));
    s->set_tensor_count(model->tensor_count);
    s->set_total_tensor_bytes(model->total_tensor_bytes);
    s->set_error(model->error);
    if (model->servable()) {
      tocs_.emplace(model->name, grpc::Slice(BuildToc(*model).SerializeAsString()));
    }
  }
}

grpc::ServerUnaryReactor* WeightService::ListModels(
    grpc::CallbackServerContext* context, const v1::ListModelsRequest*,
    v1::ListModelsResponse* response) {
  *response = list_;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* WeightService::GetModel(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::GetModelRequest request;
  grpc::ByteBuffer copy(*raw);  // Deserialize consumes its input.
  absl::Status status;
  if (!grpc::SerializationTraits<v1::GetModelRequest>::Deserialize(&copy,
                                                                  &request)
           .ok()) {
    status = absl::InvalidArgumentError("GetModel: malformed request");
  } else if (request.name().empty()) {
    status = absl::InvalidArgumentError("GetModel: empty model name");
  } else if (auto it = tocs_.find(request.name()); it != tocs_.end()) {
    *response = grpc::ByteBuffer(&it->second, 1);  // Shares the slice.
  } else if (auto model = repository_->Find(request.name())) {
    status = absl::FailedPreconditionError(absl::StrCat(
        "model '", model->name, "' is not servable: ", model->error));
  } else {
    status = absl::NotFoundError(absl::StrCat(
        "GetModel: no model '", absl::CHexEscape(request.name()), "'"));
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* WeightService::Fetch(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  auto request = std::make_unique<v1::FetchRequest>();
  grpc::ByteBuffer copy(*raw);  // Deserialize consumes its input.
  grpc::Status parsed =
      grpc::SerializationTraits<v1::FetchRequest>::Deserialize(&copy,
                                                               request.get());
  if (!parsed.ok()) {
    return FailedFetchReactor(absl::InvalidArgumentError(
        absl::StrCat("Fetch: malformed request: ", parsed.error_message())));
  }
  absl::StatusOr<FetchPlan> plan =
      PlanFetch(repository_->Find(request->model()), *request, options_.limits);
  if (!plan.ok()) return FailedFetchReactor(plan.status());
  if (active_streams_.fetch_add(1) >= options_.max_streams) {
    active_streams_.fetch_sub(1);
    return FailedFetchReactor(absl::ResourceExhaustedError(absl::StrCat(
        "Fetch model '", request->model(), "': ", options_.max_streams,
        " streams already running; retry later")));
  }
  streams_served_.fetch_add(1, std::memory_order_relaxed);
  return StartFetchReactor(
      *std::move(plan),
      FetchResources{.pool = pool_.get(),
                     .filler = filler_.get(),
                     .readahead = options_.readahead,
                     .send_from_mapping = options_.send_from_mapping,
                     .active = &active_streams_,
                     .bytes_sent = &bytes_sent_},
      watchdog_->Watch(context));
}

}  // namespace weightserver::server
