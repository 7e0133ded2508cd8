-- wrk script for tests/bench/run.sh: POSTs one signed Slack slash command, the same bytes on
-- every request (the approach of the peer's slash.lua; the body, timestamp and signature come
-- from the environment: SLASH_BODY, SLACK_TS, SLACK_SIG, and the path from SLASH_PATH).
wrk.method = "POST"
wrk.path = os.getenv("SLASH_PATH") or "/slack/events"
wrk.body = assert(os.getenv("SLASH_BODY"), "SLASH_BODY not set")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Slack-Request-Timestamp"] = assert(os.getenv("SLACK_TS"), "SLACK_TS not set")
wrk.headers["X-Slack-Signature"] = assert(os.getenv("SLACK_SIG"), "SLACK_SIG not set")
wrk.headers["User-Agent"] = "Slackbot 1.0 (+https://api.slack.com/robots)"

-- One machine-readable line (latencies in microseconds).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d non2xx=%d sockerr=%d bytes=%d\n",
    summary.requests, summary.requests / summary.duration * 1e6,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
