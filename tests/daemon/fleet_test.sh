#!/usr/bin/env bash
# fiberleakd scrape as a fleet daemon, end to end: targets from file_sd files
# and an http_sd server follow their sources within one refresh interval;
# bad discovery input keeps the last good targets and says why; discovery
# labels reach /metrics and the webhook; SIGHUP and POST /-/reload apply a
# config without a flood of new/resolved findings, and a bad one changes
# nothing and says why (log, HTTP answer, metric); --log-format json and the
# journal's line format.
# Usage: fleet_test.sh path/to/fiberleakd
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/e2e.sh"
work=$(scratch_dir)
on_failure() {
  [[ -s $work/targets_at_failure.json ]] || curl -s --max-time 2 "${side:-http://0}/api/targets" >"$work/targets_at_failure.json"
}

python3 "$here/fleet_fake.py" "$work/ports" 7 --sd "$work/http_sd.json" --lifetime 170 & track_pid $!
hook_port=$(free_port)
python3 "$here/webhook_sink.py" "$hook_port" "$work/hooks.jsonl" 170 & track_pid $!
wait_for '[[ -s $work/ports ]]'
mapfile -t port <"$work/ports"
addr() { echo "127.0.0.1:${port[$1]}"; }
side_port=$(free_port)
side=http://127.0.0.1:$side_port
mkdir -p "$work/sd"

# file_sd: targets 1 and 2 (env=prod); http_sd (served from target 0's /sd): target 3 (zone=b).
group() {  # group LABELS_JSON ADDR...
  local labels=$1 list="" a
  shift
  for a in "$@"; do list+="${list:+,}\"$a\""; done
  echo "{\"targets\": [$list], \"labels\": $labels}"
}
write_sd() {  # atomically, as a discovery system does
  echo "$2" >"$1.tmp" && mv "$1.tmp" "$1"
}
write_sd "$work/sd/a.json" "[$(group '{"env": "prod", "__kind__": "fiberleak"}' "$(addr 1)" "$(addr 2)")]"
write_sd "$work/http_sd.json" "[$(group '{"zone": "b"}' "$(addr 3)")]"
config() {  # config EXTRA_TOP_LEVEL_FIELDS
  cat <<JSON
{
  "listen": "127.0.0.1:$side_port",
  "webhook_url": "http://127.0.0.1:$hook_port/hook",
  "defaults": {"interval": "1s", "timeout": "1s"},
  "rules": {"threshold": "2s"},
  "file_sd": [{"files": ["$work/sd/*.json"], "refresh_interval": "5s"}],
  "http_sd": [{"url": "http://$(addr 0)/sd", "refresh_interval": "2s"}]$1
}
JSON
}
config "" >"$work/config.json"
"$bin" scrape --config "$work/config.json" >"$work/out.log" 2>"$work/daemon.log" & pid=$!; track_pid $pid

metrics() { curl -sf --max-time 5 "$side/metrics"; }
up_line() { metrics | grep "^fiberleakd_target_up{target=\"$1\"" ; }
# wait_gone/wait_here ADDR SECONDS: the target's series leaves / reaches /metrics in time
wait_here() { wait_for "up_line $1 | grep -q ' 1\$'" "$2"; }
wait_gone() { wait_for "! metrics | grep -q 'target=\"$1\"'" "$2"; }

check "file_sd and http_sd targets are scraped" 'wait_here "$(addr 1)" 10 && wait_here "$(addr 2)" 5 && wait_here "$(addr 3)" 5'
check "file_sd labels reach /metrics, meta labels do not" \
  'up_line "$(addr 1)" | grep -q "env=\"prod\"" && ! metrics | grep -q "__kind__"'
check "http_sd labels reach /metrics" 'up_line "$(addr 3)" | grep -q "zone=\"b\""'
check "http_sd sends Prometheus' refresh interval header" '[[ $(cat "$work/http_sd.json.asked") == 2 ]]'
check "discovery labels reach the webhook's posts" \
  'wait_for "grep \"\\\"target\\\":\\\"$(addr 1)\\\"\" \"$work/hooks.jsonl\" | grep -q \"\\\"labels\\\":{\\\"env\\\":\\\"prod\\\"}\"" 10'
check "discovery labels reach /api/findings" \
  'curl -sf "$side/api/findings" | python3 -c "import json,sys; f=json.load(sys.stdin)[\"findings\"]; sys.exit(not any(x[\"labels\"].get(\"zone\")==\"b\" for x in f))"'

# The file gains target 4 and loses target 2: followed within its refresh interval (5 s).
write_sd "$work/sd/a.json" "[$(group '{"env": "prod"}' "$(addr 1)" "$(addr 4)")]"
check "a file_sd file that gains a target is followed within its refresh interval" 'wait_here "$(addr 4)" 5'
check "a file_sd file that loses a target takes its series away" 'wait_gone "$(addr 2)" 5'
# http_sd gains target 5 and loses target 3 within its refresh interval (2 s) and a scrape.
write_sd "$work/http_sd.json" "[$(group '{"zone": "c"}' "$(addr 5)")]"
check "an http_sd answer that gains a target is followed within its refresh interval" 'wait_here "$(addr 5)" 4'
check "an http_sd answer that loses a target takes its series away" 'wait_gone "$(addr 3)" 4'

# Bad discovery input: a file that is no JSON, an http_sd answer that is no JSON,
# one that is not application/json, then one too large.
echo '[{"targets": ["127.0.0.1:1"' >"$work/sd/b.json"
check "a broken file_sd file is logged with its problem" \
  'wait_for "grep -q \"file_sd $work/sd/b.json: 1 problem.*stay\" \"$work/daemon.log\"" 5'
head -c 5000000 /dev/zero | tr '\0' ' ' >"$work/sd/huge.json"
mkfifo "$work/sd/fifo.json"
check "a file_sd file larger than the limit is refused unread" \
  'wait_for "grep -A1 \"file_sd $work/sd/huge.json: 1 problem\" \"$work/daemon.log\" | grep -q \"larger than 4194304 bytes\"" 5'
check "a FIFO where a file should be is refused, never waited on" \
  'wait_for "grep -A1 \"file_sd $work/sd/fifo.json: 1 problem\" \"$work/daemon.log\" | grep -q \"not a regular file\"" 5'
rm -f "$work/sd/huge.json" "$work/sd/fifo.json"
echo 'nonsense' >"$work/http_sd.json"
check "a broken http_sd answer is logged with its problem" \
  'wait_for "grep -A1 \"http_sd http://$(addr 0)/sd: 1 problem\" \"$work/daemon.log\" | grep -q \"not valid JSON\"" 5'
# Its last good document again, as HTML: refused for the type alone.
echo 'text/html; charset=utf-8' >"$work/http_sd.json.type"
write_sd "$work/http_sd.json" "[$(group '{"zone": "c"}' "$(addr 5)")]"
check "an http_sd answer that is not application/json is refused, as Prometheus refuses it" \
  'wait_for "grep -A1 \"http_sd http://$(addr 0)/sd: 1 problem\" \"$work/daemon.log\" | grep -q \"answered with Content-Type text/html; charset=utf-8; http_sd needs application/json\"" 5'
rm -f "$work/http_sd.json.type"
head -c 5000000 /dev/zero | tr '\0' ' ' >"$work/http_sd.json"
check "an http_sd answer larger than the limit is refused" \
  'wait_for "grep -A1 \"http_sd http://$(addr 0)/sd\" \"$work/daemon.log\" | grep -q \"larger than the limit\"" 5'
check "bad discovery input is counted" \
  'metrics | grep -q "fiberleakd_sd_failures_total{mechanism=\"file\"} [1-9]" && metrics | grep -q "fiberleakd_sd_failures_total{mechanism=\"http\"} [1-9]"'
check "the last good targets of both stay" 'up_line "$(addr 5)" | grep -q " 1$" && up_line "$(addr 4)" | grep -q " 1$"'
rm -f "$work/sd/b.json"
write_sd "$work/http_sd.json" "[$(group '{"zone": "c"}' "$(addr 5)")]"
check "the daemon runs on" 'kill -0 $pid'

# SIGHUP with a static target added: it appears; the others keep their findings (no new or resolved post).
posts_before=$(wc -l <"$work/hooks.jsonl")
config ', "targets": [{"name": "static6", "url": "http://'"$(addr 6)"'", "labels": {"team": "core"}}]' >"$work/config.json"
kill -HUP $pid
check "SIGHUP reloads the config: the new static target is scraped" \
  'wait_for "metrics | grep -q \"fiberleakd_target_up{target=\\\"static6\\\",team=\\\"core\\\"} 1\"" 5'
sleep_until_scraped() { wait_for "[[ \$(curl -sf $side/api/targets | grep -c '\"scrapes\"') -ge 4 ]]" 5; }
sleep_until_scraped
wait_for "grep -q '\"target\":\"static6\"' '$work/hooks.jsonl'" 5
sleep 2  # two more scrapes of every target: any flood of findings would show now
check "after a reload, the targets that stayed post no new and no resolved finding" \
  '[[ $(tail -n +$((posts_before + 1)) "$work/hooks.jsonl" | grep -vc "\"target\":\"static6\"") -eq 0 ]]'
check "the last reload is reported successful" 'metrics | grep -q "^fiberleakd_config_last_reload_successful 1$"'

# A bad config through POST /-/reload: 500 with every problem, nothing changes, the metric says so.
cp "$work/config.json" "$work/good.json"
echo '{"listen": "127.0.0.1:1", "targets": [{"name": "x", "url": "ftp://x"}], "bogus": 1}' >"$work/config.json"
code=$(curl -s -o "$work/reload.txt" -w '%{http_code}' -X POST "$side/-/reload")
check "POST /-/reload of a bad config answers 500" '[[ $code == 500 ]]'
check "and names every problem" \
  'grep -q "bogus: unknown field" "$work/reload.txt" && grep -q "targets\[0\].url" "$work/reload.txt"'
check "the log names every problem too" \
  'grep -q "reload: 2 problems; the running config stays" "$work/daemon.log" && grep -q "  bogus: unknown field" "$work/daemon.log"'
check "fiberleakd_config_last_reload_successful is 0" 'metrics | grep -q "^fiberleakd_config_last_reload_successful 0$"'
check "the old config runs on" 'up_line static6 | grep -q " 1$" && up_line "$(addr 5)" | grep -q " 1$"'
ts_before=$(metrics | sed -n 's/^fiberleakd_config_last_reload_success_timestamp_seconds //p')
sleep 1
cp "$work/good.json" "$work/config.json"
code=$(curl -s -o "$work/reload.txt" -w '%{http_code}' -X POST "$side/-/reload")
check "POST /-/reload of a good config answers 200" '[[ $code == 200 ]]'
check "and the metrics say it was applied, later" \
  'metrics | grep -q "^fiberleakd_config_last_reload_successful 1$" &&
   [[ $(metrics | sed -n "s/^fiberleakd_config_last_reload_success_timestamp_seconds //p") -gt $ts_before ]]'
if command -v promtool >/dev/null; then
  check "promtool accepts /metrics" 'metrics | promtool check metrics >"$work/promtool.txt" 2>&1'
fi
kill -TERM $pid
check "SIGTERM stops it, exit 0" 'wait_for "! kill -0 $pid 2>/dev/null" 5 && wait $pid'

# The log formats: json (one object a line), and text under the journal (no timestamp, a priority prefix).
echo '{"listen": "127.0.0.1:'"$side_port"'", "targets": [{"name": "t", "url": "http://127.0.0.1:1", "timeout": "100ms", "interval": "1s"}]}' >"$work/one.json"
"$bin" scrape --config "$work/one.json" --log-format json 2>"$work/json.log" & p2=$!; track_pid $p2
wait_for 'grep -q "scrape failed" "$work/json.log"' 5
kill -TERM $p2; wait $p2
check "--log-format json writes one JSON object a line with ts, level and msg" \
  'python3 -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines and all(set(l) == {\"ts\", \"level\", \"logger\", \"msg\"} for l in lines), lines
assert any(l[\"level\"] == \"warning\" and \"scrape failed\" in l[\"msg\"] for l in lines)
" "$work/json.log"'
: >"$work/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$work/journal.log") "$bin" scrape --config "$work/one.json" 2>>"$work/journal.log" & p3=$!
track_pid $p3
wait_for 'grep -q "scrape failed" "$work/journal.log"' 5
kill -TERM $p3; wait $p3
check "under the journal, text lines carry a priority prefix and no timestamp" \
  'grep -q "^<4>\[warning\] target t: scrape failed" "$work/journal.log" && ! grep -q "^\[20" "$work/journal.log"'
check "--log-format takes text or json only" \
  '! "$bin" scrape --config "$work/one.json" --log-format xml 2>"$work/xml.txt" && grep -q "text or json" "$work/xml.txt"'
finish "$work/daemon.log" "$work/targets_at_failure.json" "$work/reload.txt" "$work/hooks.jsonl"
