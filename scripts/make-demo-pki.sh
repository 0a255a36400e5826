#!/usr/bin/env bash
# make-demo-pki.sh DIR AGENT_ID: a throwaway CA, a server certificate for localhost/127.0.0.1 and a
# client certificate whose name is AGENT_ID, valid for two days, keys 0600. For demos and
# benchmarks only: production certificates come from the SOC's own PKI.
set -euo pipefail
dir=${1:?usage: make-demo-pki.sh DIR AGENT_ID}
agent=${2:?usage: make-demo-pki.sh DIR AGENT_ID}
mkdir -p "$dir"; chmod 700 "$dir"; cd "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout ca.key -out ca.pem -subj "/CN=Assas throwaway CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() {  # name, common name, extended key usage, subjectAltName
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=$2" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$3" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
leaf ingest localhost serverAuth "DNS:localhost,IP:127.0.0.1"
leaf agent "$agent" clientAuth "DNS:$agent"
chmod 600 ./*.key
chmod 644 ca.pem ingest.pem agent.pem
