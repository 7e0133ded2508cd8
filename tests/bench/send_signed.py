"""Sends exactly N signed requests over one keep-alive connection (for callgrind runs, where a
fixed request count matters more than speed). Usage: send_signed.py URL N [BODY]
env: SLACK_SIGNING_SECRET; BODY defaults to the /smtp-code 550 5.7.26 slash command."""
import hashlib, hmac, http.client, os, ssl, sys, time, urllib.parse

url, n = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2])
body = (sys.argv[3] if len(sys.argv) > 3 else
        "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705&channel_name=mail-ops"
        "&user_id=U2147483697&user_name=steve&command=%2Fsmtp-code&text=550+5.7.26&api_app_id=A0KRD7HC3"
        "&is_enterprise_install=false&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678"
        "&trigger_id=13345224609.738474920.8088930838d88f008e0").encode()
ts = str(int(time.time()))
sig = "v0=" + hmac.new(os.environ["SLACK_SIGNING_SECRET"].encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
if url.scheme == "https":
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ssl._create_unverified_context(), timeout=60)
else:
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
sizes = set()
for _ in range(n):
    conn.request("POST", url.path, body, headers)
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit(f"HTTP {r.status}: {data[:200]!r}")
    sizes.add(len(data))
print(f"sent {n}, reply sizes {sorted(sizes)}")
