#!/usr/bin/env bash
# The web chat's browser tests (CTest: web_e2e). Usage: tests/web/run.sh MAILGUIDE_BINARY OUT_DIR
# Needs node (skipped, exit 77, when absent) and Debian's chromium (deploy/install-deps.sh
# installs it); installs playwright-core from the committed package-lock.json on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:?usage: run.sh MAILGUIDE_BINARY OUT_DIR}
out=${2:?usage: run.sh MAILGUIDE_BINARY OUT_DIR}
if ! command -v node >/dev/null 2>&1; then
  echo "skipped: node is not installed (the web chat's browser tests need node and npm)"
  exit 77
fi
chromium=${MAILGUIDE_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "web_e2e: $chromium is missing; run deploy/install-deps.sh (it installs Debian's chromium)" >&2
  exit 1
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  # One install at a time, even with parallel test runs from several build dirs.
  ( flock 9
    [ -f "$here/node_modules/playwright-core/package.json" ] ||
      (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
  ) 9>"$here/.npm-install.lock"
fi
mkdir -p "$out"
echo "web_e2e: $("$chromium" --version 2>/dev/null | head -1) with playwright-core; screenshots in $out"
export MAILGUIDE_BINARY="$binary" MAILGUIDE_E2E_OUT="$out" MAILGUIDE_CHROMIUM="$chromium"
exec node --test --test-reporter=spec "$here/e2e.test.mjs"
