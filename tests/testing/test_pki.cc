// Copyright 2026 The Weightserver Authors.
//
// tests/testing/test_pki.cc
#include "tests/testing/test_pki.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace weightserver::testing {

absl::Status MakeTestPki(const std::string& dir) {
  // A bash script: each step's failure stops it (its output is kept).
  const std::string script = absl::StrCat(R"(set -euo pipefail
cd ')", dir, R"('
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {  # NAME CA DAYS SAN CN
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$5"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
    -out "$1.pem" -days "$3" -extfile "$1.ext"
  rm "$1.csr" "$1.ext"
}
ca ca
ca other_ca
leaf server ca 30 DNS:localhost,IP:127.0.0.1 localhost
leaf server_other other_ca 30 DNS:localhost,IP:127.0.0.1 localhost
leaf expired ca -1 DNS:localhost,IP:127.0.0.1 localhost
leaf client ca 30 URI:spiffe://weightserver.test/client client
leaf client_other other_ca 30 URI:spiffe://weightserver.test/other other
)");
  const std::string script_path = dir + "/make_pki.sh";
  const std::string log_path = dir + "/make_pki.log";
  std::ofstream(script_path) << script;
  const int rc = std::system(
      absl::StrCat("bash '", script_path, "' >'", log_path, "' 2>&1").c_str());
  if (rc != 0) {
    std::ifstream log(log_path);
    std::stringstream text;
    text << log.rdbuf();
    return absl::InternalError(
        absl::StrCat("making the test certificates failed: ", text.str()));
  }
  return absl::OkStatus();
}

}  // namespace weightserver::testing
