#!/usr/bin/env bash
# Instruction counts of the conversation-turn path (a button click: verify, decode, claim,
# load, engine, commit, render, POST to the response_url) under valgrind's callgrind.
#   tests/bench/profile_turns.sh [BUILD_DIR] [SECONDS]
# Starts `mailguide serve` (plain HTTP, SQLite store) under callgrind, runs bench_turns with one
# agent for 3 s of warm-up, zeroes the counters, runs it again for SECONDS (default 10), dumps,
# and prints instructions per click (the few /mailguide starts in between are counted in) plus
# the top inclusive functions. Needs bench_fake_slack and bench_turns (-DBOT_BUILD_BENCH=ON).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
SECONDS_RUN=${2:-10}
PORT=${PORT:-3192}
FAKE_PORT=${FAKE_PORT:-3193}
SECRET=8f742231b10e8888abcd99yyyzzz85a5
WORK=$(mktemp -d /tmp/mailguide-profile-turns.XXXXXX)

. "$ROOT/tests/bench/callgrind_serve.sh"
start_profiled_server
export SLACK_SIGNING_SECRET=$SECRET
turns() {  # turns PREFIX SECONDS
  "$BUILD/tests/bench/bench_turns" --url "http://127.0.0.1:$PORT" --db "$WORK/sessions.db" --conversations 1 \
    --duration "$2" --agent-prefix "$1"
}
turns W 3 >/dev/null
callgrind_control -z "$SERVER" >/dev/null
line=$(turns M "$SECONDS_RUN")
echo "$line"
out=$(dump_profile)
clicks=$(grep -o 'sent=[0-9]*' <<<"$line" | cut -d= -f2)
total=$(total_instructions "$out")
echo "instructions per click: $(( total / clicks ))  (total $total over $clicks clicks; profile $out)"
top_functions "$out" 60
