# Shared by the end-to-end shell tests (source it; bash only):
#   check NAME CONDITION     evaluates CONDITION, prints "ok: NAME" or "FAILED: NAME";
#                            after a failure it calls on_failure NAME if the test defines it
#                            (to capture state at that moment)
#   wait_for CONDITION [S]   polls CONDITION every 0.2 s until it holds (default 20 s)
#                            Both evaluate CONDITION without pipefail: in `sed ... | grep -q X`
#                            grep ends at the first match and sed's SIGPIPE must not fail it.
#   free_port                a TCP port free on 127.0.0.1 now
#   scratch_dir              a temporary directory removed at exit (also from `d=$(scratch_dir)`)
#   track_pid PID            a process killed at exit
#   finish [FILE...]         if any check failed: the last lines of each FILE that exists,
#                            the failures again, exit 1; else prints PASS and exits 0
# Every test ends with `finish`, so that a truncated CI log still shows what failed.
e2e_failures=()
e2e_pids=()
# Scratch directories live under one root made here: scratch_dir usually runs
# in a $(...) subshell, which cannot add to a list the exit trap reads.
e2e_root=$(mktemp -d)

# Locals are prefixed: a condition may set variables of the caller's (rc, ...).
e2e_holds() {
  local e2e_had_pipefail=0 e2e_rc
  [[ -o pipefail ]] && e2e_had_pipefail=1
  set +o pipefail
  eval "$1"
  e2e_rc=$?
  ((e2e_had_pipefail)) && set -o pipefail
  return $e2e_rc
}

check() {
  if e2e_holds "$2"; then
    echo "ok: $1"
  else
    echo "FAILED: $1"
    e2e_failures+=("$1")
    if declare -F on_failure >/dev/null; then on_failure "$1"; fi
  fi
}

wait_for() {
  local i
  for ((i = 0; i < ${2:-20} * 5; i++)); do
    e2e_holds "$1" && return 0
    sleep 0.2
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

scratch_dir() { mktemp -d "$e2e_root/XXXXXX"; }

track_pid() { e2e_pids+=("$1"); }

e2e_cleanup() {
  local p
  disown -a  # no "Killed" notice for each
  for p in "${e2e_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$e2e_root"
}
trap e2e_cleanup EXIT

finish() {
  local f
  if [[ ${#e2e_failures[@]} -gt 0 ]]; then
    for f in "$@"; do
      [[ -e $f ]] || continue
      echo "--- $f (last 30 lines):"
      tail -n 30 "$f" | head -c 4000
      echo
    done
    printf '\n%d check(s) failed:\n' "${#e2e_failures[@]}"
    printf '  FAILED: %s\n' "${e2e_failures[@]}"
    exit 1
  fi
  echo "PASS"
  exit 0
}
