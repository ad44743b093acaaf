// Copyright 2026 The Weightserver Authors.
//
// tests/testing/test_pki.h: certificates for TLS tests, made at test time
// with the openssl command line (real X.509, ECDSA P-256).
//
// MakeTestPki(dir) writes, each as NAME.pem (certificate) + NAME.key:
//   ca            a CA; other_ca: a second, unrelated one;
//   server        signed by ca, for DNS:localhost and IP:127.0.0.1;
//   server_other  the same names, signed by other_ca (a rotation's target);
//   expired       like server, but expired a day ago;
//   client        signed by ca: URI:spiffe://weightserver.test/client,
//                 CN=client (a mutual-TLS identity);
//   client_other  signed by other_ca.
//
// Example:
//   TempDir dir;
//   ASSERT_OK(MakeTestPki(dir.path()));
//   options.tls = {.cert_file = dir.path() + "/server.pem", ...};
//
// Thread-safety: one call per directory at a time.
#ifndef WEIGHTSERVER_TESTS_TESTING_TEST_PKI_H_
#define WEIGHTSERVER_TESTS_TESTING_TEST_PKI_H_

#include <string>

#include "absl/status/status.h"

namespace weightserver::testing {

// Errors: Internal when openssl is missing or fails (its output in the
// message).
absl::Status MakeTestPki(const std::string& dir);

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_TEST_PKI_H_
