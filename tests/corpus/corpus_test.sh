#!/usr/bin/env bash
# The leak corpus (leak_corpus.cpp) through every output: /debug/leaks and
# the watchdog's log in-process, `fiberleakd check`, and the sidecar's
# /api/findings: every leak caught with the right verdict and chain, no
# healthy fiber flagged, no ignore rule. Also prints the time-to-flag
# figures (the watchdog's on_leak callback against when each leak formed).
# Usage: corpus_test.sh path/to/leak_corpus path/to/fiberleakd
set -uo pipefail
corpus=$1
bin=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/e2e.sh"
work=$(scratch_dir)
threshold_ms=1000
interval_ms=250
"$corpus" $threshold_ms $interval_ms >"$work/corpus.out" 2>"$work/corpus.log" &
pid=$!
track_pid $pid
wait_for 'grep -q "^served at" "$work/corpus.out"' 10
url=$(sed -n 's/^served at \(http:[^ ]*\).*/\1/p' "$work/corpus.out")
check "the corpus serves" '[[ -n "$url" ]]'
# Every leak past the 1 s threshold, the pool fed long enough to have
# parked its workers past it too, p7's site growing for a second and more.
wait_for 'grep -q "^flagged p10-trylock" "$work/corpus.out" && grep -q "^flagged p11-waiter" "$work/corpus.out"' 30
sleep 1.5

curl -s "$url/debug/leaks" >"$work/leaks.json"
check "in-process /debug/leaks" 'python3 "$here/expect.py" leaks "$work/leaks.json" >"$work/leaks.txt" 2>&1'

"$bin" check "$url" --threshold ${threshold_ms}ms --json >"$work/check.json"; rc=$?
check "check exits 1" '[[ $rc -eq 1 ]]'
check "fiberleakd check --json" 'python3 "$here/expect.py" leaks "$work/check.json" >"$work/check.txt" 2>&1'
"$bin" check "$url" --threshold ${threshold_ms}ms >"$work/check-text.txt"
check "check's text names the deadlocks first" 'grep -A2 "^VERDICT" "$work/check-text.txt" | grep -q "^definite"'
check "check's text names a deadlock's members" 'grep -q "deadlock: fiber [0-9]* \"p9-a\" and fiber [0-9]* \"p9-b\" wait for each other" "$work/check-text.txt"'
check "check's text: one line per site, not per fiber" \
  '[[ $(grep -c "^suspect .*await_event_reply" "$work/check-text.txt") -eq 1 ]]'

side_port=$(free_port)
cat >"$work/sidecar.json" <<JSON
{"listen": "127.0.0.1:$side_port", "log_level": "info",
 "defaults": {"interval": "1s", "timeout": "1s"},
 "rules": {"threshold": "${threshold_ms}ms"},
 "targets": [{"name": "corpus", "url": "$url"}]}
JSON
"$bin" scrape --config "$work/sidecar.json" >"$work/sidecar.log" 2>&1 &
track_pid $!
wait_for 'curl -sf "http://127.0.0.1:$side_port/api/findings" | grep -q p11-waiter' 20
curl -s "http://127.0.0.1:$side_port/api/findings" >"$work/api.json"
check "the sidecar's /api/findings" 'python3 "$here/expect.py" api "$work/api.json" >"$work/api.txt" 2>&1'
curl -s "http://127.0.0.1:$side_port/metrics" >"$work/side-metrics.txt"
check "the sidecar's /metrics counts leaks by verdict" \
  'grep -Eq "^fiberleakd_leaks\{target=\"corpus\",verdict=\"definite\"\} 6$" "$work/side-metrics.txt"'
curl -s "$url/metrics" >"$work/metrics.txt"
check "the endpoint's /metrics counts leaks by verdict" \
  'grep -Eq "^fiberleak_leaks\{verdict=\"definite\"\} 6$" "$work/metrics.txt"'

# The watchdog's log: one line per site, each leak's site named once.
check "the log names every deadlock as definite" \
  '[[ $(grep -c "definite leak: .*lock_both" "$work/corpus.log") -ge 1 ]]'
check "the log has one line per new site, not per p7 fiber" \
  '[[ $(grep -c "await_event_reply" "$work/corpus.log") -lt $(grep -c "^flagged p7-spawned" "$work/corpus.out") ]]'
check "no healthy fiber is logged" '! grep -Eq "\"ok-|p7-source|p6-parent" "$work/corpus.log"'

# Time to flag: definite leaks within one watchdog interval of forming,
# suspects within one interval of crossing the threshold (allowing a
# symbolization warm-up on a loaded machine for the first evaluation).
python3 - "$work/corpus.out" $threshold_ms $interval_ms <<'PY' >"$work/timing.txt"
import sys
formed, flagged = {}, {}
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "formed": formed[w[1]] = int(w[2])
    if w[0] == "flagged" and w[1] not in flagged: flagged[w[1]] = (w[2], int(w[3]))
threshold, interval = int(sys.argv[2]), int(sys.argv[3])
groups = {"p9-a": ["p9-a", "p9-b"], "p9-x": ["p9-x", "p9-y", "p9-z"]}
for name, t in sorted(formed.items()):
    members = groups.get(name, [name])
    for m in members:
        if m not in flagged: continue
        verdict, at = flagged[m]
        late = at - t - (0 if verdict == "definite" else threshold)
        print(f"{m} {verdict} flagged {at - t} ms after forming, {late} ms after it could be")
PY
cat "$work/timing.txt"
check "time-to-flag figures were measured" '[[ -s $work/timing.txt ]]'
check "definite leaks are flagged without waiting for the threshold" \
  'awk "\$2 == \"definite\" && \$4 >= $threshold_ms {bad=1} END {exit bad}" "$work/timing.txt"'
for f in leaks check api; do [[ -s $work/$f.txt ]] && grep FAILED "$work/$f.txt"; done
finish "$work/leaks.txt" "$work/check.txt" "$work/api.txt" "$work/corpus.log" "$work/sidecar.log"
