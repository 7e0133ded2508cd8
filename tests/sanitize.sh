#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (g++), in its own
# build directory. Any report fails the run: UBSan and ASan halt on the first error, and
# LeakSanitizer reports leaks when each process exits.
# Usage: tests/sanitize.sh [extra ctest arguments]       (BUILD_DIR defaults to build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-asan}
deploy/install-deps.sh
# -O1 keeps the instrumented suite reasonably fast; frame pointers give whole stacks.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOT_SANITIZERS=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -fno-omit-frame-pointer" >/dev/null
cmake --build "$build" -j2
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
ctest --test-dir "$build" -j2 --output-on-failure --timeout 600 "$@"
