#!/usr/bin/env bash
# mailguide against the peer (Bolt for JavaScript, ../shared/bench/peer-bolt) and against the
# floor of our own HTTP layer (tests/bench/floor_server.cpp), side by side in one run:
#   1. builds Release into its own build directory (-DBOT_BUILD_BENCH=ON);
#   2. installs the peer (npm ci) into a scratch directory;
#   3. checks every server's answer (200 + Block Kit for a signed /smtp-code 550 5.7.26, also
#      when repeated; 401 for a wrong signature and for a timestamp 10 minutes old);
#   4. runs wrk -t1 with keep-alive at 1, 16 and 64 connections against the peer, mailguide and
#      the floor (plain HTTP), then mailguide and the floor with TLS, in turns (A B C D E, A B
#      C D E, ...), RUNS rounds; then RUNS rounds of conversation turns (button clicks
#      persisted in SQLite) through mailguide with bench_turns, each with its own peak RSS;
#   5. cold start (launch to first answered request), peer and mailguide alternating;
#   6. a store of STORE_CONVERSATIONS conversations (bench_store_fill): start-up and per-turn
#      latency against an empty store, alternating, and bytes per stored conversation;
#   7. prints one table of medians and ratios with PASS/FAIL per goal (issue 8).
# Not part of the test suite. About 5 minutes with the defaults (plus the first build and fill).
#
# Environment (defaults): DURATION=5 RUNS=3 WARMUP=3 CONNS="1 16 64" COLD_RUNS=5 TURN_CONVS=16
#   STORE_CONVERSATIONS=100000 BUILD=<repo>/build-bench SCRATCH=/tmp/mailguide-bench
#   PEER_DIR=<repo>/../shared/bench/peer-bolt SKIP_BUILD=0 PIN=0 (1: servers on cpu0, wrk on cpu1)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/tests/bench
BUILD=${BUILD:-$ROOT/build-bench}
SCRATCH=${SCRATCH:-/tmp/mailguide-bench}
PEER_DIR=${PEER_DIR:-$ROOT/../shared/bench/peer-bolt}
DURATION=${DURATION:-5}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-1 16 64}
COLD_RUNS=${COLD_RUNS:-5}
TURN_CONVS=${TURN_CONVS:-16}
STORE_CONVERSATIONS=${STORE_CONVERSATIONS:-100000}
SKIP_BUILD=${SKIP_BUILD:-0}
PIN=${PIN:-0}
SECRET=8f742231b10e8888abcd99yyyzzz85a5
OUT=$SCRATCH/results
mkdir -p "$SCRATCH" "$OUT"
rm -f "$OUT"/*.tsv "$OUT"/*.txt "$OUT"/*.log

log() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# Threads are processes to the kernel: with too few free ids (kernel.pid_max) the
# servers and wrk fail to start threads and abort. Wait a little for other jobs, then give up.
free_pids() { echo $(( $(cat /proc/sys/kernel/pid_max) - $(cut -d' ' -f4 /proc/loadavg | cut -d/ -f2) )); }
for _ in $(seq 1 60); do (( $(free_pids) >= ${MIN_FREE_PIDS:-150} )) && break; log "only $(free_pids) free thread ids; waiting"; sleep 5; done
(( $(free_pids) >= ${MIN_FREE_PIDS:-150} )) || { echo "too few free thread ids (kernel.pid_max); another job holds them" >&2; exit 1; }

# The load tool and the profilers are Debian packages the product itself does not need.
"$ROOT/deploy/install-deps.sh" wrk curl valgrind

# ---- 1. build ---------------------------------------------------------------------------
if [[ $SKIP_BUILD != 1 ]]; then
  log "building Release into $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBOT_BUILD_BENCH=ON -DBOT_BUILD_TESTS=OFF \
    -DBOT_WITH_REDIS=OFF >"$OUT/build.log" 2>&1
  cmake --build "$BUILD" -j2 --target mailguide bench_floor bench_fake_slack bench_turns bench_store_fill \
    >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
fi
MAILGUIDE=$BUILD/bot/cli/mailguide
FLOOR=$BUILD/tests/bench/bench_floor
FAKE=$BUILD/tests/bench/bench_fake_slack
TURNS=$BUILD/tests/bench/bench_turns
FILL=$BUILD/tests/bench/bench_store_fill
for b in "$MAILGUIDE" "$FLOOR" "$FAKE" "$TURNS" "$FILL"; do [[ -x $b ]] || { echo "missing $b" >&2; exit 1; }; done

# ---- 2. the peer ------------------------------------------------------------------------
PEER=$SCRATCH/peer-bolt
if ! cmp -s "$PEER_DIR/package-lock.json" "$PEER/package-lock.json" || [[ ! -d $PEER/node_modules ]]; then
  log "installing the peer into $PEER (npm ci)"
  rm -rf "$PEER" && mkdir -p "$PEER" && cp -r "$PEER_DIR/." "$PEER/" && chmod -R u+w "$PEER"
  (cd "$PEER" && npm ci --no-audit --no-fund >"$OUT/npm.log" 2>&1) || { cat "$OUT/npm.log" >&2; exit 1; }
fi

# TLS: one self-signed P-256 certificate (what `mailguide serve` generates) for ours and the floor.
if [[ ! -f $SCRATCH/tls/cert.pem ]]; then
  mkdir -p "$SCRATCH/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$SCRATCH/tls/key.pem" -out "$SCRATCH/tls/cert.pem" 2>/dev/null
fi

# ---- servers ----------------------------------------------------------------------------
declare -A PORT=([peer]=3101 [ours]=3102 [floor]=3103 [ours-tls]=3104 [floor-tls]=3105
                 [store-empty]=3110 [store-full]=3111)
declare -A PID=()
FAKE_PORT=3199
TARGETS=(peer ours floor ours-tls floor-tls)
scheme() { [[ $1 == *-tls ]] && echo https || echo http; }
url() { echo "$(scheme "$1")://127.0.0.1:${PORT[$1]}/slack/events"; }
TASKSET_SRV=() TASKSET_WRK=()
if [[ $PIN == 1 ]]; then TASKSET_SRV=(taskset -c 0); TASKSET_WRK=(taskset -c 1); fi

# The command line of a server, as one string for `bash -c "exec ..."` (coldstart.py runs it
# the same way), so the PID we hold is the server's own.
ours_cmd() {  # ours_cmd PORT DATA_DIR [tls]
  local tls="MAILGUIDE_PLAIN_HTTP=1"
  # wrk's 64 connections all come from 127.0.0.1; the hardening caps TLS connections per
  # client address at 32 (Slack's come from many), so the bench lifts that cap to 128.
  [[ ${3:-} == tls ]] && tls="MAILGUIDE_TLS_CERT=$SCRATCH/tls/cert.pem MAILGUIDE_TLS_KEY=$SCRATCH/tls/key.pem MAILGUIDE_MAX_CONNECTIONS_PER_IP=128"
  # One user sends every request: the serving default (20 lookups a minute per user) would
  # answer "One moment, please" from the 21st on. Limits this high keep the counting (a
  # SQLite write per lookup) on the path while every request gets the real answer.
  echo "env MAILGUIDE_LISTEN=127.0.0.1:$1 $tls MAILGUIDE_DATA_DIR=$2 MAILGUIDE_FLOWS=$ROOT/flows" \
       "MAILGUIDE_RATE_USER_PER_MIN=${RATE_LIMIT:-1000000} MAILGUIDE_RATE_WORKSPACE_PER_MIN=${RATE_LIMIT:-1000000}" \
       "MAILGUIDE_SLACK_SIGNING_SECRET=$SECRET MAILGUIDE_SLACK_BOT_TOKEN=xoxb-bench-not-a-real-token" \
       "MAILGUIDE_SLACK_API_URL=http://127.0.0.1:$FAKE_PORT/api $MAILGUIDE serve"
}
server_cmd() {
  case $1 in
    peer) echo "env HOST=127.0.0.1 PORT=${PORT[peer]} SLACK_SIGNING_SECRET=$SECRET node $PEER/app.js" ;;
    ours) ours_cmd "${PORT[ours]}" "$SCRATCH/data-ours" ;;
    ours-tls) ours_cmd "${PORT[ours-tls]}" "$SCRATCH/data-ours-tls" tls ;;
    floor) echo "env SLACK_SIGNING_SECRET=$SECRET $FLOOR --listen 127.0.0.1:${PORT[floor]}" ;;
    floor-tls) echo "env SLACK_SIGNING_SECRET=$SECRET $FLOOR --listen 127.0.0.1:${PORT[floor-tls]} --tls $SCRATCH/tls/cert.pem $SCRATCH/tls/key.pem" ;;
    store-empty) ours_cmd "${PORT[store-empty]}" "$SCRATCH/data-store-empty" ;;
    store-full) ours_cmd "${PORT[store-full]}" "$SCRATCH/data-store-full" ;;
  esac
}

# The same body as the peer's run.sh: a realistic /smtp-code slash command.
export SLASH_BODY='token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705&channel_name=mail-ops&user_id=U2147483697&user_name=steve&command=%2Fsmtp-code&text=550+5.7.26&api_app_id=A0KRD7HC3&is_enterprise_install=false&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0'
export SLASH_PATH=/slack/events
sign() {  # sign [SECRET] [AGE_S]: SLACK_TS / SLACK_SIG for SLASH_BODY
  local secret=${1:-$SECRET} age=${2:-0}
  export SLACK_TS=$(( $(date +%s) - age ))
  export SLACK_SIG="v0=$(printf 'v0:%s:%s' "$SLACK_TS" "$SLASH_BODY" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)"
}
post() {  # post TARGET OUTFILE -> HTTP status
  curl -sk -o "$2" -w '%{http_code}' -X POST "$(url "$1")" -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "X-Slack-Request-Timestamp: $SLACK_TS" -H "X-Slack-Signature: $SLACK_SIG" --data-raw "$SLASH_BODY" || true
}

start() {  # start TARGET
  local t=$1
  if curl -sk -o /dev/null --max-time 1 "$(scheme "$t")://127.0.0.1:${PORT[$t]}/"; then
    echo "something already listens on port ${PORT[$t]}" >&2; exit 1
  fi
  # Up to 3 tries: on a shared machine a server can die at launch when another job has
  # taken every thread id for a moment (kernel.pid_max).
  for try in 1 2 3; do
    "${TASKSET_SRV[@]}" bash -c "exec $(server_cmd "$t")" >"$OUT/server-$t.log" 2>&1 &
    PID[$t]=$!
    sign
    for _ in $(seq 1 400); do
      [[ $(post "$t" /dev/null) == 200 ]] && return 0
      kill -0 "${PID[$t]}" 2>/dev/null || break
      sleep 0.05
    done
    stop "$t"
    log "$t did not come up (try $try): $(grep -v '^ *[0-9]*: 0x' "$OUT/server-$t.log" | tail -3 | tr '\n' ' ' | cut -c1-300)"
    sleep 3
  done
  echo "$t did not come up" >&2; exit 1
}
stop() {
  local t=$1
  [[ -n ${PID[$t]:-} ]] || return 0
  kill "${PID[$t]}" 2>/dev/null || true
  wait "${PID[$t]}" 2>/dev/null || true
  unset "PID[$t]"
}
FAKE_PID=
cleanup() {
  for t in "${!PID[@]}"; do stop "$t"; done
  [[ -n $FAKE_PID ]] && { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; } || true
}
trap cleanup EXIT

kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/${PID[$1]}/status"; }
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" "$2"; }

for _ in 1 2 3; do
  "$FAKE" --listen "127.0.0.1:$FAKE_PORT" >"$OUT/fake-slack.log" 2>&1 &
  FAKE_PID=$!
  for _ in $(seq 1 40); do
    curl -sf -o /dev/null --max-time 2 --data "" "http://127.0.0.1:$FAKE_PORT/api/auth.test" && break 2
    kill -0 "$FAKE_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true; FAKE_PID=; sleep 3
done
[[ -n $FAKE_PID ]] || { echo "bench_fake_slack did not come up" >&2; exit 1; }

# ---- 3. correctness ---------------------------------------------------------------------
rm -rf "$SCRATCH"/data-*
log "starting ${TARGETS[*]}"
for t in "${TARGETS[@]}"; do start "$t"; done
for t in "${TARGETS[@]}"; do
  sign
  c1=$(post "$t" "$OUT/reply-$t.json"); c2=$(post "$t" "$OUT/reply2-$t.json")
  sign wrong-secret; bad=$(post "$t" /dev/null)
  sign "$SECRET" 600; stale=$(post "$t" /dev/null)
  python3 - "$t" "$OUT/reply-$t.json" "$OUT/reply2-$t.json" "$c1" "$c2" "$bad" "$stale" <<'EOF' || exit 1
import json, sys
t, f1, f2, c1, c2, bad, stale = sys.argv[1:]
assert (c1, c2, bad, stale) == ("200", "200", "401", "401"), f"{t}: HTTP {c1} {c2} (valid, repeated), {bad} (bad signature), {stale} (stale)"
for f in (f1, f2):  # the repeated request gets the whole answer too
    r = json.load(open(f))
    types = [b["type"] for b in r["blocks"]]
    assert r.get("response_type") == "ephemeral" and types[0] == "header", (t, r)
    assert "550" in r["blocks"][0]["text"]["text"] and "5.7.26" in json.dumps(r["blocks"]), (t, r)
print(f"{t}: ok (200 ephemeral {'/'.join(types)}, {len(open(f1).read())} bytes; repeated: same; 401 for a bad signature and a stale timestamp)")
EOF
done

# ---- 4. load, in turns ------------------------------------------------------------------
echo -e "target\tconns\trun\trps\tp50_us\tp99_us\tnon2xx\tsockerr\tbytes_per_reply\thwm_kib\tidle_kib\tload" >"$OUT/wrk.tsv"
echo -e "run\tturns_per_s\tp50_us\tp99_us\tverified\thwm_kib\tline" >"$OUT/turns.tsv"
declare -A IDLE=()
for t in "${TARGETS[@]}"; do
  IDLE[$t]=$(kib "$t" VmRSS)
  sign; "${TASKSET_WRK[@]}" wrk -t1 -c16 -d"${WARMUP}s" -s "$BENCH/slash.lua" "$(url "$t")" >/dev/null  # JIT, caches
done
for r in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    for t in "${TARGETS[@]}"; do
      f="$OUT/wrk-$t-c$c-run$r.txt"
      # A server that died (e.g. no thread id left for a moment on a shared machine) is
      # restarted and the restart logged; its row then shows the lost run.
      kill -0 "${PID[$t]}" 2>/dev/null || { log "$t died; restarting: $(tail -2 "$OUT/server-$t.log" | tr "\n" " " | cut -c1-200)"; echo "$t $c $r" >>"$OUT/restarts.txt"; unset "PID[$t]"; start "$t"; }
      echo 5 >"/proc/${PID[$t]}/clear_refs" || true  # VmHWM: this run's own peak
      l=$(load1); sign
      "${TASKSET_WRK[@]}" wrk -t1 -c"$c" -d"${DURATION}s" --latency -s "$BENCH/slash.lua" "$(url "$t")" >"$f" || true
      req=$(field requests "$f"); bytes=$(field bytes "$f")
      echo -e "$t\t$c\t$r\t$(field rps "$f")\t$(field p50_us "$f")\t$(field p99_us "$f")\t$(field non2xx "$f")\t$(field sockerr "$f")\t$(( bytes / (req > 0 ? req : 1) ))\t$(kib "$t" VmHWM)\t${IDLE[$t]}\t$l" >>"$OUT/wrk.tsv"
      log "run $r c=$c $t: $(grep ^RESULT "$f" | cut -d' ' -f2-)"
    done
  done
done
# Conversation turns through mailguide (plain): clicks persisted in its SQLite store. They run
# after the slash-command rounds, so the peak RSS compared with the peer's is that of the same
# load on both; the turn rounds' own peak is recorded beside their rate.
for r in $(seq 1 "$RUNS"); do
  echo 5 >"/proc/${PID[ours]}/clear_refs" || true
  l=$(load1)
  line=$(SLACK_SIGNING_SECRET=$SECRET "$TURNS" --url "http://127.0.0.1:${PORT[ours]}" --db "$SCRATCH/data-ours/sessions.db" \
         --conversations "$TURN_CONVS" --duration "$DURATION" --agent-prefix "R$r" --seed "$r" 2>>"$OUT/turns.log" || true)
  echo -e "$r\t$(field rate <(echo " $line"))\t$(field p50_us <(echo " $line"))\t$(field p99_us <(echo " $line"))\t$(field verified <(echo " $line"))\t$(kib ours VmHWM)\t$line load=$l" >>"$OUT/turns.tsv"
  log "run $r turns: $line"
done
for t in "${TARGETS[@]}"; do stop "$t"; done

# ---- 5. cold start ------------------------------------------------------------------------
# The turn rounds leave megabytes of SQLite pages for the kernel to write back; flushed now,
# that writeback does not land in the middle of a launch.
sync
echo -e "target\trun\tms" >"$OUT/cold.tsv"
cold() {  # cold TARGET RUN
  sign
  local ms
  ms=$(cd "$PEER" && python3 coldstart.py 127.0.0.1 "${PORT[$1]}" /slack/events "$(server_cmd "$1")")
  echo -e "$1\t$2\t$ms" >>"$OUT/cold.tsv"
  log "cold start $1 run $2: $ms ms"
}
cold ours 0  # an unrecorded first launch (page cache)
for r in $(seq 1 "$COLD_RUNS"); do cold peer "$r"; cold ours "$r"; done

# ---- 6. the big store ---------------------------------------------------------------------
PRISTINE=$SCRATCH/store-$STORE_CONVERSATIONS.db
if [[ ! -f $PRISTINE || $FILL -nt $PRISTINE ]]; then
  log "filling a store with $STORE_CONVERSATIONS conversations"
  "$FILL" --db "$PRISTINE.tmp" --conversations "$STORE_CONVERSATIONS" --flows "$ROOT/flows" >"$OUT/fill.txt"
  mv "$PRISTINE.tmp" "$PRISTINE"
  cp "$OUT/fill.txt" "$PRISTINE.txt"
else
  cp "$PRISTINE.txt" "$OUT/fill.txt"
fi
log "$(cat "$OUT/fill.txt")"
rm -rf "$SCRATCH/data-store-empty" "$SCRATCH/data-store-full"
mkdir -p "$SCRATCH/data-store-empty" "$SCRATCH/data-store-full"
cp "$PRISTINE" "$SCRATCH/data-store-full/sessions.db"
echo -e "store\trun\tms" >"$OUT/store-cold.tsv"
echo -e "store\trun\tturns_per_s\tp50_us\tp99_us\tverified" >"$OUT/store-turns.tsv"
cold store-empty 0; cold store-full 0
for r in $(seq 1 "$COLD_RUNS"); do
  for s in store-empty store-full; do
    sign
    ms=$(cd "$PEER" && python3 coldstart.py 127.0.0.1 "${PORT[$s]}" /slack/events "$(server_cmd "$s")")
    echo -e "$s\t$r\t$ms" >>"$OUT/store-cold.tsv"
  done
done
start store-empty; start store-full
for r in $(seq 1 "$RUNS"); do
  for s in store-empty store-full; do
    line=$(SLACK_SIGNING_SECRET=$SECRET "$TURNS" --url "http://127.0.0.1:${PORT[$s]}" --db "$SCRATCH/data-$s/sessions.db" \
           --conversations 1 --duration "$DURATION" --agent-prefix "S$r" --seed "$r" 2>>"$OUT/turns.log" || true)
    echo -e "$s\t$r\t$(field rate <(echo " $line"))\t$(field p50_us <(echo " $line"))\t$(field p99_us <(echo " $line"))\t$(field verified <(echo " $line"))" >>"$OUT/store-turns.tsv"
    log "run $r $s turns (1 agent): $line"
  done
done
stop store-empty; stop store-full

# ---- 7. the table -------------------------------------------------------------------------
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r)"
  echo "peer: Bolt $(cd "$PEER" && node -p "require('@slack/bolt/package.json').version") on Node $(node --version); wrk -t1 keep-alive, ${DURATION}s x $RUNS rounds in turns (median), $( [[ $PIN == 1 ]] && echo 'servers pinned to cpu0, wrk to cpu1' || echo 'servers and wrk share both cores')"
  echo "mailguide: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- bot adapters || echo '+uncommitted'), Release; store sqlite (synchronous=FULL)"
  python3 "$BENCH/report.py" "$OUT"
} | tee "$OUT/summary.md"
