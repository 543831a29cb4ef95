#!/usr/bin/env bash
# Builds the Dockerfile's runtime stage around binaries already built on this (Debian 12)
# machine, skipping the in-image compile (minutes on 2 cores):
#   scripts/image-from-build.sh [BUILD_DIR=build/ci] [TAG=localhost/keel:dev]
# The runtime stage is taken verbatim from the Dockerfile (everything after its second
# FROM), so this checks that stage too. Needs buildah (Debian package) and the base image.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
tag=${2:-localhost/keel:dev}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

# Installed copies: CMake rewrites the RPATH to the android BoringSSL folder only.
cmake --install "$build" --prefix "$ctx/inst" --strip >/dev/null
"$root/scripts/runtime-packages.sh" "$ctx/inst/bin/keel-controller" "$ctx/inst/bin/keel-dataplane" \
  > "$ctx/keel-runtime-packages.txt"
{
  echo "FROM docker.io/library/debian:bookworm-slim AS build"
  echo "COPY keel-runtime-packages.txt /usr/local/share/"
  echo "COPY inst/bin/keel-controller inst/bin/keel-dataplane /usr/local/bin/"
  awk '/^FROM /{n++} n>=2' "$root/Dockerfile"
} > "$ctx/Containerfile"
buildah bud --pull-never --isolation chroot -f "$ctx/Containerfile" -t "$tag" "$ctx"
