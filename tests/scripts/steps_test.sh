#!/usr/bin/env bash
# scripts/test's step runner (scripts/lib/steps.sh) on steps and ctest runs
# that fail on purpose: every step still runs, the closing line counts every
# test and step, the status says so; and scripts/test rejects unknown arguments.
# Usage: steps_test.sh REPO_ROOT
set -uo pipefail
root=$1
source "$root/tests/lib/e2e.sh"
work=$(scratch_dir)

# A ctest directory with two passing tests and one failing one, and an empty one.
mkdir -p "$work/suite" "$work/empty"
cat >"$work/suite/CTestTestfile.cmake" <<CMAKE
add_test(first_passes "$(command -v true)")
add_test(second_passes "$(command -v true)")
add_test(fails_on_purpose "$(command -v false)")
CMAKE
: >"$work/empty/CTestTestfile.cmake"

# run_steps SCRIPT: the runner under scripts/test's shell options, output in $work/out, status in $rc.
run_steps() {
  bash -c 'set -uo pipefail; source "$1/scripts/lib/steps.sh"; eval "$2"; steps_summary' _ "$root" "$1" >"$work/out" 2>&1
  rc=$?
}
last_line() { tail -n 1 "$work/out"; }

run_steps 'step "passes" true
           step "fails" false
           ctest_step "ctest with a failing test" "'"$work/suite"'"
           ctest_step "ctest with no tests" "'"$work/empty"'"
           step "runs after the failures" touch "'"$work/ran"'"'
check "every step runs after failures" '[[ -e $work/ran ]]'
check "the closing line counts 2 steps + 2 tests passed, 1 step + 1 test + 1 empty run failed" \
  '[[ $(last_line) == "4 passed, 3 failed" ]]'
check "a failed run exits non-zero" '[[ $rc -ne 0 ]]'
check "the failed steps are named" 'grep -qx "failed: fails" "$work/out" && grep -qx "failed: ctest with a failing test" "$work/out"'

run_steps 'step "passes" true
           ctest_step "a passing ctest run" "'"$work/suite"'" -E fails_on_purpose'
check "a clean run counts each test and step" '[[ $(last_line) == "3 passed, 0 failed" ]]'
check "a clean run exits 0" '[[ $rc -eq 0 ]]'

run_steps 'FIBERLEAK_STEPS_PROBE=seen step "sees its environment" bash -c "[[ \$FIBERLEAK_STEPS_PROBE == seen ]]"'
check "an assignment before a step reaches its command" '[[ $(last_line) == "1 passed, 0 failed" ]]'

for args in --bogus "--quick --quick" "extra"; do
  "$root/scripts/test" $args >"$work/out" 2>&1
  rc=$?
  check "scripts/test $args exits 2 with a usage line" '[[ $rc -eq 2 ]] && grep -q "^usage: scripts/test" "$work/out"'
done
check ".ci/run calls scripts/test" 'grep -q "^exec scripts/test$" "$root/.ci/run"'
check "scripts/test closes with the runner's summary" '[[ $(grep -v "^$" "$root/scripts/test" | tail -n 1) == steps_summary ]]'
finish "$work/out"
