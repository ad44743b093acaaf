// Copyright 2026 The Weightserver Authors.
//
// cache/upstream.cc
#include "cache/upstream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "util/log.h"
#include "wire/status.h"

namespace weightserver::cache {

absl::StatusOr<std::unique_ptr<Upstream>> Upstream::Connect(
    const std::vector<std::string>& addresses, UpstreamOptions options) {
  if (addresses.empty()) {
    return absl::InvalidArgumentError("a cache needs at least one upstream");
  }
  std::vector<std::unique_ptr<client::Client>> clients;
  for (const std::string& a : addresses) {
    absl::StatusOr<std::unique_ptr<client::Client>> c =
        client::Client::Connect(a, options.client);
    if (!c.ok()) {
      return absl::Status(c.status().code(),
                          absl::StrCat("upstream ", a, ": ", c.status().message()));
    }
    clients.push_back(*std::move(c));
  }
  return std::unique_ptr<Upstream>(
      new Upstream(addresses, std::move(clients), std::move(options)));
}

Upstream::Upstream(std::vector<std::string> addresses,
                   std::vector<std::unique_ptr<client::Client>> clients,
                   UpstreamOptions options)
    : addresses_(std::move(addresses)),
      clients_(std::move(clients)),
      options_(std::move(options)) {}

absl::Status Upstream::Try(
    absl::string_view what,
    absl::FunctionRef<absl::Status(const client::Client&)> call) {
  const absl::Time deadline = absl::Now() + options_.failover_timeout;
  size_t at = current_.load();
  absl::Status last;
  for (int tries = 0;; ++tries) {
    const size_t i = at % clients_.size();
    last = call(*clients_[i]);
    if (last.ok()) {
      current_.store(i);
      return last;
    }
    // CANCELLED: the upstream cancelled the call (it is shutting down);
    // this cache cancels none of its own.
    if (!wire::IsRetryable(last.code()) &&
        last.code() != absl::StatusCode::kDeadlineExceeded &&
        last.code() != absl::StatusCode::kCancelled) {
      return last;
    }
    // Every address failed once this round: pause before the next round.
    if ((tries + 1) % clients_.size() == 0) {
      if (absl::Now() + absl::Milliseconds(200) >= deadline) break;
      absl::SleepFor(absl::Milliseconds(200));
    }
    ++at;
    if (clients_.size() > 1) {
      failovers_.fetch_add(1);
      LOG(WARNING) << what << ": upstream " << addresses_[i] << " failed ("
                   << last.message() << "); trying "
                   << addresses_[at % clients_.size()];
    }
  }
  return absl::UnavailableError(absl::StrCat(
      what, ": no upstream answered within ",
      absl::FormatDuration(options_.failover_timeout), " (",
      absl::StrJoin(addresses_, ", "), "); last error: ", last.message()));
}

absl::StatusOr<std::vector<client::ModelSummary>> Upstream::ListModels() {
  std::vector<client::ModelSummary> out;
  absl::Status s = Try("ListModels", [&](const client::Client& c) {
    absl::StatusOr<std::vector<client::ModelSummary>> r = c.ListModels();
    if (!r.ok()) return r.status();
    out = *std::move(r);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<client::ModelInfo> Upstream::GetModel(const std::string& name) {
  client::ModelInfo out;
  absl::Status s = Try(absl::StrCat("GetModel '", name, "'"),
                       [&](const client::Client& c) {
                         absl::StatusOr<client::ModelInfo> r = c.GetModel(name);
                         if (!r.ok()) return r.status();
                         out = *std::move(r);
                         return absl::OkStatus();
                       });
  if (!s.ok()) return s;
  return out;
}

absl::Status Upstream::ReadBytes(const client::ModelInfo& model,
                                 const std::string& file, uint64_t offset,
                                 absl::Span<std::byte> destination) {
  return Try(absl::StrCat("model '", model.name, "' file '", file, "' bytes [",
                          offset, ", ", offset + destination.size(), ")"),
             [&](const client::Client& c) {
               return c.ReadBytes(model, file, offset, destination);
             });
}

absl::StatusOr<std::string> Upstream::ReadFile(const client::ModelInfo& model,
                                               const std::string& name) {
  std::string out;
  absl::Status s = Try(absl::StrCat("model '", model.name, "' file '", name, "'"),
                       [&](const client::Client& c) {
                         absl::StatusOr<std::string> r = c.ReadFile(model, name);
                         if (!r.ok()) return r.status();
                         out = *std::move(r);
                         return absl::OkStatus();
                       });
  if (!s.ok()) return s;
  return out;
}

}  // namespace weightserver::cache
