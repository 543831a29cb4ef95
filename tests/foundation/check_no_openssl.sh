#!/usr/bin/env bash
# BoringSSL and OpenSSL in one process crash (see README, "Two TLS libraries").
# Default: fail if BINARY loads OpenSSL 3 (libssl.so.3 / libcrypto.so.3); every
# --require PATTERN must match a loaded library (so the check cannot pass vacuously).
# --inverse: fail if BINARY loads the android BoringSSL.
set -euo pipefail
inverse=0
required=()
while [ $# -gt 1 ]; do
  case $1 in
    --inverse) inverse=1; shift ;;
    --require) required+=("$2"); shift 2 ;;
    *) break ;;
  esac
done
bin=$1
libs=$(ldd "$bin")
echo "$libs"
if [ $inverse = 0 ]; then
  if grep -Eq 'lib(ssl|crypto)\.so\.3' <<<"$libs"; then
    echo "FAIL: $bin loads OpenSSL 3"; exit 1
  fi
else
  if grep -Eq 'android/lib(ssl|crypto)\.so' <<<"$libs"; then
    echo "FAIL: $bin loads BoringSSL"; exit 1
  fi
fi
for r in "${required[@]}"; do
  if ! grep -Eq "$r" <<<"$libs"; then echo "FAIL: $bin does not load $r"; exit 1; fi
done
echo "OK"
