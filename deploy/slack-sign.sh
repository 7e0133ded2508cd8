#!/usr/bin/env bash
# Sends a body to mailguide signed the way Slack signs requests, so the server can be tried
# without a Slack workspace. Needs curl and openssl.
#
#   MAILGUIDE_SLACK_SIGNING_SECRET=… deploy/slack-sign.sh [URL] [CONTENT_TYPE] < body
#
# URL defaults to https://127.0.0.1:8443/slack/events; CONTENT_TYPE to application/json
# (use application/x-www-form-urlencoded for slash commands and button clicks). CURL_OPTS
# is passed to curl, e.g. CURL_OPTS="--cacert var/tls/self-signed.crt" (or -k to skip
# verification of the self-signed certificate while trying things out).
set -euo pipefail
url="${1:-https://127.0.0.1:8443/slack/events}"
type="${2:-application/json}"
secret="${MAILGUIDE_SLACK_SIGNING_SECRET:?set MAILGUIDE_SLACK_SIGNING_SECRET to the server signing secret}"
body="$(cat)"
ts="$(date +%s)"
# The secret is passed to openssl as an argument (briefly visible to `ps` on this machine):
# a tool for trying things out, not for production credentials on shared hosts.
sig="v0=$(printf 'v0:%s:%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.*= //')"
# shellcheck disable=SC2086
curl -sS ${CURL_OPTS:-} -w '\nHTTP %{http_code}\n' -X POST "$url" \
  -H "Content-Type: $type" \
  -H "X-Slack-Request-Timestamp: $ts" \
  -H "X-Slack-Signature: $sig" \
  --data-binary "$body"
