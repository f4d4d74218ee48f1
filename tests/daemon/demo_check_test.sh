#!/usr/bin/env bash
# fiberleakd end to end: the demo serves, `check` flags exactly the leaked
# fibers (not the healthy ticker, acceptor and pool workers), the CLI rejects
# bad input with exit 2, and Ctrl-C (SIGINT) stops the demo cleanly.
# Usage: demo_check_test.sh path/to/fiberleakd
set -uo pipefail
bin=$1
source "$(dirname "$0")/../lib/e2e.sh"
work=$(scratch_dir)
out=$work/demo.log
"$bin" demo --listen 127.0.0.1:0 --threshold 2s >"$out" 2>&1 &
pid=$!
track_pid $pid
served_url() { grep -o 'served at http://[0-9.:]*' "$out" | head -1 | sed 's/served at //'; }
wait_for '[[ -n $(served_url) ]]' 10
url=$(served_url)
check "the demo prints the URL it serves" '[[ -n "$url" ]]'
# The watchdog (every 2 s) calls the reply-worker site growing once one
# look shows steady arrivals (a second or more of them) or after three
# rises; by then every leak is past the 2 s threshold and logged. Allow a
# minute on a loaded machine.
growing_logged='grep -Eq "growing site: .*compute_reply|compute_reply.*; growing: " "$out"'
wait_for "$growing_logged" 60

# No ignore rule: the demo's unnamed-like main fibers are no leaks by default.
"$bin" check "$url" --threshold 2s -v >"$work/check.txt"; rc=$?
check "check exits 1 when leaks are found" '[[ $rc -eq 1 ]]'
"$bin" check "$url" --threshold 2s >"$work/sites.txt"; rc=$?
check "check groups by site: one line for the pile-up of reply-workers" \
  '[[ $(grep -Ec "^(suspect|growing) +[0-9]+ .*compute_reply" "$work/sites.txt") -eq 1 ]]'
check "the pile-up's site says it grows" 'grep -Eq "compute_reply.*; growing: .*arrived steadily|rose in" "$work/sites.txt"'
check "the readers' line says whom they wait for" \
  'grep -q "leak suspect: 3 fibers at mutex lock .*waits in mutex lock for fiber [0-9]* \"ledger-writer\", which waits in chan" "$work/sites.txt"'
check "without -v no per-fiber table" '! grep -q "^ *FIBER " "$work/sites.txt"'
check "the header says which verdicts the target supports" 'grep -q "verdicts: definite, suspect, growing" "$work/sites.txt"'
for leak in order-consumer ledger-writer ledger-reader cache-warmer reply-worker; do
  check "check flags $leak" 'grep -q " $leak " "$work/check.txt"'
done
for healthy in ticker acceptor pool-worker demo-main scheduler-main; do
  check "check does not flag $healthy" '! grep -q " $healthy " "$work/check.txt"'
done
check "check names the leaking function with file:line" 'grep -q "consume_orders.*demo_service.cpp:[0-9]*" "$work/check.txt"'
# The consumer reserved Boost's default 128 KiB stack and holds its 256 KiB batch.
check "check says what a leaked fiber holds" 'grep -Eq " order-consumer .* 128 KiB +256 KiB +fiberleak::demo" "$work/check.txt"'

"$bin" check "$url/debug/pprof/" --threshold 1h --json >"$work/check.json"; rc=$?
check "a growing site alone fails check (exit 1)" '[[ $rc -eq 1 ]]'
check "check --json groups the sites" \
  'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert any(s[\"verdict\"]==\"growing\" for s in d[\"sites\"])" "$work/check.json"'
"$bin" check "$url/debug/pprof/" --threshold 1h --ignore-name reply-worker --json >"$work/check.json"; rc=$?
check "check exits 0 when nothing is blocked past the threshold or growing" '[[ $rc -eq 0 ]]'
check "check --json prints the leaks schema" 'grep -q "\"schema\": \"fiberleak.leaks/v1\"" "$work/check.json"'

check "the demo logs findings as they appear" 'grep -q "leak suspect: 1 fiber at .*: fiber [0-9]* \"order-consumer\"" "$out"'
check "the logged finding says what the fiber holds" 'grep -q "\"order-consumer\" .*holding stack 128 KiB, heap 256 KiB" "$out"'
check "the demo logs the growing park site" "$growing_logged"
check "the demo logs one line per site, not per reply-worker" \
  '[[ $(grep -c "reply-worker" "$out") -lt $(curl -s "$url/debug/fibers" | grep -o "\"reply-worker\"" | wc -l) ]]'
check "go tool pprof reads the demo's goroutine profile" 'HOME=$(scratch_dir) PPROF_TMPDIR=/tmp go tool pprof -top "$url/debug/pprof/goroutine" 2>/dev/null | grep -q compute_reply'

# A goroutine-count baseline in CI: the first run writes it, later runs
# fail when a park site grew by more than --max-growth.
base="$work/baseline.json"
rm -f "$base"
"$bin" check "$url" --threshold 1h --baseline "$base" >/dev/null; rc=$?
check "--baseline writes a missing baseline and passes" '[[ $rc -eq 0 && -s "$base" ]]'
# A request every 500 ms leaves another reply-worker behind: wait for one more.
reply_workers() {
  curl -s "$url/debug/fibers" |
    python3 -c 'import json,sys; print(sum(f["name"] == "reply-worker" for f in json.load(sys.stdin)["fibers"]))'
}
before=$(reply_workers)
wait_for '[[ $(reply_workers) -gt $before ]]' 30
"$bin" check "$url" --threshold 1h --baseline "$base" --max-growth 0 >"$work/base.txt"; rc=$?
check "growth past the baseline fails (exit 1)" '[[ $rc -eq 1 ]]'
check "the report names the growing site" 'grep -q "compute_reply" "$work/base.txt"'
"$bin" check "$url" --threshold 1h --baseline "$base" --max-growth 1000 >/dev/null; rc=$?
check "growth within --max-growth passes" '[[ $rc -eq 0 ]]'
"$bin" check "$url" --baseline "$work/check.txt" >/dev/null 2>&1; rc=$?
check "a file that is not a baseline is an error (exit 2)" '[[ $rc -eq 2 ]]'

# --config applies the config's rules; flags override them.
printf '{"rules": {"threshold": "1h", "ignore_names": ["reply-worker"]}}' >"$work/config.json"
"$bin" check "$url" --config "$work/config.json" >/dev/null; rc=$?
check "check --config applies the config's threshold" '[[ $rc -eq 0 ]]'
"$bin" check "$url" --config "$work/config.json" --threshold 2s >"$work/cfgcheck.txt"; rc=$?
check "--threshold overrides the config" '[[ $rc -eq 1 ]] && ! grep -q " scheduler-main " "$work/cfgcheck.txt"'
printf '{"rules": {"threshold": 5}}' >"$work/badconfig.json"
"$bin" check "$url" --config "$work/badconfig.json" 2>/dev/null; rc=$?
check "a broken --config is an error (exit 2)" '[[ $rc -eq 2 ]]'

"$bin" check; rc=$?
check "check without a URL is a usage error (exit 2)" '[[ $rc -eq 2 ]]'
"$bin" check "$url" --threshold soon; rc=$?
check "a bad duration is a usage error (exit 2)" '[[ $rc -eq 2 ]]'
"$bin" check http://127.0.0.1:1; rc=$?
check "an unreachable target is an error (exit 2)" '[[ $rc -eq 2 ]]'
"$bin" demo --listen nowhere; rc=$?
check "a bad --listen is a usage error (exit 2)" '[[ $rc -eq 2 ]]'
"$bin" demo --listen 127.0.0.1:80x; rc=$?
check "a port with trailing garbage is a usage error (exit 2)" '[[ $rc -eq 2 ]]'
# A second demo on the running demo's port fails instead of sharing it.
timeout 10 "$bin" demo --listen "${url#http://}" 2>"$work/second.log"; rc=$?
check "a second demo on a port in use exits 2 and says so" '[[ $rc -eq 2 ]] && grep -q "port is in use" "$work/second.log"'
check "the first demo still answers alone" 'curl -sf "$url/healthz" >/dev/null'
"$bin" frobnicate; rc=$?
check "an unknown command is a usage error (exit 2)" '[[ $rc -eq 2 ]]'
check "--help prints the usage" '"$bin" --help | grep -q "usage: fiberleakd"'
check "--version prints the version" '"$bin" --version | grep -q "^fiberleakd "'

kill -INT $pid
wait_for '! kill -0 $pid 2>/dev/null' 10
check "SIGINT stops the demo" '! kill -0 $pid 2>/dev/null'
wait $pid; rc=$?
check "the demo exits 0 after SIGINT" '[[ $rc -eq 0 ]]'
check "the demo says it stopped" 'grep -q "fiberleakd demo: stopping" "$out"'
finish "$out"
