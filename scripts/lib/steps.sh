# The step runner behind scripts/test (source it; bash only). Every step runs
# even after an earlier one failed; steps_summary adds them all up.
#   step NAME CMD...            runs CMD; the step counts as 1 passed or 1 failed
#   ctest_step NAME DIR ARGS... runs ctest in DIR; each test counts as 1 passed or
#                               1 failed, and a run that fails without a ctest
#                               summary (no tests, ctest crashed) counts 1 failed
#   steps_summary               prints "== all test runs" and "N passed, N failed";
#                               returns 1 if anything failed
# Environment assignments before a call (`VAR=x ctest_step ...`) reach the command.
steps_passed=0
steps_failed=0
steps_failures=()

steps_header() { printf '\n== %s\n' "$1"; }

steps_record() {  # steps_record NAME PASSED FAILED
  steps_passed=$((steps_passed + $2))
  steps_failed=$((steps_failed + $3))
  [[ $3 -eq 0 ]] || steps_failures+=("$1")
}

step() {
  local name=$1
  shift
  steps_header "$name"
  if "$@"; then
    steps_record "$name" 1 0
  else
    echo "step failed (exit $?): $name"
    steps_record "$name" 0 1
  fi
}

ctest_step() {
  local name=$1 dir=$2 out rc counts
  shift 2
  steps_header "$name"
  out=$(mktemp)
  (cd "$dir" && ctest --no-tests=error --output-on-failure --timeout 600 "$@") 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  # "95% tests passed, 1 tests failed out of 20"
  counts=$(sed -n 's/.* tests passed, \([0-9]*\) tests failed out of \([0-9]*\)$/\1 \2/p' "$out" | tail -n 1)
  rm -f "$out"
  if [[ -n $counts ]]; then
    set -- $counts
    if [[ $rc -ne 0 && $1 -eq 0 ]]; then
      steps_record "$name" "$2" 1  # every test passed, yet ctest failed
    else
      steps_record "$name" $(($2 - $1)) "$1"
    fi
  elif [[ $rc -eq 0 ]]; then
    steps_record "$name" 1 0
  else
    echo "ctest failed (exit $rc) without a summary: $name"
    steps_record "$name" 0 1
  fi
}

steps_summary() {
  steps_header "all test runs"
  [[ ${#steps_failures[@]} -eq 0 ]] || printf 'failed: %s\n' "${steps_failures[@]}"
  echo "$steps_passed passed, $steps_failed failed"
  [[ $steps_failed -eq 0 ]]
}
