#!/usr/bin/env bash
# keel side by side with nginx, haproxy and varnish (issue 10), one command:
#   bench/run.sh            full run (10 s x 5 repetitions, 10k Ingresses), report in bench/results/
#   bench/run.sh --smoke    CI shape: a few seconds per system, proves the harness end to end
# Installs what is missing (scripts/install-deps.sh: nginx, haproxy, varnish, wrk, h2load,
# perf; their system services are left stopped), builds the release preset of keel unless
# --build DIR is given, then runs bench/harness (Python, stdlib only). Other flags:
# --seconds, --reps, --scenarios 1,2,3,4,5,6,7,8, --systems, --ingresses, --changes, --out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${KEEL_BENCH_NO_INSTALL:-0}" != 1 ]; then
  bash "$root/scripts/install-deps.sh"
fi

if [[ " $* " != *" --build "* ]]; then
  if [ -f /work/wt/ccache.env ]; then . /work/wt/ccache.env; fi
  (cd "$root" && cmake --preset release >/dev/null &&
     cmake --build --preset release -j "$(nproc)" --target keel-dataplane keel-controller keel-e2e-grpc)
  set -- --build "$root/build/release" "$@"
fi

cd "$root/bench"
exec python3 -m harness.main "$@"
