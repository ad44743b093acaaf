// Copyright 2026 The Weightserver Authors.
//
// server/call_record.h: what one Fetch or ReadFile stream did, for the
// metrics (metrics.h) and the access log (access_log.h).
//
// WeightService starts a record when a stream call arrives, fills in who and
// what as it learns them, and hands it to the stream's reactor (or to the
// reactor that refuses the call). The reactor reports each payload it hands
// to gRPC (Sent: two relaxed atomic adds, one to the model's byte counter
// looked up once in SetModel) and the status it finishes with; Done, from
// the reactor's OnDone, counts the call, observes its duration and time to
// first chunk, and writes its access-log line.
//
// Example:
//   auto record = CallRecord::Start(Method::kFetch, metrics, log, peer);
//   record->SetIdentity(identity);
//   record->SetModel(model->name, model->revision, entries);
//   record->Sent(chunk_bytes);   // Per chunk.
//   record->Paced(bytes, wait);  // Per write delayed by the bandwidth limits.
//   record->SetStatus(status);   // When the reactor finishes.
//   record->Done();              // In OnDone.
//
// Thread-safety: Sent, Paced and SetStatus may be called from any thread, but not
// concurrently with Done; the setters before the record is handed on.
#ifndef WEIGHTSERVER_SERVER_CALL_RECORD_H_
#define WEIGHTSERVER_SERVER_CALL_RECORD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/access_log.h"
#include "server/metrics.h"

namespace weightserver::server {

class CallRecord {
 public:
  // nullptr when both `metrics` and `log` are null (nothing to record).
  // Both, when given, must outlive the record.
  static std::unique_ptr<CallRecord> Start(Method method,
                                           ServerMetrics* metrics,
                                           AccessLog* log,
                                           absl::string_view peer);
  CallRecord(const CallRecord&) = delete;
  CallRecord& operator=(const CallRecord&) = delete;

  // The caller's identity under the access policy ("": none); a non-empty
  // one labels the identity counters (metrics.h).
  void SetIdentity(absl::string_view identity);
  // What the client asked for, for the access log only: any bytes.
  // `entries`: the tensors of a Fetch (1 for a ReadFile); `file`: the extra
  // file of a ReadFile.
  void SetRequest(absl::string_view model, absl::string_view revision,
                  uint64_t entries, absl::string_view file = {});
  // The repository's model that serves the call: its byte counter is
  // labelled with it (never with a name a client sent in vain).
  void SetModel(absl::string_view model, absl::string_view revision);

  // `bytes` of payload handed to gRPC.
  void Sent(uint64_t bytes) {
    if (first_chunk_ns_.load(std::memory_order_relaxed) < 0) MarkFirstChunk();
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    if (model_bytes_ != nullptr) model_bytes_->Increment(static_cast<double>(bytes));
    if (identity_bytes_ != nullptr) {
      identity_bytes_->Increment(static_cast<double>(bytes));
    }
  }
  // A write of `bytes` payload waited `wait` for the bandwidth limits.
  void Paced(uint64_t bytes, absl::Duration wait) {
    paced_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    paced_ns_.fetch_add(absl::ToInt64Nanoseconds(wait),
                        std::memory_order_relaxed);
  }
  // The stream was refused because its client ran max_streams_per_client;
  // call before Refuse.
  void SetRefusedByClientLimit() { refused_by_client_limit_ = true; }
  // The status the call finishes with (the first one set wins).
  void SetStatus(const absl::Status& status);
  // The call was refused before its stream started: counted and logged
  // with `status`, but its duration is no stream's.
  void Refuse(const absl::Status& status);

  // Counts, observes and logs the call; once. Without SetStatus it ended
  // CANCELLED (the client went away before the reactor finished).
  void Done();

 private:
  CallRecord(Method method, ServerMetrics* metrics, AccessLog* log,
             absl::string_view peer);
  void MarkFirstChunk();

  const Method method_;
  ServerMetrics* const metrics_;
  AccessLog* const log_;
  const int64_t start_ns_;  // SteadyNowNs().
  AccessRecord record_;
  prometheus::Counter* model_bytes_ = nullptr;
  prometheus::Counter* identity_bytes_ = nullptr;  // Only under a policy.
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> paced_bytes_{0};
  std::atomic<int64_t> paced_ns_{0};
  bool refused_by_client_limit_ = false;
  std::atomic<int64_t> first_chunk_ns_{-1};  // Since start_; -1: none yet.
  std::atomic<bool> status_set_{false};
  bool refused_ = false;
  bool done_ = false;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_CALL_RECORD_H_
