#!/usr/bin/env bash
# Installs what is missing, builds a release binary and starts mailguide.
# Usage: deploy/run.sh [mailguide arguments]
#   no arguments: `mailguide serve` with the web chat on http://127.0.0.1:8080/ (plain HTTP on
#   loopback only; MAILGUIDE_LISTEN picks another address), so a browser is all you need.
#   deploy/run.sh chat, deploy/run.sh smtp-code 550 5.7.26, ...: that subcommand instead.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
build=${MAILGUIDE_BUILD_DIR:-build-release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBOT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target mailguide >/dev/null
if [ $# -eq 0 ]; then
  export MAILGUIDE_WEBCHAT=${MAILGUIDE_WEBCHAT:-1}
  export MAILGUIDE_PLAIN_HTTP=${MAILGUIDE_PLAIN_HTTP:-1}
  export MAILGUIDE_LISTEN=${MAILGUIDE_LISTEN:-127.0.0.1:8080}
  scheme=https
  [ "$MAILGUIDE_PLAIN_HTTP" = 1 ] && scheme=http
  echo "mailguide: open $scheme://$MAILGUIDE_LISTEN/ in a browser to try it (Ctrl+C stops the server)" >&2
  set -- serve
fi
exec "$build/bot/cli/mailguide" "$@"
