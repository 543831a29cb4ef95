#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60) on a
# scratch copy of its committed corpus. Exits non-zero if a target finds a crash; the
# reproducer is copied to tests/fuzz/crashes/<area>/ so that http1_test / cache_test
# replay it. The cache targets (small parsers, ~1e5 runs/s) get CACHE_SECONDS each,
# default min(SECONDS, 5), to keep CI's fuzz stage short.
#
#   tests/fuzz/run.sh [SECONDS]
#   env: BUILD_DIR (default build/fuzz), JOBS (2), KEEP_CORPUS=1 keeps the grown corpus,
#        CACHE_SECONDS
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/fuzz}
jobs=${JOBS:-2}
cache_seconds=${CACHE_SECONDS:-$((seconds < 5 ? seconds : 5))}

# The fuzz preset turns BUILD_TESTING off; the root CMakeLists then adds tests/fuzz by
# itself. Until it does, configuring with testing on reaches it through tests/.
testing=OFF
grep -q 'add_subdirectory(tests/fuzz)' "$root/CMakeLists.txt" || testing=ON
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DKEEL_FUZZ=ON -DKEEL_BENCH=OFF -DBUILD_TESTING=$testing >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz_http1_request fuzz_http1_response \
  fuzz_cache_fields fuzz_cache_policy

status=0
# target:corpus:crash folder:seconds
for spec in fuzz_http1_request:http1:http1:$seconds fuzz_http1_response:http1_response:http1:$seconds \
    fuzz_cache_fields:cache_fields:cache:$cache_seconds fuzz_cache_policy:cache_policy:cache:$cache_seconds; do
  IFS=: read -r target corpus crashes secs <<<"$spec"
  work=$(mktemp -d)
  cp "$root/tests/fuzz/corpus/$corpus"/* "$work/"
  artifacts=$(mktemp -d)
  echo "== $target for ${secs}s"
  # Cache targets: undefined behaviour (e.g. signed overflow) is a crash, not a warning.
  ubsan=${UBSAN_OPTIONS:-}
  [ "$crashes" = cache ] && ubsan=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
  if ! UBSAN_OPTIONS=$ubsan "$build/tests/fuzz/$target" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$work" 2>"$artifacts/log"; then
    status=1
    tail -40 "$artifacts/log"
    for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -e "$f" ] && cp "$f" "$root/tests/fuzz/crashes/$crashes/" && echo "saved $(basename "$f")"
    done
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$artifacts/log" || true
  echo "corpus grew to $(ls "$work" | wc -l) files"
  if [ "${KEEP_CORPUS:-0}" = 1 ]; then echo "kept in $work"; else rm -rf "$work"; fi
  rm -rf "$artifacts"
done
exit $status
