// Copyright 2026 The Weightserver Authors.
//
// server/client_limits.cc
#include "server/client_limits.h"

#include <algorithm>

#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"

namespace weightserver::server {
namespace {

// A bucket holds a tenth of a second of its rate, at least 64 KiB: enough to
// send a short request at once, little enough to keep any 3 s window within
// a few percent of the rate.
constexpr double kBurstSeconds = 0.1;
constexpr double kMinBurstBytes = 64 << 10;

}  // namespace

std::string ClientLabel(absl::string_view identity, absl::string_view peer) {
  if (!identity.empty()) return absl::StrCat("identity '", identity, "'");
  if (absl::ConsumePrefix(&peer, "ipv4:") || absl::ConsumePrefix(&peer, "ipv6:")) {
    if (const size_t colon = peer.rfind(':'); colon != absl::string_view::npos) {
      peer = peer.substr(0, colon);
    }
  }
  return absl::StrCat("peer ", peer);
}

ClientLimiter::ClientLimiter(ClientLimitOptions options)
    : options_(std::move(options)),
      server_bucket_(MakeBucket(options_.max_bytes_per_second)) {}

std::shared_ptr<TokenBucket> ClientLimiter::MakeBucket(uint64_t rate) const {
  if (rate == 0) return nullptr;
  const double r = static_cast<double>(rate);
  return std::make_shared<TokenBucket>(
      r, std::max(r * kBurstSeconds, kMinBurstBytes), options_.clock);
}

absl::StatusOr<std::unique_ptr<ClientLimiter::Stream>> ClientLimiter::Admit(
    const std::string& client, absl::string_view what) {
  MutexLock lock(&mu_);
  if (clients_.size() >= next_sweep_) {
    Sweep();
    next_sweep_ = std::max<size_t>(1024, 2 * clients_.size());
  }
  Client& c = clients_[client];
  const int limit = options_.max_streams_per_client;
  if (limit > 0 && c.streams >= limit) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(absl::StrCat(
        what, ": ", client, " already runs ", c.streams,
        " streams, the most one client may run (max_streams_per_client); "
        "retry when one ends"));
  }
  if (c.bucket == nullptr) {
    c.bucket = MakeBucket(options_.max_bytes_per_second_per_client);
  }
  ++c.streams;
  return std::unique_ptr<Stream>(new Stream(this, client, c.bucket));
}

void ClientLimiter::Release(const std::string& client) {
  MutexLock lock(&mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  // A client in debt is remembered, or a new stream would start afresh.
  if (--it->second.streams == 0 &&
      (it->second.bucket == nullptr || it->second.bucket->Full())) {
    clients_.erase(it);
  }
}

void ClientLimiter::Sweep() {
  absl::erase_if(clients_, [](const auto& entry) {
    const Client& c = entry.second;
    return c.streams == 0 && (c.bucket == nullptr || c.bucket->Full());
  });
}

LimitStats ClientLimiter::stats() const {
  LimitStats s;
  s.streams_refused_per_client = refused_.load(std::memory_order_relaxed);
  s.paced_writes = paced_writes_.load(std::memory_order_relaxed);
  s.paced_bytes = paced_bytes_.load(std::memory_order_relaxed);
  s.pacing_wait = absl::Nanoseconds(pacing_wait_ns_.load(std::memory_order_relaxed));
  MutexLock lock(&mu_);
  s.clients = clients_.size();
  return s;
}

ClientLimiter::Stream::~Stream() { limiter_->Release(client_); }

absl::Duration ClientLimiter::Stream::Reserve(uint64_t bytes) {
  absl::Duration wait = absl::ZeroDuration();
  if (bucket_ != nullptr) wait = bucket_->Take(bytes);
  if (limiter_->server_bucket_ != nullptr) {
    wait = std::max(wait, limiter_->server_bucket_->Take(bytes));
  }
  if (wait > absl::ZeroDuration()) {
    limiter_->paced_writes_.fetch_add(1, std::memory_order_relaxed);
    limiter_->paced_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    limiter_->pacing_wait_ns_.fetch_add(absl::ToInt64Nanoseconds(wait),
                                        std::memory_order_relaxed);
  }
  return wait;
}

}  // namespace weightserver::server
