// Copyright 2026 The Weightserver Authors.
//
// server/call_record.cc
#include "server/call_record.h"

#include "absl/time/clock.h"
#include "util/clock.h"

namespace weightserver::server {

std::unique_ptr<CallRecord> CallRecord::Start(Method method,
                                              ServerMetrics* metrics,
                                              AccessLog* log,
                                              absl::string_view peer) {
  if (metrics == nullptr && log == nullptr) return nullptr;
  return std::unique_ptr<CallRecord>(
      new CallRecord(method, metrics, log, peer));
}

CallRecord::CallRecord(Method method, ServerMetrics* metrics, AccessLog* log,
                       absl::string_view peer)
    : method_(method),
      metrics_(metrics),
      log_(log),
      start_ns_(SteadyNowNs()) {
  record_.method = std::string(MethodName(method));
  if (log_ != nullptr) record_.peer = std::string(peer);
}

void CallRecord::SetIdentity(absl::string_view identity) {
  record_.identity = std::string(identity);
  if (metrics_ != nullptr) identity_bytes_ = metrics_->IdentitySentBytes(identity);
}

void CallRecord::SetRequest(absl::string_view model,
                            absl::string_view revision, uint64_t entries,
                            absl::string_view file) {
  if (log_ == nullptr) return;
  // Cut: a hostile name must not cost the log megabytes per line.
  auto cut = [](absl::string_view s) { return std::string(s.substr(0, 1024)); };
  record_.model = cut(model);
  record_.revision = cut(revision);
  record_.entries = entries;
  record_.file = cut(file);
}

void CallRecord::SetModel(absl::string_view model, absl::string_view revision) {
  record_.model = std::string(model);
  record_.revision = std::string(revision);
  if (metrics_ != nullptr) model_bytes_ = metrics_->SentBytes(method_, model);
}

void CallRecord::MarkFirstChunk() {
  int64_t none = -1;
  first_chunk_ns_.compare_exchange_strong(none, SteadyNowNs() - start_ns_,
                                          std::memory_order_relaxed);
}

void CallRecord::SetStatus(const absl::Status& status) {
  if (!status_set_.exchange(true)) record_.status = status;
}

void CallRecord::Refuse(const absl::Status& status) {
  refused_ = true;
  SetStatus(status);
}

void CallRecord::Done() {
  if (done_) return;
  done_ = true;
  if (!status_set_.load()) {
    record_.status = absl::CancelledError("the client cancelled the call");
  }
  const absl::Duration duration = absl::Nanoseconds(SteadyNowNs() - start_ns_);
  const int64_t first = first_chunk_ns_.load(std::memory_order_relaxed);
  const absl::Duration first_chunk =
      first < 0 ? -absl::Seconds(1) : absl::Nanoseconds(first);
  if (metrics_ != nullptr) {
    metrics_->CountCall(method_, record_.status.code());
    metrics_->CountIdentityCall(record_.identity, record_.status.code());
    metrics_->CountIdentityPacing(
        record_.identity, paced_bytes_.load(std::memory_order_relaxed),
        absl::Nanoseconds(paced_ns_.load(std::memory_order_relaxed)));
    if (refused_by_client_limit_) {
      metrics_->CountIdentityStreamRefused(record_.identity);
    }
    if (!refused_) metrics_->ObserveStream(method_, duration, first_chunk);
  }
  if (log_ != nullptr) {
    record_.end = absl::Now();
    record_.bytes = bytes_.load(std::memory_order_relaxed);
    record_.duration = duration;
    record_.first_chunk = first_chunk;
    log_->Write(record_);
  }
}

}  // namespace weightserver::server
