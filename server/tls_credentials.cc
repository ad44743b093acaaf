// Copyright 2026 The Weightserver Authors.
//
// server/tls_credentials.cc
#include "server/tls_credentials.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "util/small_file.h"
#include "util/status_macros.h"

namespace weightserver::server {
namespace {

constexpr uint64_t kMaxPemBytes = 1 << 20;

// The first certificate of `pem` (owned by the caller), or nullptr.
X509* FirstCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

EVP_PKEY* PrivateKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

absl::Status CheckCertificates(const std::string& path, const std::string& pem) {
  X509* cert = FirstCertificate(pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no PEM certificate in the file"));
  }
  X509_free(cert);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options) {
  if (!options.enabled()) {
    if (!options.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca needs --tls_cert and --tls_key (mutual TLS is TLS)");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls_cert and --tls_key");
  }
  ASSIGN_OR_RETURN(std::string cert_pem,
                   ReadSmallFile(options.cert_file, kMaxPemBytes));
  ASSIGN_OR_RETURN(std::string key_pem,
                   ReadSmallFile(options.key_file, kMaxPemBytes));
  X509* cert = FirstCertificate(cert_pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.cert_file, ": no PEM certificate in the file"));
  }
  EVP_PKEY* key = PrivateKey(key_pem);
  if (key == nullptr) {
    X509_free(cert);
    return absl::InvalidArgumentError(
        absl::StrCat(options.key_file, ": no PEM private key in the file"));
  }
  const bool match = X509_check_private_key(cert, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!match) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.key_file, ": not the private key of ", options.cert_file));
  }
  if (!options.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(std::string ca_pem,
                     ReadSmallFile(options.client_ca_file, kMaxPemBytes));
    RETURN_IF_ERROR(CheckCertificates(options.client_ca_file, ca_pem));
  }

  const unsigned int interval = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.reload_interval)));
  auto provider =
      options.client_ca_file.empty()
          ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                options.key_file, options.cert_file, interval)
          : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                options.key_file, options.cert_file, options.client_ca_file,
                interval);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (!options.client_ca_file.empty()) {
    tls.watch_root_certs();
    tls.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace weightserver::server
