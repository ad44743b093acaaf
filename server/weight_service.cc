// Copyright 2026 The Weightserver Authors.
//
// server/weight_service.cc
#include "server/weight_service.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <grpc/grpc_security_constants.h>

#include <algorithm>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "weightserver/format/dtype.h"
#include "server/extra_file_reactor.h"
#include "server/fetch_reactor.h"
#include "wire/model_info.h"
#include "wire/status.h"
#include "util/quote.h"
#include "util/status_macros.h"

namespace weightserver::server {

format::ModelInfo TableOfContents(const Model& model) {
  format::ModelInfo toc;
  toc.name = model.name;
  toc.revision = model.revision;
  toc.sharded = model.sharded;
  toc.index_metadata_json = model.index_metadata_json;
  for (const ServedExtraFile& extra : model.extra_files) {
    toc.extra_files.push_back(format::ExtraFile{extra.name, extra.identity.size});
  }
  toc.tensors.reserve(model.tensor_count);
  for (size_t f = 0; f < model.files.size(); ++f) {
    const ServedFile& file = model.files[f];
    toc.files.push_back(format::ModelFile{file.name, file.file->size(),
                                          file.header.header_size,
                                          file.header.metadata});
    for (const format::TensorInfo& t : file.header.tensors) {
      toc.tensors.push_back(format::ModelTensor{
          t.name, std::string(format::DTypeName(t.dtype)), t.shape,
          static_cast<uint32_t>(f), file.header.data_offset() + t.begin,
          t.size()});
    }
  }
  toc.Reindex();
  return toc;
}

// Weak pointers only: a catalog must not keep a replaced repository's
// models (and their file mappings) alive until the next ListModels or
// GetModel; their last stream lets go of them.
struct WeightService::Catalog {
  std::weak_ptr<const ModelRepository> repository;
  v1::ListModelsResponse list;
  // Serialized v1::Model of each servable model, by name, and by model (to
  // take the tables of unchanged models over to the next catalog; an entry
  // whose model is gone is never matched, even by a new model at the same
  // address).
  absl::flat_hash_map<std::string, grpc::Slice> tocs;
  absl::flat_hash_map<const Model*, std::pair<std::weak_ptr<const Model>, grpc::Slice>>
      tocs_by_model;
};

std::shared_ptr<const WeightService::Catalog> WeightService::CurrentCatalog(
    std::shared_ptr<const ModelRepository>* snapshot) {
  std::shared_ptr<const ModelRepository> now = repository_->Snapshot();
  *snapshot = now;
  MutexLock lock(&catalog_mu_);
  if (catalog_ != nullptr && catalog_->repository.lock() == now) {
    return catalog_;
  }
  auto next = std::make_shared<Catalog>();
  next->repository = now;
  for (const auto& model : now->models()) {
    *next->list.add_models() = wire::ModelSummaryToProto(format::ModelSummary{
        model->name, model->revision,
        static_cast<uint32_t>(model->files.size()), model->tensor_count,
        model->total_tensor_bytes, model->error});
    if (!model->servable()) continue;
    const grpc::Slice* unchanged = nullptr;
    if (catalog_ != nullptr) {
      auto it = catalog_->tocs_by_model.find(model.get());
      if (it != catalog_->tocs_by_model.end() &&
          it->second.first.lock() == model) {
        unchanged = &it->second.second;
      }
    }
    grpc::Slice toc =
        unchanged != nullptr
            ? *unchanged
            : grpc::Slice(wire::ModelInfoToProto(TableOfContents(*model))
                              .SerializeAsString());
    next->tocs.emplace(model->name, toc);
    next->tocs_by_model.emplace(model.get(), std::make_pair(model, toc));
  }
  catalog_ = std::move(next);
  return catalog_;
}

absl::StatusOr<std::unique_ptr<WeightService>> WeightService::Create(
    std::shared_ptr<CatalogSource> repository, ServiceOptions options) {
  FetchLimits& l = options.limits;
  if (l.min_chunk_bytes == 0 || l.min_chunk_bytes > l.max_chunk_bytes ||
      options.readahead < 1 || options.max_streams < 1 ||
      options.client_limits.max_streams_per_client < 0) {
    return absl::InvalidArgumentError(
        "service options: need 0 < min_chunk_bytes <= max_chunk_bytes, "
        "readahead >= 1, max_streams >= 1, max_streams_per_client >= 0");
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
  std::unique_ptr<AuthPolicyWatcher> auth;
  if (!options.auth_file.empty()) {
    ASSIGN_OR_RETURN(auth, AuthPolicyWatcher::Start(options.auth_file,
                                                    options.auth_reload_interval));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ChunkFiller> filler,
                   ChunkFiller::Create({.mode = options.io,
                                        .threads = options.io_threads}));
  auto service = std::unique_ptr<WeightService>(new WeightService(
      std::move(repository), std::move(options), std::move(filler)));
  service->auth_ = std::move(auth);
  return service;
}

WeightService::WeightService(std::shared_ptr<CatalogSource> repository,
                             ServiceOptions options,
                             std::unique_ptr<ChunkFiller> filler)
    : repository_(std::move(repository)),
      options_(options),
      limiter_(options.client_limits),
      pool_(std::make_unique<BufferPool>(options.max_inflight_bytes,
                                         options.limits.max_chunk_bytes)),
      request_budget_(options.max_request_memory),
      trimmer_(options.trim_interval, 4 << 20),
      filler_(std::move(filler)),
      watchdog_(std::make_unique<StallWatchdog>(
          options.stall_timeout, pool_.get(), options.busy_stall_timeout)) {
  std::shared_ptr<const ModelRepository> snapshot;
  CurrentCatalog(&snapshot);  // The first catalog's tables, before the first call.
}

absl::StatusOr<std::string> WeightService::Caller(
    grpc::CallbackServerContext* context) {
  if (auth_ == nullptr) return std::string();
  const auto& metadata = context->client_metadata();
  auto [begin, end] = metadata.equal_range("authorization");
  std::string token;
  absl::Status bad;
  if (begin != end && std::next(begin) != end) {
    bad = absl::UnauthenticatedError("more than one authorization header");
  } else if (begin != end) {
    const absl::string_view value(begin->second.data(), begin->second.size());
    if (value.size() > 4096 + 7 || !absl::StartsWithIgnoreCase(value, "bearer ") ||
        value.size() == 7) {
      bad = absl::UnauthenticatedError(
          "the authorization header must be 'Bearer TOKEN' (at most 4 KiB)");
    } else {
      token = std::string(value.substr(7));
    }
  }
  std::vector<std::string> peer;
  if (bad.ok() && context->auth_context() != nullptr &&
      context->auth_context()->IsPeerAuthenticated()) {
    for (const char* property :
         {GRPC_X509_SAN_PROPERTY_NAME, GRPC_X509_CN_PROPERTY_NAME}) {
      for (const grpc::string_ref& v :
           context->auth_context()->FindPropertyValues(property)) {
        peer.emplace_back(v.data(), v.size());
      }
    }
  }
  absl::StatusOr<std::string> who =
      bad.ok() ? auth_->Current()->Authenticate(token, peer) : bad;
  if (!who.ok()) unauthenticated_calls_.fetch_add(1);
  return who;
}

bool WeightService::MayRead(const std::string& caller, absl::string_view model) {
  if (auth_ == nullptr) return true;
  if (auth_->Current()->MayRead(caller, model)) return true;
  denied_calls_.fetch_add(1);
  return false;
}

std::unique_ptr<CallRecord> WeightService::Record(
    Method method, grpc::CallbackServerContext* context) {
  return CallRecord::Start(method, options_.metrics, options_.access_log,
                           options_.access_log != nullptr ? context->peer()
                                                          : std::string());
}

void WeightService::CountCall(Method method, const grpc::Status& status) {
  if (options_.metrics == nullptr) return;
  options_.metrics->CountCall(
      method, static_cast<absl::StatusCode>(status.error_code()));
}

grpc::ServerUnaryReactor* WeightService::ListModels(
    grpc::CallbackServerContext* context, const v1::ListModelsRequest*,
    v1::ListModelsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = Caller(context);
  if (!caller.ok()) {
    CountCall(Method::kListModels, wire::ToGrpcStatus(caller.status()));
    reactor->Finish(wire::ToGrpcStatus(caller.status()));
    return reactor;
  }
  std::shared_ptr<const ModelRepository> snapshot;
  std::shared_ptr<const Catalog> catalog = CurrentCatalog(&snapshot);
  *response = catalog->list;
  // A model whose file could not be read while served (a poisoned mapping:
  // it shrank, or its disk failed), or changed on disk since it was scanned
  // (every fetch of it fails), is not served until a rescan loads it anew:
  // say so. Two stats per file.
  const auto& models = snapshot->models();
  for (size_t i = 0; i < models.size(); ++i) {
    for (const ServedFile& f : models[i]->files) {
      std::string why;
      if (f.file->Poisoned()) {
        why = absl::StrCat(f.name, ": a page could not be read while served "
                           "(the file shrank, or its storage failed)");
      } else if (absl::Status st = f.file->CheckUnchanged(); !st.ok()) {
        why = std::string(st.message());
      }
      if (!why.empty()) {
        v1::ModelSummary* m = response->mutable_models(static_cast<int>(i));
        m->set_error(absl::StrCat(
            why, "; not served until the repository is rescanned"));
        m->clear_revision();
        break;
      }
    }
  }
  if (auth_ != nullptr) {  // Only the models the caller may read.
    std::shared_ptr<const AuthPolicy> policy = auth_->Current();
    auto* list = response->mutable_models();
    list->erase(std::remove_if(list->begin(), list->end(),
                               [&](const v1::ModelSummary& m) {
                                 return !policy->MayRead(*caller, m.name());
                               }),
                list->end());
  }
  CountCall(Method::kListModels, grpc::Status::OK);
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
  std::shared_ptr<const ModelRepository> snapshot;
  absl::StatusOr<std::string> caller = Caller(context);
  if (!caller.ok()) {
    status = caller.status();
  } else if (!grpc::SerializationTraits<v1::GetModelRequest>::Deserialize(
                  &copy, &request)
                  .ok()) {
    status = absl::InvalidArgumentError("GetModel: malformed request");
  } else if (request.name().empty()) {
    status = absl::InvalidArgumentError("GetModel: empty model name");
  } else if (!MayRead(*caller, request.name())) {  // As if it did not exist.
    status = absl::NotFoundError(
        absl::StrCat("GetModel: no model ", QuoteInput(request.name())));
  } else if (repository_->Find(request.name()) == nullptr) {
    // (A cache's source asks its upstream first, catalog_source.h.)
    status = absl::NotFoundError(
        absl::StrCat("GetModel: no model ", QuoteInput(request.name())));
  } else if (std::shared_ptr<const Catalog> catalog = CurrentCatalog(&snapshot);
             catalog->tocs.contains(request.name())) {
    grpc::Slice toc = catalog->tocs.at(request.name());
    *response = grpc::ByteBuffer(&toc, 1);  // Shares the slice.
  } else if (auto model = snapshot->Find(request.name())) {
    status = absl::FailedPreconditionError(absl::StrCat(
        "model '", model->name, "' is not servable: ", model->error));
  } else {
    status = absl::NotFoundError(
        absl::StrCat("GetModel: no model ", QuoteInput(request.name())));
  }
  CountCall(Method::kGetModel, wire::ToGrpcStatus(status));
  reactor->Finish(wire::ToGrpcStatus(status));
  return reactor;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* WeightService::Fetch(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  std::unique_ptr<CallRecord> record = Record(Method::kFetch, context);
  auto refuse = [&record](absl::Status status) {
    return FailedFetchReactor(std::move(status), std::move(record));
  };
  auto request = std::make_unique<v1::FetchRequest>();
  grpc::ByteBuffer copy(*raw);  // Deserialize consumes its input.
  grpc::Status parsed =
      grpc::SerializationTraits<v1::FetchRequest>::Deserialize(&copy,
                                                               request.get());
  if (!parsed.ok()) {
    return refuse(absl::InvalidArgumentError(
        absl::StrCat("Fetch: malformed request: ", parsed.error_message())));
  }
  if (record != nullptr) {
    record->SetRequest(request->model(), request->revision(),
                       static_cast<uint64_t>(request->tensors_size()));
  }
  absl::StatusOr<std::string> caller = Caller(context);
  if (!caller.ok()) return refuse(caller.status());
  if (record != nullptr) record->SetIdentity(*caller);
  if (!request->model().empty() && !MayRead(*caller, request->model())) {
    return refuse(absl::NotFoundError(
        absl::StrCat("Fetch: no model ", QuoteInput(request->model()))));
  }
  absl::StatusOr<FetchPlan> plan =
      PlanFetch(repository_->Find(request->model()), *request, options_.limits);
  if (!plan.ok()) return refuse(plan.status());
  return StreamPlan("Fetch", context, raw->Length(), *caller, *std::move(plan),
                    std::move(record));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* WeightService::ReadBytes(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  std::unique_ptr<CallRecord> record = Record(Method::kReadBytes, context);
  auto refuse = [&record](absl::Status status) {
    return FailedFetchReactor(std::move(status), std::move(record));
  };
  v1::ReadBytesRequest request;
  grpc::ByteBuffer copy(*raw);  // Deserialize consumes its input.
  grpc::Status parsed =
      grpc::SerializationTraits<v1::ReadBytesRequest>::Deserialize(&copy,
                                                                   &request);
  if (!parsed.ok()) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "ReadBytes: malformed request: ", parsed.error_message())));
  }
  if (record != nullptr) {
    record->SetRequest(request.model(), request.revision(), 1, request.file());
  }
  absl::StatusOr<std::string> caller = Caller(context);
  if (!caller.ok()) return refuse(caller.status());
  if (record != nullptr) record->SetIdentity(*caller);
  if (!request.model().empty() && !MayRead(*caller, request.model())) {
    return refuse(absl::NotFoundError(
        absl::StrCat("ReadBytes: no model ", QuoteInput(request.model()))));
  }
  absl::StatusOr<FetchPlan> plan = PlanFileBytes(
      repository_->Find(request.model()), request, options_.limits);
  if (!plan.ok()) return refuse(plan.status());
  return StreamPlan("ReadBytes", context, raw->Length(), *caller,
                    *std::move(plan), std::move(record));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* WeightService::StreamPlan(
    absl::string_view call, grpc::CallbackServerContext* context,
    uint64_t request_bytes, const std::string& caller, FetchPlan plan,
    std::unique_ptr<CallRecord> record) {
  auto refuse = [&record](absl::Status status) {
    return FailedFetchReactor(std::move(status), std::move(record));
  };
  if (record != nullptr) {
    record->SetModel(plan.model->name, plan.model->revision);
  }
  // gRPC keeps the message for the life of the call; the plan lives as long.
  const uint64_t cost = request_bytes + plan.MemoryBytes();
  if (cost > request_budget_.capacity()) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        call, " model '", plan.model->name, "': the request needs ", cost,
        " bytes of server memory, more than all of max_request_memory (",
        request_budget_.capacity(), "); send fewer entries per request")));
  }
  plan.charge = request_budget_.TryCharge(cost);
  if (!plan.charge.has_value()) {
    return refuse(absl::ResourceExhaustedError(absl::StrCat(
        call, " model '", plan.model->name, "': the streams in progress hold ",
        request_budget_.used(), " of the ", request_budget_.capacity(),
        " bytes of max_request_memory and this request needs ", cost,
        "; retry later")));
  }
  absl::StatusOr<std::unique_ptr<ClientLimiter::Stream>> limits =
      limiter_.Admit(ClientLabel(caller, context->peer()),
                     absl::StrCat(call, " model '", plan.model->name, "'"));
  if (!limits.ok()) {
    if (record != nullptr) record->SetRefusedByClientLimit();
    return refuse(limits.status());
  }
  if (active_streams_.fetch_add(1) >= options_.max_streams) {
    active_streams_.fetch_sub(1);
    return refuse(absl::ResourceExhaustedError(absl::StrCat(
        call, " model '", plan.model->name, "': ", options_.max_streams,
        " streams already running; retry later")));
  }
  streams_served_.fetch_add(1, std::memory_order_relaxed);
  return StartFetchReactor(
      std::move(plan),
      FetchResources{.pool = pool_.get(),
                     .filler = filler_.get(),
                     .readahead = options_.readahead,
                     .send_from_mapping = options_.send_from_mapping,
                     .active = &active_streams_,
                     .bytes_sent = &bytes_sent_,
                     .timers_out = &timers_out_,
                     .lazy_waits = &lazy_waits_},
      watchdog_->Watch(context), *std::move(limits), std::move(record));
}

WeightService::~WeightService() {
  // A timer cancelled at shutdown calls back on a gRPC thread soon after; a
  // cache's block, once fetched (or failed).
  while (timers_out_.load() > 0 || lazy_waits_.load() > 0) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

grpc::ServerWriteReactor<v1::Chunk>* WeightService::ReadFile(
    grpc::CallbackServerContext* context,
    const v1::ReadFileRequest* request) {
  std::unique_ptr<CallRecord> record = Record(Method::kReadFile, context);
  auto refuse = [&record](absl::Status status) {
    return FailedExtraFileReactor(std::move(status), std::move(record));
  };
  if (record != nullptr) {
    record->SetRequest(request->model(), request->revision(), 1,
                       request->name());
  }
  absl::StatusOr<std::string> caller = Caller(context);
  if (!caller.ok()) return refuse(caller.status());
  if (record != nullptr) record->SetIdentity(*caller);
  if (!request->model().empty() && !MayRead(*caller, request->model())) {
    return refuse(absl::NotFoundError(
        absl::StrCat("ReadFile: no model ", QuoteInput(request->model()))));
  }
  std::shared_ptr<const Model> model = repository_->Find(request->model());
  if (absl::Status s = CheckRequestedModel(model.get(), request->model(),
                                           request->revision(), "ReadFile");
      !s.ok()) {
    return refuse(std::move(s));
  }
  if (record != nullptr) record->SetModel(model->name, model->revision);
  const ServedExtraFile* file = model->FindExtraFile(request->name());
  if (file == nullptr) {
    return refuse(absl::NotFoundError(absl::StrCat(
        "model '", model->name, "': no extra file ",
        QuoteInput(request->name()), " (GetModel lists them)")));
  }
  absl::StatusOr<std::unique_ptr<ClientLimiter::Stream>> limits =
      limiter_.Admit(ClientLabel(*caller, context->peer()),
                     absl::StrCat("ReadFile model '", model->name, "'"));
  if (!limits.ok()) {
    if (record != nullptr) record->SetRefusedByClientLimit();
    return refuse(limits.status());
  }
  if (active_streams_.fetch_add(1) >= options_.max_streams) {
    active_streams_.fetch_sub(1);
    return refuse(absl::ResourceExhaustedError(absl::StrCat(
        "ReadFile model '", model->name, "': ", options_.max_streams,
        " streams already running; retry later")));
  }
  const FetchLimits& l = options_.limits;
  const uint32_t chunk_bytes =
      request->chunk_size_hint() == 0
          ? l.default_chunk_bytes
          : std::clamp(request->chunk_size_hint(), l.min_chunk_bytes,
                       l.max_chunk_bytes);
  return StartExtraFileReactor(std::move(model), file, chunk_bytes,
                               &active_streams_, &bytes_sent_,
                               watchdog_->Watch(context), *std::move(limits),
                               std::move(record));
}

}  // namespace weightserver::server
