#!/usr/bin/env bash
# Runs one fuzzer for SECONDS over its growing corpus (BUILD/fuzz-corpus/NAME, started from
# the seeds), writing findings to BUILD/fuzz-findings/NAME/ and the log to
# BUILD/fuzz-logs/NAME.log. Exit status: 0 without a finding, non-zero with one.
# Usage: tests/fuzz/run.sh NAME SECONDS [BUILD]   (BUILD defaults to build-fuzz)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:?usage: run.sh NAME SECONDS [BUILD]}
seconds=${2:?usage: run.sh NAME SECONDS [BUILD]}
build=$(cd "${3:-$root/build-fuzz}" && pwd)
bin=$build/tests/fuzz/$name
[ -x "$bin" ] || { echo "run.sh: $bin is not built (tests/fuzz/README.md)" >&2; exit 2; }
[ -d "$build/fuzz-seeds/$name" ] || "$root/tests/fuzz/seeds.sh" "$build/fuzz-seeds"
corpus=$build/fuzz-corpus/$name
findings=$build/fuzz-findings/$name
mkdir -p "$corpus" "$findings" "$build/fuzz-logs"
case $name in
  fuzz_bounce|fuzz_flow|fuzz_slack_payload|fuzz_teams_activity) max_len=16384 ;;
  *) max_len=4096 ;;
esac
# -timeout: one input taking over 10 s is a finding; -rss_limit_mb: so is 2 GiB of memory.
# ASan reports leaks at exit (detect_leaks); UBSan aborts on the first report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
  -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$build/fuzz-seeds/$name" \
  >"$build/fuzz-logs/$name.log" 2>&1
