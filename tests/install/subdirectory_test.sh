#!/usr/bin/env bash
# fiberleak through add_subdirectory: no tests or benchmarks defined, the
# consumer's build type left alone, nothing of fiberleak's installed.
# Usage: subdirectory_test.sh SOURCE_DIR
set -uo pipefail
source_dir=$1
source "$source_dir/tests/lib/e2e.sh"
work=$(scratch_dir)

check "a project configures with add_subdirectory(fiberleak) and no build type" \
  'cmake -S "$source_dir/tests/install/consumers/subdirectory" -B "$work/build" -DFIBERLEAK_SOURCE_DIR="$source_dir" >"$work/configure.log" 2>&1'
check "fiberleak leaves the consumer's build type empty" 'grep -q "^CMAKE_BUILD_TYPE:STRING=$" "$work/build/CMakeCache.txt"'
check "fiberleak defines no test" '[[ ! -f $work/build/fiberleak/tests/CTestTestfile.cmake ]]'
check "the consumer builds" 'cmake --build "$work/build" --target consumer -j2 >"$work/build.log" 2>&1'
check "the consumer runs" '"$work/build/consumer"'
check "a test binary linked with fiberleak::gtest builds" 'cmake --build "$work/build" --target gtest_consumer -j2 >"$work/gtest_build.log" 2>&1'
timeout 60 "$work/build/gtest_consumer" >"$work/gtest_run.log" 2>&1
rc=$?
check "it fails the test that leaks a fiber, only that one, and ends" \
  '[[ $rc -eq 1 ]] && grep -q "fiber outlived test \"Consumer.Leaks\"" "$work/gtest_run.log" && grep -q "\[       OK \] Consumer.Clean" "$work/gtest_run.log"'
check "installing the consumer installs only the consumer" \
  'cmake --install "$work/build" --prefix "$work/prefix" >"$work/install.log" 2>&1 && [[ "$(cd "$work/prefix" && find . -type f)" == "./bin/consumer" ]]'

finish "$work"/*.log
