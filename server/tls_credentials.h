// Copyright 2026 The Weightserver Authors.
//
// server/tls_credentials.h: the daemon's listening credentials: plaintext,
// TLS, or mutual TLS, with the certificate reloaded from disk.
//
// With a certificate and key, the server speaks TLS only. gRPC's
// FileWatcherCertificateProvider re-reads the files every reload_interval,
// so a rotated certificate (Kubernetes swaps a Secret's symlinked directory)
// is used for new connections without a restart; connections already open
// keep theirs, and their streams finish. With a client CA as well, every
// client must present a certificate that CA signed (mutual TLS).
//
// Example:
//   TlsOptions tls{.cert_file = "tls.crt", .key_file = "tls.key"};
//   ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(tls));
//   builder.AddListeningPort(address, creds, &port);
//
// Thread-safety: MakeServerCredentials may be called from any thread.
#ifndef WEIGHTSERVER_SERVER_TLS_CREDENTIALS_H_
#define WEIGHTSERVER_SERVER_TLS_CREDENTIALS_H_

#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weightserver::server {

struct TlsOptions {
  std::string cert_file;  // PEM certificate chain; empty: plaintext.
  std::string key_file;   // PEM private key of its first certificate.
  // PEM CA bundle: clients must present a certificate it signed.
  std::string client_ca_file;
  // How often the files are re-read (rotation); at least 1 s.
  absl::Duration reload_interval = absl::Seconds(10);

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// Credentials for `options`: insecure ones when TLS is not enabled. The
// files are read and checked now (the reloads later are gRPC's: a file that
// turns bad keeps the last good certificate in use, logged by gRPC).
// Errors: InvalidArgument when only one of cert_file / key_file is given,
// a client CA without them, a file that holds no PEM certificate (or key),
// or a key that does not match the certificate; NotFound (or the errno's
// code) for a file that cannot be read. Messages name the file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_TLS_CREDENTIALS_H_
