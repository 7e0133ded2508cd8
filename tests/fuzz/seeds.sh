#!/usr/bin/env bash
# Writes each fuzzer's seed corpus under OUT/<fuzzer>/ from the test fixtures
# (tests/fixtures/**, tests/data/**, flows/**). Targets whose first input byte picks a mode
# get each seed once per mode that fits it. Usage: tests/fuzz/seeds.sh OUT
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: seeds.sh OUT}
fx=$root/tests/fixtures
mkdir -p "$out"

# seed DIR NAME PREFIX_BYTE_OCTAL FILE: writes PREFIX + the file's bytes (no prefix if "").
seed() {
  local dir=$out/$1 name=$2 prefix=$3 file=$4
  mkdir -p "$dir"
  { [ -n "$prefix" ] && printf "\\$prefix"; cat "$file"; } >"$dir/$name"
}
# text DIR NAME PREFIX TEXT
text() {
  local dir=$out/$1 name=$2 prefix=$3
  mkdir -p "$dir"
  { [ -n "$prefix" ] && printf "\\$prefix"; printf '%s' "$4"; } >"$dir/$name"
}

# Slack forms and payloads (payload prefix: 0 = application/json, 1 = form).
for f in "$fx"/slack/*.form; do
  seed fuzz_slack_form "$(basename "$f")" "" "$f"
  seed fuzz_slack_payload "$(basename "$f")" 001 "$f"
done
for f in "$fx"/slack/*.json; do seed fuzz_slack_payload "$(basename "$f")" 000 "$f"; done

# Teams activities (prefix: 0 = /api/messages, 1 = /teams/webhook).
for f in "$fx"/teams/*.json; do
  seed fuzz_teams_activity "bot-$(basename "$f")" 000 "$f"
  seed fuzz_teams_activity "webhook-$(basename "$f")" 001 "$f"
done

# Signatures: timestamp NUL signature NUL body, signed with the fuzzer's secrets.
slack_secret=8f742231b10e8888abcd99yyyzzz85a5
teams_token=c2VjcmV0LXNlY3VyaXR5LXRva2VuLWZvci1mdXp6aW5nIQ==
ts=1531420618
mkdir -p "$out/fuzz_signature"
for f in "$fx"/slack/*; do
  sig=v0=$( { printf 'v0:%s:' "$ts"; cat "$f"; } | openssl dgst -sha256 -hmac "$slack_secret" -r | cut -d' ' -f1)
  { printf '%s\0%s\0' "$ts" "$sig"; cat "$f"; } >"$out/fuzz_signature/slack-$(basename "$f")"
done
key_hex=$(printf '%s' "$teams_token" | base64 -d | od -An -tx1 | tr -d ' \n')
for f in "$fx"/teams/*.json; do
  mac=$(openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary "$f" | base64 -w0)
  { printf 'HMAC %s\0\0' "$mac"; cat "$f"; } >"$out/fuzz_signature/teams-$(basename "$f")"
done

# JWTs (prefix: 0 = Authorization value, 1 = JWKS, 2 = claims, 3 = header).
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
claims='{"iss":"https://api.botframework.com","aud":"00000000-0000-0000-0000-000000000001","serviceurl":"https://smba.trafficmanager.net/amer/","nbf":1699999990,"exp":1700003600,"iat":1699999990}'
header='{"alg":"RS256","typ":"JWT","kid":"fuzz-key"}'
text fuzz_jwt claims 002 "$claims"
text fuzz_jwt claims-no-exp 002 '{"iss":"https://api.botframework.com","aud":"00000000-0000-0000-0000-000000000001","serviceurl":"https://smba.trafficmanager.net/amer/"}'
text fuzz_jwt claims-aud-array 002 '{"iss":"https://api.botframework.com","aud":["x","00000000-0000-0000-0000-000000000001"],"exp":1700003600.5,"serviceurl":"https://smba.trafficmanager.net/amer/"}'
text fuzz_jwt header 003 "$header"
text fuzz_jwt header-none 003 '{"alg":"none","kid":"fuzz-key"}'
text fuzz_jwt bearer 000 "Bearer $(printf '%s' "$header" | b64url).$(printf '%s' "$claims" | b64url).c2ln"
text fuzz_jwt jwks 001 '{"keys":[{"kty":"RSA","kid":"k1","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB","endorsements":["msteams"]},{"kty":"EC","kid":"k2"}]}'

# Bounces and codes: the fragments of tests/data/smtp, the triage reports, a few shapes.
mkdir -p "$out/fuzz_bounce"
if command -v python3 >/dev/null; then
  python3 - "$root/tests/data/smtp/fragments.json" "$out/fuzz_bounce" <<'PY'
import json, sys
for i, frag in enumerate(json.load(open(sys.argv[1]))):
    open(f"{sys.argv[2]}/fragment-{i:03d}", "w").write(frag["text"])
PY
fi
i=0
while IFS=$'\t' read -r _ report; do
  [ -n "${report:-}" ] || continue
  i=$((i + 1)); [ $((i % 5)) -eq 0 ] || continue  # every fifth report is plenty
  printf '%s' "$report" >"$out/fuzz_bounce/triage-$i"
done < <(grep -v '^#' "$root/tests/data/triage_cases.tsv")
text fuzz_bounce code "" "550 5.7.26"
text fuzz_bounce mime "" $'From: MAILER-DAEMON\nContent-Type: multipart/report; boundary="b"\n\n--b\nContent-Type: message/delivery-status\n\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <a@example.com>: Recipient address rejected\n--b\nContent-Transfer-Encoding: base64\n\nNTUwIDUuMS4xIG5vIHN1Y2ggdXNlcg==\n--b--\n'
text fuzz_bounce qp "" $'Content-Transfer-Encoding: quoted-printable\n\n554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using=\n zen.spamhaus.org=3D\n'

# Flows (prefix: 0 = checks, 1 = whole loader as webmail.json, 2 = triage vocabulary).
for f in "$root"/flows/*.json; do
  name=$(basename "$f")
  case $name in
    triage.json) seed fuzz_flow "$name" 002 "$f" ;;
    *schema*) ;;
    *) seed fuzz_flow "check-$name" 000 "$f"; seed fuzz_flow "load-$name" 001 "$f" ;;
  esac
done

# Inputs of past findings, kept as regression seeds.
for d in "$root"/tests/fuzz/regressions/*/; do
  [ -d "$d" ] || continue
  name=$(basename "$d")
  mkdir -p "$out/$name"
  cp "$d"* "$out/$name/"
done
