#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, and runs every test.
# Usage: deploy/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
build=${MAILGUIDE_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOT_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" -j2 --output-on-failure --timeout 300 "$@"
