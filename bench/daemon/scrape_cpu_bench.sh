#!/usr/bin/env bash
# fiberleakd's own CPU use scraping 50 targets every second: 25 point at a
# fiberleak demo, 25 at a leaking Go service (both on loopback). Reports the
# daemon's user+system CPU over the run as a share of one core.
# Target: under 10% of one core. Usage: scrape_cpu_bench.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$1
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export HOME=$work GOCACHE=$work/gocache GOPATH=$work/gopath GO111MODULE=off
go build -o "$work/leaky" "$here/../../tests/daemon/testdata/leaky_go/main.go"
"$work/leaky" -leaks 20 >"$work/go.addr" 2>&1 & pids+=($!)
demo_port=$(free_port)
"$build/daemon/fiberleakd" demo --listen 127.0.0.1:$demo_port >/dev/null 2>&1 & pids+=($!)
sleep 2
go_url="http://$(sed 's/listening on //' "$work/go.addr")"
{
  echo '{"listen": "127.0.0.1:0", "log_level": "error", "defaults": {"interval": "1s", "timeout": "1s"}, "targets": ['
  for i in $(seq 50); do
    url=$([[ $((i % 2)) -eq 0 ]] && echo "http://127.0.0.1:$demo_port" || echo "$go_url")
    echo "{\"name\": \"t$i\", \"url\": \"$url\"}$([[ $i -lt 50 ]] && echo ,)"
  done
  echo ']}'
} >"$work/config.json"
"$build/daemon/fiberleakd" scrape --config "$work/config.json" >/dev/null 2>&1 & side=$!; pids+=($side)
sleep 2
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$side/stat"; }
before=$(cpu)
sleep "$seconds"
after=$(cpu)
awk -v b="$before" -v a="$after" -v t="$ticks" -v s="$seconds" 'BEGIN {
  share = (a - b) / t / s * 100
  printf "fiberleakd scraping 50 targets every 1 s for %d s: %.1f%% of one core (target < 10%%)\n", s, share }'
