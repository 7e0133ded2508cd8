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

"$BUILD/tests/bench/bench_fake_slack" --listen "127.0.0.1:$FAKE_PORT" >/dev/null 2>&1 &
FAKE=$!
env MAILGUIDE_LISTEN=127.0.0.1:$PORT MAILGUIDE_PLAIN_HTTP=1 MAILGUIDE_DATA_DIR="$WORK" MAILGUIDE_FLOWS="$ROOT/flows" \
  MAILGUIDE_SLACK_SIGNING_SECRET=$SECRET MAILGUIDE_SLACK_BOT_TOKEN=xoxb-bench-not-a-real-token \
  MAILGUIDE_SLACK_API_URL=http://127.0.0.1:$FAKE_PORT/api \
  MAILGUIDE_RATE_USER_PER_MIN=${RATE_LIMIT:-1000000} MAILGUIDE_RATE_WORKSPACE_PER_MIN=${RATE_LIMIT:-1000000} \
  valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --dump-instr=no --collect-atstart=yes \
  "$BUILD/bot/cli/mailguide" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER $FAKE 2>/dev/null; wait $SERVER $FAKE 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done
export SLACK_SIGNING_SECRET=$SECRET
python3 "$ROOT/tests/bench/send_signed.py" "http://127.0.0.1:$PORT/slack/events" "${WARM:-2500}" $BODY >/dev/null
callgrind_control -z "$SERVER" >/dev/null
python3 "$ROOT/tests/bench/send_signed.py" "http://127.0.0.1:$PORT/slack/events" "$N" $BODY
callgrind_control -d "$SERVER" >/dev/null
sleep 1
out=$(ls -t "$WORK"/callgrind.out* | head -1)
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions per request: $(( total / N ))  (total $total over $N requests; profile $out)"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed -n '/Ir/,$p' | head -45 | cut -c1-200
