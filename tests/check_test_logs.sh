#!/usr/bin/env bash
# Fails when a known test secret (tests/known_test_secrets.txt) appears in any log the suite
# produced: the files the fixtures wrote to MAILGUIDE_TEST_LOG_DIR and CTest's own record of
# every test's output. CTest runs it after every other test (FIXTURES_CLEANUP).
# Usage: tests/check_test_logs.sh SECRETS_FILE DIR...
set -euo pipefail
secrets_file=${1:?usage: check_test_logs.sh SECRETS_FILE DIR...}
shift
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
grep -v '^#' "$secrets_file" | grep -v '^[[:space:]]*$' >"$patterns"
files=()
for dir in "$@"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$dir" -type f -name '*.log' -print0)
done
echo "check_test_logs: $(wc -l <"$patterns") secrets, ${#files[@]} log files ($(cat "${files[@]}" /dev/null | wc -c) bytes)"
if [ ${#files[@]} -eq 0 ]; then
  echo "check_test_logs: no logs found under $*; did the suite run?" >&2
  exit 1
fi
if grep -F -n -f "$patterns" "${files[@]}" >/tmp/check_test_logs.$$ 2>/dev/null; then
  echo "check_test_logs: test secrets appear in the logs:" >&2
  # Show where (these are test values, not real secrets).
  sed -E 's/(.{0,200}).*/\1/' /tmp/check_test_logs.$$ | head -20 >&2
  rm -f /tmp/check_test_logs.$$
  exit 1
fi
rm -f /tmp/check_test_logs.$$
echo "check_test_logs: no test secret in any log"
