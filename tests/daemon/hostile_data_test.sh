#!/usr/bin/env bash
# fiberleakd against targets whose answers are well formed but hostile:
# numbers at the edges of int64 and names that are no UTF-8 (fake_target.py's
# bignum, gominutes and badutf8). check and scrape report them, never crash.
# Usage: hostile_data_test.sh path/to/fiberleakd
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/e2e.sh"
work=$(scratch_dir)

python3 "$here/fake_target.py" "$work/fake.port" & track_pid $!
wait_for '[[ -s $work/fake.port ]]'
fake="http://127.0.0.1:$(cat "$work/fake.port")"
replaced=$(printf 'main.le\xef\xbf\xbdak')  # the 0xFF byte as U+FFFD
valid_json() { python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))'; }

"$bin" check "$fake/bignum" --kind fiberleak >"$work/bignum.out" 2>"$work/bignum.err"; rc=$?
check "check on 2^63 stack bytes exits 2 (rc $rc)" '[[ $rc -eq 2 ]]'
check "check names the field out of range" 'grep -q "fibers\[0\].stack_bytes: expected an integer from 0 to" "$work/bignum.err"'

"$bin" check "$fake/gominutes" --kind go --threshold 1m >"$work/minutes.out" 2>"$work/minutes.err"; rc=$?
check "check on 99999999999999 minutes exits 1 (rc $rc)" '[[ $rc -eq 1 ]]'
check "the blocked time saturates at its largest value" 'grep -q ">=2562047h47m" "$work/minutes.out"'

"$bin" check "$fake/badutf8" --kind go --threshold 1m --json >"$work/utf8.json" 2>"$work/utf8.err"; rc=$?
check "check --json on a 0xFF function name exits 1 (rc $rc)" '[[ $rc -eq 1 ]]'
check "check --json writes valid UTF-8 JSON" 'valid_json <"$work/utf8.json"'
check "the byte that is no UTF-8 is written as U+FFFD" 'grep -qF "$replaced" "$work/utf8.json"'

side_port=$(free_port)
cat >"$work/config.json" <<JSON
{
  "listen": "127.0.0.1:$side_port",
  "defaults": {"interval": "1s", "timeout": "1s"},
  "rules": {"threshold": "1m"},
  "targets": [
    {"name": "bignum", "url": "$fake/bignum", "kind": "fiberleak"},
    {"name": "gominutes", "url": "$fake/gominutes", "kind": "go"},
    {"name": "badutf8", "url": "$fake/badutf8", "kind": "go"}
  ]
}
JSON
"$bin" scrape --config "$work/config.json" >"$work/side.log" 2>&1 & side=$!; track_pid $side
side_url="http://127.0.0.1:$side_port"
suspects() {  # suspects NAME: the target's leak_suspects once it was scraped
  curl -s "$side_url/api/targets" 2>/dev/null | python3 2>/dev/null -c "import json,sys; t={x['name']:x for x in json.load(sys.stdin)['targets']}['$1']; print(t['leak_suspects'] if t['scrapes'] else '')"
}
check "the sidecar scrapes both Go targets and finds their leak" \
  'wait_for "[[ \$(suspects gominutes) == 1 && \$(suspects badutf8) == 1 ]]" 30'
check "the sidecar is still serving" 'kill -0 $side 2>/dev/null'
check "/api/findings answers 200" '[[ $(curl -s -o "$work/findings.json" -w "%{http_code}" "$side_url/api/findings") == 200 ]]'
check "/api/findings is valid UTF-8 JSON with both findings" \
  'valid_json <"$work/findings.json" && grep -qF "$replaced" "$work/findings.json" && grep -q "main.wait" "$work/findings.json"'
check "/api/targets reports the bignum target's error" \
  'curl -s "$side_url/api/targets" | valid_json && curl -s "$side_url/api/targets" | grep -q "stack_bytes: expected"'
check "/metrics answers 200" '[[ $(curl -s -o /dev/null -w "%{http_code}" "$side_url/metrics") == 200 ]]'
finish "$work/side.log" "$work/bignum.err" "$work/minutes.err" "$work/utf8.err"
