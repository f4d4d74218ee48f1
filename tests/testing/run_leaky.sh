#!/usr/bin/env bash
# run_leaky.sh FRAMEWORK BINARY: runs a leaky test binary (catch2 or gtest)
# under timeout and checks what its run must show: one failed test, the
# leaking one, named with the leaked fiber's function and stack; the clean
# ones passed; a failing status; and an end (no hang at exit).
set -u
framework=$1
binary=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 60 "$binary" >"$out" 2>&1
status=$?
fail() {
  echo "FAIL: $*"
  echo "--- output of $binary (status $status) ---"
  cat "$out"
  exit 1
}
[[ $status -eq 124 ]] && fail "the binary hung (killed by timeout)"
[[ $status -eq 0 ]] && fail "the binary ended with status 0"
[[ $status -gt 128 ]] && fail "the binary died of a signal"
grep -q "fiberleak: 1 fiber outlived test" "$out" || fail "no leak report"
grep -q "read_forever" "$out" || fail "the report does not name the leaked fiber's function"
grep -q "chan receive" "$out" || fail "the report does not say what the fiber waits in"
grep -q "creation stack:" "$out" || fail "the report has no creation stack"
grep -Eq "leaky_program\.cpp:[0-9]+" "$out" || fail "the stacks have no source lines"
[[ $(grep -c "fiber[s]* outlived" "$out") -eq 1 ]] || fail "more than one report"
case $framework in
  catch2)
    grep -q 'created by test "a test that leaks a fiber blocked on a channel"' "$out" || fail "the report does not name the test"
    grep -Eq "test cases: 3 \| 2 passed \| 1 failed" "$out" || fail "not exactly the leaking test failed"
    ;;
  gtest)
    grep -q 'created by test "Leaky.LeaksAFiberBlockedOnAChannel"' "$out" || fail "the report does not name the test"
    grep -q "\[  FAILED  \] Leaky.LeaksAFiberBlockedOnAChannel (" "$out" || fail "the leaking test did not fail"
    grep -q "\[       OK \] Leaky.CleanBeforeTheLeak" "$out" || fail "the first clean test did not pass"
    grep -q "\[       OK \] Leaky.CleanWhileTheLeakedFiberIsStillParked" "$out" || fail "the third test did not pass"
    grep -q " 1 FAILED TEST" "$out" || fail "not exactly one test failed"
    ;;
esac
echo "PASS ($framework: status $status)"
