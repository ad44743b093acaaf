// Copyright 2026 The Weightserver Authors.
//
// server/auth_policy.cc
#include "server/auth_policy.h"

#include <fnmatch.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "util/log.h"
#include "util/small_file.h"
#include "util/status_macros.h"

namespace weightserver::server {
namespace {

using nlohmann::json;

bool Glob(const std::string& pattern, absl::string_view text) {
  return fnmatch(pattern.c_str(), std::string(text).c_str(), 0) == 0;
}

absl::StatusOr<std::vector<std::string>> Strings(const json& j,
                                                 const char* field,
                                                 const std::string& where) {
  std::vector<std::string> out;
  if (!j.contains(field)) return out;
  const json& v = j.at(field);
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"", field, "\" must be a string or a list"));
  }
  for (const json& s : v) {
    if (!s.is_string() || s.get<std::string>().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": \"", field, "\" must hold non-empty strings"));
    }
    out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

std::string Sha256Hex(absl::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

absl::StatusOr<AuthPolicy> AuthPolicy::Parse(absl::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  if (!j.contains("identities") || !j.at("identities").is_array()) {
    return absl::InvalidArgumentError("\"identities\" must be a list");
  }
  AuthPolicy policy;
  std::set<std::string> names, digests;
  for (const json& e : j.at("identities")) {
    const std::string where =
        absl::StrCat("identity ", policy.identities_.size());
    if (!e.is_object() || !e.contains("name") || !e.at("name").is_string() ||
        e.at("name").get<std::string>().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": needs a \"name\" (a non-empty string)"));
    }
    Identity id;
    id.name = e.at("name").get<std::string>();
    const std::string named = absl::StrCat("identity '", id.name, "'");
    if (!names.insert(id.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(named, ": name used twice"));
    }
    ASSIGN_OR_RETURN(id.token_sha256, Strings(e, "token_sha256", named));
    ASSIGN_OR_RETURN(id.mtls, Strings(e, "mtls", named));
    ASSIGN_OR_RETURN(id.models, Strings(e, "models", named));
    for (std::string& d : id.token_sha256) {
      d = absl::AsciiStrToLower(d);
      if (d.size() != 64 ||
          d.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            named, ": a token_sha256 must be 64 hex digits (sha256sum of "
            "the token)"));
      }
      if (!digests.insert(d).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(named, ": a token digest used twice"));
      }
    }
    if (id.token_sha256.empty() && id.mtls.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(named, ": needs \"token_sha256\" or \"mtls\""));
    }
    for (const auto& [field, _] : e.items()) {
      if (field != "name" && field != "token_sha256" && field != "mtls" &&
          field != "models") {
        return absl::InvalidArgumentError(
            absl::StrCat(named, ": unknown field \"", field, "\""));
      }
    }
    policy.identities_.push_back(std::move(id));
  }
  return policy;
}

absl::StatusOr<std::string> AuthPolicy::Authenticate(
    absl::string_view bearer_token,
    const std::vector<std::string>& peer_names) const {
  if (!bearer_token.empty()) {
    const std::string digest = Sha256Hex(bearer_token);
    for (const Identity& id : identities_) {
      for (const std::string& d : id.token_sha256) {
        if (d == digest) return id.name;
      }
    }
    return absl::UnauthenticatedError("unknown bearer token");
  }
  for (const Identity& id : identities_) {
    for (const std::string& pattern : id.mtls) {
      for (const std::string& peer : peer_names) {
        if (Glob(pattern, peer)) return id.name;
      }
    }
  }
  if (!peer_names.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "no identity of the policy for client certificate '",
        peer_names.front().substr(0, 256), "'"));
  }
  return absl::UnauthenticatedError(
      "no credentials: send 'authorization: Bearer TOKEN' (weightctl "
      "--token, $WEIGHTSERVER_TOKEN) or a client certificate");
}

bool AuthPolicy::MayRead(absl::string_view name, absl::string_view model) const {
  for (const Identity& id : identities_) {
    if (id.name != name) continue;
    for (const std::string& pattern : id.models) {
      if (Glob(pattern, model)) return true;
    }
  }
  return false;
}

namespace {
// What changes when the file (or the symlink's target) is replaced.
std::string Stamp(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_dev, ":", st.st_ino, ":", st.st_size, ":",
                      st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":",
                      st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
}

absl::StatusOr<std::shared_ptr<const AuthPolicy>> Read(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, 16 << 20));
  absl::StatusOr<AuthPolicy> p = AuthPolicy::Parse(text);
  if (!p.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", p.status().message()));
  }
  return std::make_shared<const AuthPolicy>(*std::move(p));
}
}  // namespace

AuthPolicyWatcher::AuthPolicyWatcher(std::string path, absl::Duration interval)
    : path_(std::move(path)), interval_(interval) {}

absl::StatusOr<std::unique_ptr<AuthPolicyWatcher>> AuthPolicyWatcher::Start(
    std::string path, absl::Duration interval) {
  std::unique_ptr<AuthPolicyWatcher> w(
      new AuthPolicyWatcher(std::move(path), interval));
  const std::string stamp = Stamp(w->path_);
  ASSIGN_OR_RETURN(std::shared_ptr<const AuthPolicy> policy, Read(w->path_));
  {
    MutexLock lock(&w->mu_);
    w->policy_ = std::move(policy);
    w->stamp_ = stamp;
  }
  w->thread_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

AuthPolicyWatcher::~AuthPolicyWatcher() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const AuthPolicy> AuthPolicyWatcher::Current() const {
  MutexLock lock(&mu_);
  return policy_;
}

uint64_t AuthPolicyWatcher::reloads() const {
  MutexLock lock(&mu_);
  return reloads_;
}

void AuthPolicyWatcher::Loop() {
  mu_.Lock();
  while (!stopping_) {
    cv_.WaitWithTimeout(&mu_, interval_);
    if (stopping_) break;
    mu_.Unlock();
    MaybeReload();
    mu_.Lock();
  }
  mu_.Unlock();
}

void AuthPolicyWatcher::MaybeReload() {
  const std::string stamp = Stamp(path_);
  {
    MutexLock lock(&mu_);
    if (stamp == stamp_) return;
    stamp_ = stamp;  // Tried once per change.
  }
  absl::StatusOr<std::shared_ptr<const AuthPolicy>> policy = Read(path_);
  if (!policy.ok()) {
    LOG(WARNING) << "--auth_file not reloaded, the previous policy stays: "
                 << policy.status().message();
    return;
  }
  MutexLock lock(&mu_);
  policy_ = *std::move(policy);
  ++reloads_;
  LOG(INFO) << "--auth_file reloaded: " << policy_->identities().size()
            << " identities";
}

}  // namespace weightserver::server
