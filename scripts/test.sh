#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the `ci` preset (RelWithDebInfo, -Werror): unit, integration and e2e tests;
#   2. the `asan-ubsan` preset: the same tests under AddressSanitizer + UBSan;
#   3. the fuzz targets for a bounded time (KEEL_FUZZ_SECONDS, default 30 per target).
# KEEL_SKIP_ASAN=1 / KEEL_SKIP_FUZZ=1 skip stages 2 / 3 (local iteration only; CI runs all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
export PATH="$root/.cache/tools/bin:$PATH"
export CCACHE_DIR="${CCACHE_DIR:-$root/.cache/ccache}"
jobs=$(nproc)

summary=()
fail=0
run_preset() {
  local preset=$1
  echo "=== [$preset] configure + build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== [$preset] test"
  local log="build/$preset/ctest.log"
  if ctest --preset "$preset" -j "$jobs" --timeout 300 2>&1 | tee "$log"; then
    summary+=("[$preset] $(grep -E 'tests passed' "$log" | tail -1)")
  else
    summary+=("[$preset] FAILED: $(grep -E 'tests passed' "$log" | tail -1)")
    fail=1
  fi
}

run_preset ci
if [ "${KEEL_SKIP_ASAN:-0}" != 1 ]; then run_preset asan-ubsan; fi

if [ "${KEEL_SKIP_FUZZ:-0}" != 1 ] && [ -x tests/fuzz/run.sh ]; then
  echo "=== [fuzz] ${KEEL_FUZZ_SECONDS:-30}s per target"
  if bash tests/fuzz/run.sh "${KEEL_FUZZ_SECONDS:-30}"; then
    summary+=("[fuzz] no crash")
  else
    summary+=("[fuzz] FAILED")
    fail=1
  fi
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $fail
