#!/usr/bin/env bash
# Issues the config-channel certificates for a keel install that does not let Helm make
# them (the plain manifests in deploy/, or configChannel.tls.mode=existingSecret): a fresh
# CA, the controller's server certificate (for the controller Service's DNS names) and the
# dataplanes' client certificate. Prints the two Secrets as YAML:
#   scripts/keel-certgen.sh [--namespace keel] [--release keel] [--days 365] | kubectl apply -f -
# Renewal: run it again, apply, then `kubectl -n keel rollout restart deploy/keel-controller
# deploy/keel-dataplane` (the CA is new each time and its key is thrown away, like the chart's).
# --out DIR also keeps the PEM files there (the tests use it).
set -euo pipefail
ns=keel release=keel days=365 out=""
while [ $# -gt 0 ]; do
  case $1 in
    --namespace) ns=$2; shift 2 ;;
    --release) release=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "keel-certgen: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "keel-certgen: openssl is required" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
svc="$release-controller"
host="$svc.$ns.svc"

# ECDSA P-256 keys (openssl req -newkey ec) sign fast and are what both TLS stacks prefer.
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days "$days" \
  -subj "/CN=$release-config-ca" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
issue() {  # name cn eku [san]
  local ext="$dir/$1.ext"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$3" > "$ext"
  if [ -n "${4:-}" ]; then echo "subjectAltName=$4" >> "$ext"; fi
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj "/CN=$2" \
    -keyout "$dir/$1.key" -out "$dir/$1.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -extfile "$ext" -out "$dir/$1.crt" 2>/dev/null
}
issue server "$host" serverAuth "DNS:$svc,DNS:$svc.$ns,DNS:$host,DNS:$host.cluster.local"
issue client "$release-dataplane" clientAuth

secret() {  # name component leaf
  cat <<YAML
---
apiVersion: v1
kind: Secret
metadata:
  name: $1
  namespace: $ns
  labels:
    app.kubernetes.io/name: keel
    app.kubernetes.io/instance: $release
    app.kubernetes.io/component: $2
  annotations:
    keel.dev/not-after: "$(date -u -d "+$days days" +%Y-%m-%dT%H:%M:%SZ)"
type: Opaque
data:
  ca.crt: $(base64 -w0 < "$dir/ca.crt")
  tls.crt: $(base64 -w0 < "$dir/$3.crt")
  tls.key: $(base64 -w0 < "$dir/$3.key")
YAML
}
secret "$release-controller-config-tls" controller server
secret "$release-dataplane-config-tls" dataplane client
if [ -n "$out" ]; then
  mkdir -p "$out"
  cp "$dir"/{ca.crt,server.crt,server.key,client.crt,client.key} "$out/"
fi
