#!/usr/bin/env bash
# The end-to-end tests' own library (tests/lib/e2e.sh): a condition that
# holds passes even when grep -q ends its pipe early under pipefail (sed gets
# SIGPIPE), one that does not hold fails, and the caller's pipefail survives.
# Usage: e2e_lib_test.sh REPO_ROOT
set -uo pipefail
root=$1
source "$root/tests/lib/e2e.sh"
work=$(scratch_dir)
seq 1 200000 >"$work/big.txt"

# judge CONDITION: what check prints for it, run in a shell set up as the tests are.
judge() {
  bash -c 'set -uo pipefail; source "$1/tests/lib/e2e.sh"; check probe "$2"; [[ -o pipefail ]] && echo "pipefail kept"' \
    _ "$root" "$1" 2>&1
}
early_exit='sed -n "1,\$p" "'"$work"'/big.txt" | grep -q "^5$"'
check "the pipe itself fails under pipefail (SIGPIPE), so the probe below means something" \
  '! bash -c "set -o pipefail; $early_exit"'
check "check passes a condition whose grep -q ends the pipe early" 'judge "$early_exit" | grep -qx "ok: probe"'
check "wait_for returns as soon as such a condition holds" \
  'bash -c '\''source "$1/tests/lib/e2e.sh"; set -o pipefail; wait_for "$2" 1'\'' _ "$root" "$early_exit"'
check "check fails a condition that does not hold" 'judge "grep -q absent \"$work/big.txt\"" | grep -qx "FAILED: probe"'
check "the caller keeps pipefail" 'judge true | grep -qx "pipefail kept"'
finish
