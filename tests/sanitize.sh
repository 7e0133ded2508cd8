#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/:
# the README's test command with MAILGUIDE_SANITIZE=1 (see deploy/test.sh).
# Usage: tests/sanitize.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
MAILGUIDE_SANITIZE=1 exec deploy/test.sh "$@"
