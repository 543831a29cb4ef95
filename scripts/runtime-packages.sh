#!/usr/bin/env bash
# Prints the Debian packages that own the shared libraries the given binaries load (per
# ldd, so the android BoringSSL found through the RPATH is included). The Dockerfile's
# runtime stage installs exactly these, nothing from the build toolchain.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
missing=$(ldd "$@" | grep 'not found' || true)
if [ -n "$missing" ]; then
  echo "runtime-packages: unresolved libraries:" >&2
  echo "$missing" >&2
  exit 1
fi
libs=$(ldd "$@" | awk '/=> \// {print $3}' | sort -u)
# Debian 12 is merged-/usr: ldd may say /lib/... for a file dpkg records under /usr/lib or
# the other way round, so ask for both spellings in one dpkg call (each call reads the
# whole database).
queries=()
for lib in $libs; do
  case $lib in
    /usr/*) queries+=("$lib" "${lib#/usr}") ;;
    *) queries+=("$lib" "/usr$lib") ;;
  esac
done
owners=$(dpkg -S "${queries[@]}" 2>/dev/null || true)
status=0
for lib in $libs; do
  short=${lib#/usr}
  if ! sed 's/^[^:]*:[^/]*//' <<<"$owners" | grep -qxF -e "$short" -e "/usr$short"; then
    echo "runtime-packages: no package owns $lib" >&2
    status=1
  fi
done
[ $status -eq 0 ] || exit 1
sed -E 's/^([^:]+)(:[a-z0-9]+)?: .*/\1/' <<<"$owners" | sort -u
