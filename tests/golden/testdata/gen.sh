#!/usr/bin/env bash
# How the test certificates were made: ONCE, with the openssl CLI, then committed. The
# golden inputs inline these PEMs (Secret stringData/data), so re-running this changes
# every want.json that quotes them; do it only on purpose (then KEEL_UPDATE_GOLDEN=1).
#   ec.{crt,key}       EC P-256, SANs secure.example.test, *.wild.example.test
#   rsa.{crt,key}      RSA 2048, SANs rsa.example.test, www.rsa.example.test
#   default.{crt,key}  EC P-256, SAN default.keel.test (the default certificate)
#   mismatch.key       an EC P-256 key that matches none of the certificates
#   corrupt.crt        ec.crt with four characters of its base64 body replaced by '!'
set -euo pipefail
cd "$(dirname "$0")"
gen() {  # name ec|rsa san...
  local name=$1 algo=$2; shift 2
  local sans; sans=$(printf 'DNS:%s,' "$@"); sans=${sans%,}
  if [ "$algo" = ec ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key"
  else
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key"
  fi
  openssl req -x509 -key "$name.key" -out "$name.crt" -days 36500 -subj "/CN=$1" -addext "subjectAltName=$sans"
}
gen ec ec secure.example.test '*.wild.example.test'
gen rsa rsa rsa.example.test www.rsa.example.test
gen default ec default.keel.test
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out mismatch.key
sed '4s/^\(.\{10\}\)..../\1!!!!/' ec.crt > corrupt.crt
