#!/usr/bin/env bash
# Installs what is missing, builds, and runs the local demo: three echo backends, the
# controller reading examples/demo/*.yaml (manifests mode, no cluster needed) and one
# dataplane on 127.0.0.1:8080. Ctrl-C stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$root/.cache/ccache}"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target keel-controller keel-dataplane

run=$(mktemp -d /tmp/keel-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; logs were in $run"
}
trap cleanup EXIT INT TERM

# Backends on fixed loopback ports, matching examples/demo/services.yaml.
for i in 0 1 2; do
  python3 e2e/backends/echo.py --port $((9100 + i)) --name "echo-$i" >/dev/null 2>"$run/echo-$i.log" &
  pids+=($!)
done
python3 e2e/backends/echo.py --port 9110 --name "api-0" >/dev/null 2>"$run/api-0.log" &
pids+=($!)

build/release/controller/keel-controller --manifests examples/demo --config-listen 127.0.0.1:18000 \
  --insecure-config-channel 2>"$run/controller.log" &
pids+=($!)
build/release/dataplane/keel-dataplane --controller 127.0.0.1:18000 --insecure-config-channel \
  --http-listen 127.0.0.1:8080 --https-listen 127.0.0.1:8443 --admin-listen 127.0.0.1:9901 \
  2>"$run/dataplane.log" &
pids+=($!)

for _ in $(seq 1 50); do
  if curl -fs http://127.0.0.1:9901/readyz >/dev/null; then break; fi
  sleep 0.2
done
curl -fs http://127.0.0.1:9901/readyz >/dev/null || { echo "dataplane did not become ready; see $run"; exit 1; }

cat <<MSG

keel demo is running (logs in $run):
  curl -H 'Host: demo.example.test' http://127.0.0.1:8080/          # balanced over echo-0..2
  curl -H 'Host: demo.example.test' http://127.0.0.1:8080/api/users # the api service
  curl -H 'Host: nope.example.test' http://127.0.0.1:8080/          # 404: no such host
  curl -k --resolve demo.example.test:8443:127.0.0.1 https://demo.example.test:8443/  # TLS, h2 by ALPN
  curl http://127.0.0.1:9901/config_dump                             # the applied snapshot
Edit examples/demo/*.yaml and the change is live within a second. Ctrl-C to stop.

MSG
for _ in 1 2 3; do curl -s -H 'Host: demo.example.test' http://127.0.0.1:8080/ | head -c 200; echo; done
if [ -t 0 ] && [ -z "${KEEL_DEMO_NO_WAIT:-}" ]; then
  wait
fi
