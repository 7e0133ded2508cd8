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

"$BUILD/tests/bench/bench_fake_slack" --listen "127.0.0.1:$FAKE_PORT" >/dev/null 2>&1 &
FAKE=$!
env MAILGUIDE_LISTEN=127.0.0.1:$PORT MAILGUIDE_PLAIN_HTTP=1 MAILGUIDE_DATA_DIR="$WORK" MAILGUIDE_FLOWS="$ROOT/flows" \
  MAILGUIDE_SLACK_SIGNING_SECRET=$SECRET MAILGUIDE_SLACK_BOT_TOKEN=xoxb-bench-not-a-real-token \
  MAILGUIDE_SLACK_API_URL=http://127.0.0.1:$FAKE_PORT/api \
  MAILGUIDE_RATE_USER_PER_MIN=1000000 MAILGUIDE_RATE_WORKSPACE_PER_MIN=1000000 \
  valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --dump-instr=no \
  "$BUILD/bot/cli/mailguide" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER $FAKE 2>/dev/null; wait $SERVER $FAKE 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done
export SLACK_SIGNING_SECRET=$SECRET
turns() {  # turns PREFIX SECONDS
  "$BUILD/tests/bench/bench_turns" --url "http://127.0.0.1:$PORT" --db "$WORK/sessions.db" --conversations 1 \
    --duration "$2" --agent-prefix "$1"
}
turns W 3 >/dev/null
callgrind_control -z "$SERVER" >/dev/null
line=$(turns M "$SECONDS_RUN")
echo "$line"
callgrind_control -d "$SERVER" >/dev/null
# The dump is callgrind.out.1; the file without a suffix is written at exit.
for _ in $(seq 1 50); do [[ -s $WORK/callgrind.out.1 ]] && break; sleep 0.1; done
out=$WORK/callgrind.out.1
clicks=$(grep -o 'sent=[0-9]*' <<<"$line" | cut -d= -f2)
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions per click: $(( total / clicks ))  (total $total over $clicks clicks; profile $out)"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed -n '/Ir/,$p' | head -60 | cut -c1-200
