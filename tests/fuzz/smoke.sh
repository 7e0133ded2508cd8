#!/usr/bin/env bash
# CI's fuzz smoke: builds the libFuzzer targets with clang and runs each for SECONDS (default
# 30), two at a time. Fails on any finding; the inputs are in BUILD/fuzz-findings/<target>/ and
# the logs in BUILD/fuzz-logs/.
# Usage: [FUZZ_BUILD_DIR=BUILD] tests/fuzz/smoke.sh [SECONDS]
#   BUILD defaults to build-fuzz, configured here for the fuzzers alone. A tree already
#   configured with -DBOT_FUZZ=ON (the sanitized build-asan/ of deploy/test.sh, as in CI) is
#   used as it is: its libraries are instrumented for libFuzzer already.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
build=${FUZZ_BUILD_DIR:-build-fuzz}
deploy/install-deps.sh
if ! grep -qs '^BOT_FUZZ:BOOL=ON$' "$build/CMakeCache.txt"; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DBOT_FUZZ=ON -DBOT_BUILD_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target fuzzers
rm -rf "$build/fuzz-seeds"  # rebuilt from the fixtures by run.sh
targets=(fuzz_slack_form fuzz_slack_payload fuzz_teams_activity fuzz_signature fuzz_jwt fuzz_bounce fuzz_flow)
failed=()
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=()
  tests/fuzz/run.sh "${targets[i]}" "$seconds" "$build" & pids+=("$!:${targets[i]}")
  if ((i + 1 < ${#targets[@]})); then
    tests/fuzz/run.sh "${targets[i + 1]}" "$seconds" "$build" & pids+=("$!:${targets[i + 1]}")
  fi
  for p in "${pids[@]}"; do
    wait "${p%%:*}" || failed+=("${p#*:}")
  done
done
for t in "${targets[@]}"; do
  execs=$(grep -h 'stat::number_of_executed_units' "$build/fuzz-logs/$t.log" 2>/dev/null | awk '{print $2}')
  echo "fuzz smoke: $t: ${execs:-?} runs in ${seconds} s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: findings in ${failed[*]} (see $build/fuzz-findings/ and $build/fuzz-logs/)" >&2
  exit 1
fi
echo "fuzz smoke: no findings"
