#!/usr/bin/env bash
# CI's extra hardening stage (issue 7): the whole suite under ASan + UBSan, then each
# libFuzzer target for 30 s. Prints how long each part took.
# Usage: tests/ci_extra.sh
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
tests/sanitize.sh
t1=$(date +%s)
tests/fuzz/smoke.sh 30
t2=$(date +%s)
echo "ci_extra: sanitizer build and suite $((t1 - t0)) s; fuzz build and smoke $((t2 - t1)) s; total $((t2 - t0)) s"
