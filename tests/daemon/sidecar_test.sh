#!/usr/bin/env bash
# fiberleakd scrape end to end: a fiberleak target (the demo), a real Go
# service, misbehaving targets (hang, 500, garbage, 100 MB, truncated,
# reset, down), promtool on /metrics, and a real Prometheus scraping it.
# Usage: sidecar_test.sh path/to/fiberleakd
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/e2e.sh"
work=$(scratch_dir)
# /api/targets at the first failure, shown again by finish.
on_failure() {
  [[ -s $work/targets_at_failure.json ]] || curl -s --max-time 2 "${side_url:-http://0}/api/targets" >"$work/targets_at_failure.json"
}

export HOME=$work GOCACHE=$work/gocache GOPATH=$work/gopath GO111MODULE=off
check "go build" 'go build -o "$work/leaky" "$here/testdata/leaky_go/main.go"'
[[ -x $work/leaky ]] || finish
"$work/leaky" -leaks 2 >"$work/go.addr" 2>&1 & go_pid=$!; track_pid $go_pid
demo_port=$(free_port)
"$bin" demo --listen 127.0.0.1:$demo_port --threshold 2s >"$work/demo.log" 2>&1 & track_pid $!
python3 "$here/fake_target.py" "$work/fake.port" & track_pid $!
wait_for '[[ -s $work/fake.port ]] && grep -q listening "$work/go.addr" && curl -sf http://127.0.0.1:$demo_port/healthz >/dev/null'
fake="http://127.0.0.1:$(cat "$work/fake.port")"
go_url="http://$(sed 's/listening on //' "$work/go.addr")"
dead_port=$(free_port)
side_port=$(free_port)
hook_port=$(free_port)
# A webhook receiver (webhook_sink.py): every POSTed body a line of hooks.jsonl.
python3 "$here/webhook_sink.py" "$hook_port" "$work/hooks.jsonl" 240 & track_pid $!

cat >"$work/config.json" <<JSON
{
  "listen": "127.0.0.1:$side_port",
  "log_level": "info",
  "max_body_bytes": 10485760,
  "webhook_url": "http://127.0.0.1:$hook_port/hook",
  "defaults": {"interval": "1s", "timeout": "1s"},
  "rules": {"threshold": "2s", "ignore_names": ["demo-main", "scheduler-main"]},
  "targets": [
    {"name": "demo", "url": "http://127.0.0.1:$demo_port", "labels": {"team": "payments"}},
    {"name": "go", "url": "$go_url", "rules": {"threshold": "0s",
       "ignore_top_functions": ["internal/poll.runtime_pollWait"],
       "ignore_any_functions": ["main.ticker", "main.main.func1"]}},
    {"name": "hang", "url": "$fake/hang", "interval": "3s", "timeout": "2s"},
    {"name": "err500", "url": "$fake/500"},
    {"name": "garbage", "url": "$fake/garbage"},
    {"name": "huge", "url": "$fake/huge"},
    {"name": "truncated", "url": "$fake/truncated"},
    {"name": "reset", "url": "$fake/reset"},
    {"name": "down", "url": "http://127.0.0.1:$dead_port"}
  ]
}
JSON
wait_for 'curl -s -o /dev/null -X POST -d "{}" http://127.0.0.1:$hook_port/ready' && rm -f "$work/hooks.jsonl"
"$bin" scrape --config "$work/config.json" >"$work/side.log" 2>&1 & side=$!; track_pid $side
side_url="http://127.0.0.1:$side_port"
wait_for 'curl -sf $side_url/healthz >/dev/null'
# Until both leaking targets' findings have been seen in two scrapes
# (ongoing): the checks below read the findings, the log and /metrics once.
# leaks TARGET LIFECYCLE: its findings in that life cycle (Go: at the leaky functions only).
leaks() {
  curl -s "$side_url/api/findings" | python3 -c "import json,sys
print(sum(f['target'] == '$1' and f['lifecycle'] == '$2' and ('$1' != 'go' or f['function'] in
          ('main.receiveForever', 'main.sendAfterTimeout', 'main.lockForever')) for f in json.load(sys.stdin)['findings']))"
}
ongoing() { leaks "$1" ongoing; }
wait_for '[[ $(ongoing go) -ge 6 && $(ongoing demo) -ge 6 ]]' 60
curl -s "$side_url/api/findings" >"$work/findings.json"
curl -s "$side_url/metrics" >"$work/metrics.txt"
# field NAME KEY: a target's field as /api/targets reports it now. Scrapes go
# on every second and a loaded machine can make one slow (or catch the Go
# server in one of its own short waits), so checks of a target's state wait
# for it to hold instead of reading one moment.
field() {
  curl -s "$side_url/api/targets" |
    python3 -c "import json,sys; t={x['name']:x for x in json.load(sys.stdin)['targets']}; print(t['$1']['$2'])"
}
is() { [[ "$(field "$1" "$2")" == "$3" ]]; }          # is NAME KEY VALUE
error_has() { field "$1" error | grep -q "$2"; }       # error_has NAME TEXT

check "the daemon is still serving" 'kill -0 $side 2>/dev/null'
check "the demo target is up and detected as fiberleak" 'wait_for "is demo up True && is demo kind fiberleak"'
check "the Go target is up and detected as go" 'wait_for "is go up True && is go kind go"'
check "the Go target's leaks are counted exactly (2 x 3 patterns)" 'wait_for "is go leak_suspects 6"'
check "the demo's leaks are flagged" 'wait_for "[[ \$(field demo leak_suspects) -ge 6 ]]"'
for t in hang err500 garbage huge truncated reset down; do
  check "target $t is down with an error" 'wait_for "is $t up False && [[ -n \$(field $t error) ]]"'
done
check "the hanging target timed out" 'wait_for "error_has hang \"timed out\""'
# Its own 2 s, not the defaults' 1 s nor httplib's 5 s.
check "the hanging target's scrape took its own timeout (2 s)" \
  'wait_for "field hang scrape_seconds | python3 -c \"import sys; sys.exit(not 1.9 <= float(sys.stdin.read()) < 4)\""'
check "the 500 target says HTTP 500" 'wait_for "error_has err500 \"HTTP 500\""'
check "the garbage target says bad fiberleak JSON (auto tries fiberleak first)" 'wait_for "error_has garbage \"bad fiberleak JSON\""'
check "the huge target hit the body limit" 'wait_for "error_has huge \"larger than\""'
check "the truncated dump is reported as truncated" 'wait_for "error_has truncated truncated"'
check "the down target cannot connect" 'wait_for "error_has down \"cannot connect\""'
check "findings have a life cycle" 'grep -q "\"lifecycle\": \"ongoing\"" "$work/findings.json"'
# Threshold 0s also catches the Go server's own short waits: count the leaks.
# One line per park site: the Go target's 6 leaks, each fiber counted once.
go_logged=$(grep -o "target go: leak suspect: [0-9]* fibers\? at [^,:]*@ main\.[^ ]*" "$work/side.log")
check "findings are logged once when they appear, one line per site" \
  '[[ -n $go_logged && $(awk "{n += \$5} END {print n}" <<<"$go_logged") -eq 6 && -z $(sort <<<"$go_logged" | uniq -d) ]]'
check "a growing site is reported for the demo" 'wait_for "curl -s $side_url/metrics | grep -q fiberleakd_growing_site_fibers{target=\\\"demo\\\"" '
check "/metrics carries the config labels" 'grep -q "fiberleakd_leak_suspects{target=\"demo\",team=\"payments\"}" "$work/metrics.txt"'
check "the webhook received the new findings" '[[ $(grep -c "\"lifecycle\":\"new\"" "$work/hooks.jsonl") -ge 6 ]] && grep -q "\"target\":\"demo\"" "$work/hooks.jsonl" && grep -q "main.receiveForever" "$work/hooks.jsonl"'
check "promtool accepts /metrics" 'promtool check metrics <"$work/metrics.txt"'

# A real Prometheus scrapes the sidecar; its query API returns the leak metric.
prom_port=$(free_port)
cat >"$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: fiberleakd
    static_configs: [{targets: ["127.0.0.1:$side_port"]}]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prom.log" 2>&1 & track_pid $!
query="http://127.0.0.1:$prom_port/api/v1/query?query=fiberleakd_leak_suspects%7Btarget%3D%22go%22%7D"
check "Prometheus's query API returns fiberleakd_leak_suspects for the Go target" \
  'wait_for "curl -s \"$query\" | grep -q \"\\\"value\\\":\\[[0-9.]*,\\\"6\\\"\\]\"" 60'

# A restart of a target resolves its findings: the same Go program started
# again on its port.
check "the Go target has not restarted yet" 'is go restarts 0 && [[ $(leaks go resolved) -eq 0 ]]'
kill $go_pid
check "a stopped target is marked down" 'wait_for "is go up False"'
"$work/leaky" -leaks 2 -listen "${go_url#http://}" >"$work/go2.addr" 2>&1 & track_pid $!
check "the Go program starts again on its port" 'wait_for "grep -q \"listening on ${go_url#http://}\" \"$work/go2.addr\""'
check "the restart is noticed once" 'wait_for "is go up True && is go restarts 1" 30'
check "the restart resolves the first process's 6 findings" '[[ $(leaks go resolved) -eq 6 ]]'
check "the restart is logged" 'grep -q "target go: restarted" "$work/side.log"'
check "the new process's leaks are found again, as new findings" \
  'wait_for "is go leak_suspects 6 && [[ \$(ongoing go) -eq 6 ]]" 30'
check "the restart stays one restart" 'is go restarts 1'

kill -INT $side
wait_for '! kill -0 $side 2>/dev/null'
check "SIGINT stops the sidecar" '! kill -0 $side 2>/dev/null'

# Config validation: every broken field at once, exit 2, nothing started.
cat >"$work/bad.json" <<'JSON'
{"listen": "nowhere", "log_level": "loud", "rules": {"threshold": "soon", "growing_evaluations": 0},
 "targets": [{"name": "a", "url": "ftp://x", "kind": "rust", "interval": "1s", "timeout": "5s"},
             {"name": "a", "url": "http://127.0.0.1:1", "labels": {"x": 1}, "extra": true}]}
JSON
"$bin" scrape --config "$work/bad.json" 2>"$work/bad.err"; rc=$?
check "a broken config exits 2" '[[ $rc -eq 2 ]]'
for key in "listen:" "log_level:" "rules.threshold:" "rules.growing_evaluations:" "targets\[0\].url:" \
             "targets\[0\].kind:" "targets\[0\].timeout:" "targets\[1\].name: duplicate" "targets\[1\].labels.x:" \
             "targets\[1\].extra: unknown field"; do
  check "the config error names $key" 'grep -q "$key" "$work/bad.err"'
done
"$bin" scrape --config "$work/missing.json" 2>/dev/null; rc=$?
check "a missing config file exits 2" '[[ $rc -eq 2 ]]'
finish "$work/side.log" "$work/targets_at_failure.json"
