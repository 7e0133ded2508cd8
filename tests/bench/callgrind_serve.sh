# Sourced by profile.sh and profile_turns.sh: `mailguide serve` (plain HTTP, SQLite store)
# under callgrind beside bench_fake_slack, and the dump of its counters.
# Expects ROOT, BUILD, PORT, FAKE_PORT, SECRET and WORK; sets FAKE and SERVER.

start_profiled_server() {
  "$BUILD/tests/bench/bench_fake_slack" --listen "127.0.0.1:$FAKE_PORT" >/dev/null 2>&1 &
  FAKE=$!
  env MAILGUIDE_LISTEN=127.0.0.1:$PORT MAILGUIDE_PLAIN_HTTP=1 MAILGUIDE_DATA_DIR="$WORK" MAILGUIDE_FLOWS="$ROOT/flows" \
    MAILGUIDE_SLACK_SIGNING_SECRET=$SECRET MAILGUIDE_SLACK_BOT_TOKEN=xoxb-bench-not-a-real-token \
    MAILGUIDE_SLACK_API_URL=http://127.0.0.1:$FAKE_PORT/api \
    MAILGUIDE_RATE_USER_PER_MIN=${RATE_LIMIT:-1000000} MAILGUIDE_RATE_WORKSPACE_PER_MIN=${RATE_LIMIT:-1000000} \
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --dump-instr=no \
    "$BUILD/bot/cli/mailguide" serve >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  trap 'kill $SERVER $FAKE 2>/dev/null; wait $SERVER $FAKE 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && return 0
    sleep 0.1
  done
  echo "mailguide serve under callgrind did not come up; see $WORK/serve.log" >&2
  exit 1
}

# dump_profile: writes the counters since the last zeroing and prints the dump's path. The
# first dump is callgrind.out.1 (the file without a suffix is written at exit).
dump_profile() {
  callgrind_control -d "$SERVER" >/dev/null
  for _ in $(seq 1 50); do [[ -s $WORK/callgrind.out.1 ]] && break; sleep 0.1; done
  echo "$WORK/callgrind.out.1"
}

# total_instructions FILE / top_functions FILE LINES
total_instructions() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'; }
top_functions() { callgrind_annotate --inclusive=yes "$1" 2>/dev/null | sed -n '/Ir/,$p' | head -"$2" | cut -c1-200; }
