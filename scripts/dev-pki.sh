#!/usr/bin/env bash
# scripts/dev-pki.sh: a throw-away CA, a server certificate, a client
# certificate, a bearer token and an access policy that admits both, for
# tests, benchmarks and a first deployment (README "Security"). Not a CA to
# run production on: its key sits next to the certificates it signed.
#
#   scripts/dev-pki.sh DIR [SERVER_NAME...]
#
# Writes, in DIR (created; files already there are replaced):
#   ca.crt, ca.key          the CA (ECDSA P-256, 30 days)
#   tls.crt, tls.key        the server's certificate: DNS:localhost,
#                           IP:127.0.0.1 and DNS:NAME for each SERVER_NAME;
#                           extendedKeyUsage serverAuth AND clientAuth, so a
#                           probe in the pod may present it under mutual TLS
#   client.crt, client.key  a client certificate, URI SAN
#                           spiffe://weightserver.dev/client (clientAuth)
#   token                   a random bearer token (64 hex digits, no newline)
#   policy.json             an --auth_file: that token, and the client
#                           certificate, may read every model
# The names are Kubernetes' (a kubernetes.io/tls Secret plus cert-manager's
# ca.crt), so the directory can become the Secrets as it is:
#   kubectl create secret generic weightserver-tls \
#     --from-file=DIR/tls.crt --from-file=DIR/tls.key --from-file=DIR/ca.crt
#   kubectl create secret generic weightserver-auth --from-file=DIR/policy.json
# Keys are written 0600 (chmod them for the daemon's user: the image runs
# as uid 10001). Needs openssl and sha256sum.
set -euo pipefail
if [ $# -lt 1 ] || [ "${1:0:1}" = "-" ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
DIR="$1"
shift
SAN="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do SAN="$SAN,DNS:$name"; done
mkdir -p "$DIR"
cd "$DIR"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
# leaf NAME CN SAN EKU: a certificate signed by ca.crt, valid 30 days.
leaf() {
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' \
    "$3" "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 30 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

key ca
openssl req -x509 -new -key ca.key -out ca.crt -days 30 -subj /CN=weightserver-dev-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf tls "${1:-localhost}" "$SAN" serverAuth,clientAuth
leaf client client "URI:spiffe://weightserver.dev/client" clientAuth
rm -f ca.srl

openssl rand -hex 32 | tr -d '\n' >token
DIGEST=$(sha256sum <token | cut -d' ' -f1)
cat >policy.json <<EOF
{"identities": [
  {"name": "dev-token", "token_sha256": ["$DIGEST"], "models": ["*"]},
  {"name": "dev-client", "mtls": ["spiffe://weightserver.dev/client"], "models": ["*"]}
]}
EOF
chmod 0644 ca.crt tls.crt client.crt policy.json
echo "dev-pki: $PWD: ca.crt tls.crt/tls.key ($SAN) client.crt/client.key token policy.json"
