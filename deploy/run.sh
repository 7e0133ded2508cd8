#!/usr/bin/env bash
# Installs what is missing, builds a release binary and starts mailguide.
# Usage: deploy/run.sh [mailguide arguments]   (default: chat)
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
build=${MAILGUIDE_BUILD_DIR:-build-release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBOT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target mailguide >/dev/null
[ $# -gt 0 ] || set -- chat
exec "$build/bot/cli/mailguide" "$@"
