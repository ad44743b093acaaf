// Copyright 2026 The Weightserver Authors.
//
// client/credentials.cc
#include "client/credentials.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "util/small_file.h"
#include "util/status_macros.h"

namespace weightserver::client {
namespace {

// The contents of a PEM file (a certificate bundle or a key).
absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view what) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, 1 << 20));
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no PEM ", what, " in the file"));
  }
  return pem;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientOptions& options) {
  const bool any_file = !options.tls_ca_file.empty() ||
                        !options.tls_cert_file.empty() ||
                        !options.tls_key_file.empty() ||
                        !options.tls_server_name.empty();
  if (!options.tls) {
    if (any_file) {
      return absl::InvalidArgumentError(
          "TLS files or a TLS server name given without TLS (set tls / "
          "--tls)");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs both its certificate and its key "
        "(tls_cert_file, tls_key_file)");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPem(options.tls_ca_file, "certificate"));
  }
  if (!options.tls_cert_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                     ReadPem(options.tls_cert_file, "certificate"));
    ASSIGN_OR_RETURN(ssl.pem_private_key,
                     ReadPem(options.tls_key_file, "private key"));
  }
  return grpc::SslCredentials(ssl);
}

absl::Status CheckTokenTransport(const ClientOptions& options,
                                 const std::string& target) {
  if (options.token.empty()) return absl::OkStatus();
  for (char c : options.token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "the token holds a space or a character outside printable ASCII");
    }
  }
  if (options.tls || options.allow_insecure_token) return absl::OkStatus();
  absl::string_view host = target;
  for (absl::string_view scheme : {"dns:///", "ipv4:", "ipv6:"}) {
    if (absl::StartsWith(host, scheme)) host.remove_prefix(scheme.size());
  }
  const bool local = absl::StartsWith(target, "unix:") ||
                     absl::StartsWith(host, "127.") ||
                     absl::StartsWith(host, "localhost:") ||
                     absl::StartsWith(host, "[::1]:");
  if (local && host.find(',') == absl::string_view::npos) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "refusing to send a token in clear text to ", target,
      ": use TLS (--tls-ca), or allow it explicitly (--allow-insecure-token)"));
}

void AddCredentials(const std::string& token, grpc::ClientContext* context) {
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
}

}  // namespace weightserver::client
