#!/usr/bin/env bash
# fiberleakd as a fleet daemon: TARGETS fake fiberleak targets on loopback
# (tests/daemon/fleet_fake.py, one process; each answers the demo's real
# /debug/fibers document) discovered from a file_sd file, each scraped
# every INTERVAL s.
#   steady: the daemon's CPU (share of one core, and per target and per
#           scrape), RSS and threads over STEADY s;
#   churn:  the file then replaces CHURN targets every REFRESH s, REFRESHES
#           times; RSS and threads after each refresh show whether removed
#           targets leak memory or threads.
# With --check it exits 1 when threads or RSS keep growing over the churn
# (the short form runs in ctest: tests/daemon/CMakeLists.txt).
# Usage: fleet_bench.sh BUILD_DIR [TARGETS=500 INTERVAL=15 STEADY=60 CHURN=100 REFRESHES=8 REFRESH=15] [--check]
set -euo pipefail
check=0
args=()
for a in "$@"; do [[ $a == --check ]] && check=1 || args+=("$a"); done
build=${args[0]}
targets=${args[1]:-500}
interval=${args[2]:-15}
steady=${args[3]:-60}
churn=${args[4]:-100}
refreshes=${args[5]:-8}
refresh=${args[6]:-15}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/daemon/fiberleakd
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { local i; for ((i = 0; i < 100; i++)); do eval "$1" && return 0; sleep 0.2; done; return 1; }

# A real document: the demo's.
demo_port=$(free_port)
"$bin" demo --listen 127.0.0.1:$demo_port >/dev/null 2>&1 & pids+=($!)
# its fibers all started: tens of KB
wait_for "curl -sf -o '$work/body.json' 'http://127.0.0.1:$demo_port/debug/fibers?stacks=shared' && [[ \$(stat -c %s '$work/body.json') -gt 20000 ]]"
kill "${pids[0]}"
pool=$((targets + churn))
python3 "$here/../../tests/daemon/fleet_fake.py" "$work/ports" "$pool" --body "$work/body.json" \
  --lifetime $((steady + refreshes * refresh + 120)) & pids+=($!)
wait_for "[[ -s '$work/ports' ]]"
mapfile -t port <"$work/ports"
# write_sd FIRST: the targets port[FIRST..FIRST+TARGETS) of the pool, wrapping around.
write_sd() {
  local i list=""
  for ((i = 0; i < targets; i++)); do list+="${list:+,}\"127.0.0.1:${port[$((($1 + i) % pool))]}\""; done
  echo "[{\"targets\": [$list], \"labels\": {\"env\": \"bench\", \"__kind__\": \"fiberleak\"}}]" >"$work/sd.tmp"
  mv "$work/sd.tmp" "$work/sd.json"
}
write_sd 0
side_port=$(free_port)
cat >"$work/config.json" <<JSON
{"listen": "127.0.0.1:$side_port", "log_level": "warn",
 "defaults": {"interval": "${interval}s", "timeout": "5s"},
 "rules": {"threshold": "30s"},
 "file_sd": [{"files": ["$work/sd.json"], "refresh_interval": "5m"}]}
JSON
"$bin" scrape --config "$work/config.json" >/dev/null 2>"$work/daemon.log" & side=$!; pids+=($side)
metrics() { curl -sf --max-time 10 "http://127.0.0.1:$side_port/metrics"; }
count_up() { metrics | grep -c '^fiberleakd_target_up{.* 1$' || true; }
scrapes() { metrics | awk '/^fiberleakd_scrapes_total/ {s += $2} END {print s + 0}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$side/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$side/status"; }
# The threads that stay: the fewest over a second (a scrape in flight has a
# deadline thread of its own for its duration).
threads_kept() {
  local i n min=1000000
  for ((i = 0; i < 10; i++)); do n=$(threads); ((n < min)) && min=$n; sleep 0.1; done
  echo "$min"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$side/stat"; }
ticks=$(getconf CLK_TCK)
wait_for "[[ \$(count_up) -ge $targets ]]" || { echo "only $(count_up) of $targets targets up"; tail "$work/daemon.log"; exit 1; }

sleep "$interval"  # one whole round before measuring
c0=$(cpu_ticks); s0=$(scrapes); t0=$(date +%s.%N)
max_threads=0
for ((i = 0; i < steady; i++)); do
  sleep 1
  n=$(threads); ((n > max_threads)) && max_threads=$n
done
c1=$(cpu_ticks); s1=$(scrapes); t1=$(date +%s.%N)
awk -v c="$((c1 - c0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" -v n="$targets" -v s="$((s1 - s0))" \
    -v iv="$interval" -v rss="$(rss_kb)" -v th="$(threads)" -v mth="$max_threads" -v body="$(stat -c %s "$work/body.json")" 'BEGIN {
  secs = t1 - t0; cpu = c / hz
  printf "steady: %d targets every %d s (%d-byte documents), %.0f s: %.2f%% of one core, %.4f%% per target, %.2f ms CPU per scrape (%d scrapes); RSS %.1f MiB (%.1f KiB per target); threads %d (peak %d)\n",
    n, iv, body, secs, cpu / secs * 100, cpu / secs * 100 / n, s ? cpu * 1000 / s : 0, s, rss / 1024, rss / n, th, mth }'

# Churn: each refresh takes CHURN targets out and CHURN others in.
first_rss=0; first_threads=0; last_rss=0; last_threads=0
for ((r = 1; r <= refreshes; r++)); do
  write_sd $((r * churn))
  sleep "$((refresh > 1 ? refresh - 1 : refresh))"
  last_rss=$(rss_kb); last_threads=$(threads_kept)
  if ((r == 2)); then first_rss=$last_rss; first_threads=$last_threads; fi  # after a warm-up refresh
  echo "churn refresh $r: $(count_up) targets up, RSS $((last_rss / 1024)) MiB, threads kept $last_threads"
done
awk -v a="$first_rss" -v b="$last_rss" -v ta="$first_threads" -v tb="$last_threads" -v r="$refreshes" -v c="$churn" 'BEGIN {
  printf "churn: %d targets replaced at each of %d refreshes: RSS %.1f -> %.1f MiB (%+.1f%%) from refresh 2 to %d; threads %d -> %d\n",
    c, r, a / 1024, b / 1024, (b - a) * 100 / a, r, ta, tb }'
if ((check)); then
  # Bounded: no more threads than targets plus the scrapes in flight and the
  # server's, and RSS within a quarter (allocator noise) of where it stood.
  ok=1
  ((last_threads <= first_threads + targets / 4 + 8)) || { echo "FAILED: threads grew: $first_threads -> $last_threads"; ok=0; }
  ((last_threads <= 2 * targets + 48)) || { echo "FAILED: $last_threads threads for $targets targets"; ok=0; }
  ((last_rss <= first_rss + first_rss / 4 + 4096)) || { echo "FAILED: RSS grew: $first_rss -> $last_rss KiB"; ok=0; }
  ((ok)) && echo PASS || { tail -20 "$work/daemon.log"; exit 1; }
fi
