// Copyright 2026 The Weightserver Authors.
//
// server/auth_policy.h: who may read which models (--auth_file).
//
// The policy is a JSON file (README "Security"):
//
//   {"identities": [
//     {"name": "trainer",
//      "token_sha256": ["<64 hex digits>", ...],   // bearer tokens' digests
//      "models": ["llama-3-*", "org/*"]},
//     {"name": "inference",
//      "mtls": ["spiffe://cluster/ns/inference/*", "worker.internal"],
//      "models": ["*"]}]}
//
// A caller is identified by its bearer token (`authorization: Bearer T`,
// matched by SHA-256, so the file holds no secret) or, failing that, by its
// mutual-TLS certificate (any URI or DNS subject alternative name, or the
// common name, matched against "mtls" globs). "models" are fnmatch globs
// over model names ("*" matches "/" too). A caller with no identity gets
// UNAUTHENTICATED; a model it may not read is NOT_FOUND, like one that does
// not exist (existence does not leak) and is absent from its ListModels.
//
// AuthPolicyWatcher re-reads the file when its mtime, size or inode change
// (checked every interval); a file that turns invalid keeps the last good
// policy in force, logged.
//
// Example:
//   ASSIGN_OR_RETURN(AuthPolicy p, AuthPolicy::Parse(json_text));
//   absl::StatusOr<std::string> who = p.Authenticate(token, peer_names);
//   if (who.ok() && p.MayRead(*who, "llama-3-8b")) { ... }
//
// Thread-safety: AuthPolicy is immutable; AuthPolicyWatcher::Current may be
// called from any thread.
#ifndef WEIGHTSERVER_SERVER_AUTH_POLICY_H_
#define WEIGHTSERVER_SERVER_AUTH_POLICY_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace weightserver::server {

class AuthPolicy {
 public:
  struct Identity {
    std::string name;
    std::vector<std::string> token_sha256;  // Lowercase hex.
    std::vector<std::string> mtls;          // Globs.
    std::vector<std::string> models;        // Globs.
  };

  // Errors: InvalidArgument naming what is wrong (not JSON, a missing or
  // mistyped field, a digest that is not 64 hex digits, an identity with
  // neither tokens nor mtls, a token digest or name used twice).
  static absl::StatusOr<AuthPolicy> Parse(absl::string_view json);

  // The name of the identity of a caller that sent `bearer_token` (empty:
  // none) over a connection whose client certificate names `peer_names`.
  // Errors: Unauthenticated ("no credentials", "unknown token", "no
  // identity for certificate ...").
  absl::StatusOr<std::string> Authenticate(
      absl::string_view bearer_token,
      const std::vector<std::string>& peer_names) const;

  // Whether identity `name` may read model `model`.
  bool MayRead(absl::string_view name, absl::string_view model) const;

  const std::vector<Identity>& identities() const { return identities_; }

 private:
  std::vector<Identity> identities_;
};

// Lowercase hex SHA-256 of `text`.
std::string Sha256Hex(absl::string_view text);

class AuthPolicyWatcher {
 public:
  // Reads `path` now. Errors: ReadSmallFile's, Parse's (naming the file).
  static absl::StatusOr<std::unique_ptr<AuthPolicyWatcher>> Start(
      std::string path, absl::Duration interval = absl::Seconds(2));
  AuthPolicyWatcher(const AuthPolicyWatcher&) = delete;
  AuthPolicyWatcher& operator=(const AuthPolicyWatcher&) = delete;
  ~AuthPolicyWatcher();  // Stops and joins the thread.

  std::shared_ptr<const AuthPolicy> Current() const;
  // Successful reloads since the start.
  uint64_t reloads() const;

 private:
  AuthPolicyWatcher(std::string path, absl::Duration interval);
  void Loop();
  // Re-reads the file if it changed; keeps the old policy on errors.
  void MaybeReload();

  const std::string path_;
  const absl::Duration interval_;
  mutable Mutex mu_;
  CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const AuthPolicy> policy_ ABSL_GUARDED_BY(mu_);
  std::string stamp_ ABSL_GUARDED_BY(mu_);  // Identity of the file read.
  uint64_t reloads_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_AUTH_POLICY_H_
