#!/usr/bin/env bash
# fiberleakd against targets and a webhook that hold on (fake_target.py):
# `check` on a target that drips its answer ends with exit 2 within 40 s
# (its 30 s default timeout); `scrape` reports such targets as timed out,
# keeps scraping the demo while its webhook never answers, and exits within
# 2 s of SIGTERM with every scrape and post still in flight.
# Usage: hostile_targets_test.sh path/to/fiberleakd
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/e2e.sh"
work=$(scratch_dir)

python3 "$here/fake_target.py" "$work/fake.port" & track_pid $!
demo_port=$(free_port)
"$bin" demo --listen 127.0.0.1:$demo_port --threshold 1s >"$work/demo.log" 2>&1 & track_pid $!
wait_for '[[ -s $work/fake.port ]] && curl -sf http://127.0.0.1:$demo_port/healthz >/dev/null'
fake="http://127.0.0.1:$(cat "$work/fake.port")"

# The sidecar first, so that it runs while check waits out its 30 s.
side_port=$(free_port)
cat >"$work/config.json" <<JSON
{
  "listen": "127.0.0.1:$side_port",
  "webhook_url": "$fake/hang/hook",
  "defaults": {"interval": "2s", "timeout": "2s"},
  "rules": {"threshold": "1s"},
  "targets": [
    {"name": "demo", "url": "http://127.0.0.1:$demo_port"},
    {"name": "drip1", "url": "$fake/drip"},
    {"name": "drip2", "url": "$fake/drip", "kind": "go"},
    {"name": "gzip", "url": "$fake/gzip", "kind": "fiberleak"}
  ]
}
JSON
"$bin" scrape --config "$work/config.json" >"$work/side.log" 2>&1 & side=$!; track_pid $side
side_url="http://127.0.0.1:$side_port"
wait_for 'curl -sf $side_url/healthz >/dev/null'

start=$(date +%s.%N)
"$bin" check "$fake/drip" >"$work/check.out" 2>"$work/check.err"; rc=$?
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "check on a dripping target: exit $rc after $took s: $(cat "$work/check.err")"
check "check on a dripping target exits 2" '[[ $rc -eq 2 ]]'
check "within 40 s ($took s)" 'awk -v t="$took" "BEGIN { exit !(t < 40) }"'
check "saying it timed out" 'grep -q "timed out after 30.0s" "$work/check.err"'

field() {
  curl -s "$side_url/api/targets" |
    python3 -c "import json,sys; t={x['name']:x for x in json.load(sys.stdin)['targets']}; print(t['$1']['$2'])"
}
check "a dripping target is down, timed out, and its scrapes are counted" \
  'wait_for "[[ \$(field drip1 error) == \"timed out after 2.0s\" && \$(field drip1 scrapes) -ge 2 ]]"'
check "so is one read as a Go target" 'wait_for "[[ \$(field drip2 error) == \"timed out after 2.0s\" ]]"'
check "a compressed answer is refused" 'wait_for "field gzip error | grep -q Content-Encoding"'
check "the demo is scraped again and again while the webhook never answers" \
  'wait_for "[[ \$(field demo up) == True && \$(field demo scrapes) -ge 8 ]]" 40'
curl -s "$side_url/metrics" >"$work/metrics.txt"
check "promtool accepts /metrics" 'promtool check metrics <"$work/metrics.txt"'
check "/metrics counts the webhook's queue" 'grep -q "^fiberleakd_webhook_queued " "$work/metrics.txt"'
check "a down target has no leak suspects sample" \
  '! grep -q "fiberleakd_leak_suspects{target=\"drip1\"" "$work/metrics.txt" &&
   grep -q "fiberleakd_leak_suspects{target=\"demo\"}" "$work/metrics.txt"'

# Stop it with scrapes in flight: both drip targets are always mid-scrape.
kill -TERM $side
start=$(date +%s.%N)
wait_for '! kill -0 $side 2>/dev/null' 10
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
echo "scrape exited $took s after SIGTERM"
check "SIGTERM stops scrape within 2 s ($took s)" \
  '! kill -0 $side 2>/dev/null && awk -v t="$took" "BEGIN { exit !(t < 2) }"'
finish "$work/side.log" "$work/check.err"
