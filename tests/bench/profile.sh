#!/usr/bin/env bash
# Instruction counts of the slash-command path under valgrind's callgrind: independent of the
# machine's load, so before/after comparisons of a change hold on a busy 2-core box.
#   tests/bench/profile.sh [BUILD_DIR] [N]
# Starts `mailguide serve` (plain HTTP, SQLite store) under callgrind, sends 200 warm-up
# requests (enough to fill the adapter's 2000-entry share memory: the steady state), zeroes the counters, sends N (default 2000) signed /smtp-code 550 5.7.26 requests
# over one keep-alive connection, dumps, and prints instructions per request plus the top
# inclusive functions. Needs bench_fake_slack from the same build (-DBOT_BUILD_BENCH=ON).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
N=${2:-2000}
PORT=${PORT:-3190}
FAKE_PORT=${FAKE_PORT:-3191}
SECRET=8f742231b10e8888abcd99yyyzzz85a5
WORK=$(mktemp -d /tmp/mailguide-profile.XXXXXX)
BODY=${BODY:-}

. "$ROOT/tests/bench/callgrind_serve.sh"
start_profiled_server
export SLACK_SIGNING_SECRET=$SECRET
python3 "$ROOT/tests/bench/send_signed.py" "http://127.0.0.1:$PORT/slack/events" "${WARM:-2500}" $BODY >/dev/null
callgrind_control -z "$SERVER" >/dev/null
python3 "$ROOT/tests/bench/send_signed.py" "http://127.0.0.1:$PORT/slack/events" "$N" $BODY
out=$(dump_profile)
total=$(total_instructions "$out")
echo "instructions per request: $(( total / N ))  (total $total over $N requests; profile $out)"
top_functions "$out" 45
