#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, and runs every test.
# Usage: deploy/test.sh [extra ctest arguments]
#   MAILGUIDE_SANITIZE=1  the same suite built by clang with AddressSanitizer +
#                         UndefinedBehaviorSanitizer (in build-asan/); any report fails the run.
#                         This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
if [ "${MAILGUIDE_SANITIZE:-0}" = 1 ]; then
  build=${MAILGUIDE_BUILD_DIR:-build-asan}
  # clang, not the plain build's GCC: with both sanitizers it compiles this tree in about half
  # the time (engine.cpp 11 s against 22 s at -O1), and its warnings differ from GCC's, so the
  # two builds check each other. -O1 keeps the instrumented suite fast enough; frame pointers
  # and line tables give whole stacks. A tree configured with another compiler is configured
  # afresh (CMake cannot change the compiler of a cache).
  if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++$' "$build/CMakeCache.txt"; then
    rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
  fi
  # The same tree builds the libFuzzer targets (BOT_FUZZ): their coverage instrumentation adds
  # ~5% to each compile, where a tree of their own cost CI two more minutes (tests/fuzz/smoke.sh).
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBOT_WARNINGS_AS_ERRORS=ON -DBOT_SANITIZERS=ON -DBOT_FUZZ=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -fno-omit-frame-pointer" >/dev/null
  # UBSan and ASan halt on the first report; LeakSanitizer reports leaks when each process exits.
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
  timeout=600
else
  build=${MAILGUIDE_BUILD_DIR:-build}
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOT_WARNINGS_AS_ERRORS=ON >/dev/null
  timeout=300
fi
cmake --build "$build" -j2
ctest --test-dir "$build" -j2 --output-on-failure --timeout "$timeout" "$@"
