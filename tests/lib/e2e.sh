# Shared by the end-to-end shell tests (source it; bash only):
#   check NAME CONDITION     evaluates CONDITION, prints "ok: NAME" or "FAILED: NAME"
#   wait_for CONDITION [S]   polls CONDITION every 0.2 s until it holds (default 20 s)
#   free_port                a TCP port free on 127.0.0.1 now
#   scratch_dir              a temporary directory removed at exit
#   track_pid PID            a process killed at exit
#   finish                   prints the failures again and exits 1 if any check failed
# Every test ends with `finish`, so that a truncated CI log still shows what failed.
e2e_failures=()
e2e_pids=()
e2e_dirs=()

check() {
  if eval "$2"; then
    echo "ok: $1"
  else
    echo "FAILED: $1"
    e2e_failures+=("$1")
  fi
}

wait_for() {
  local i
  for ((i = 0; i < ${2:-20} * 5; i++)); do
    eval "$1" && return 0
    sleep 0.2
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

scratch_dir() {
  local d
  d=$(mktemp -d)
  e2e_dirs+=("$d")
  echo "$d"
}

track_pid() { e2e_pids+=("$1"); }

e2e_cleanup() {
  local p
  for p in "${e2e_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${e2e_dirs[@]}"; do rm -rf "$p"; done
}
trap e2e_cleanup EXIT

finish() {
  if [[ ${#e2e_failures[@]} -gt 0 ]]; then
    printf '\n%d check(s) failed:\n' "${#e2e_failures[@]}"
    printf '  FAILED: %s\n' "${e2e_failures[@]}"
    exit 1
  fi
  echo "PASS"
  exit 0
}
