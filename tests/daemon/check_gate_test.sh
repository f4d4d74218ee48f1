#!/usr/bin/env bash
# `fiberleakd check` as a CI gate, against a static Go target (dumps served
# from files, swapped between runs): --json prints one valid document with
# and without --baseline, a baseline taken in one checkout directory holds
# in another with lines moved, known leaks in a baseline are accepted and
# growth past it is not, old baselines (keys with lines) still read, and
# durations in µs parse.
# Usage: check_gate_test.sh path/to/fiberleakd
set -uo pipefail
bin=$1
source "$(dirname "$0")/../lib/e2e.sh"
work=$(scratch_dir)
root=$work/site
mkdir -p "$root/debug/pprof"

# A dump of a service checked out in $1, its two leaked readers parked at
# line $2 of main.go, $3 of them.
serve_dump() {
  local checkout=$1 line=$2 readers=$3 i
  {
    printf 'goroutine 1 [select]:\nmain.main()\n\t%s/main.go:40 +0x1d\n\n' "$checkout"
    for ((i = 0; i < readers; i++)); do
      printf 'goroutine %d [chan receive, 3 minutes]:\nmain.readForever(0xc000010000)\n\t%s/main.go:%d +0x1d\n' \
        $((10 + i)) "$checkout" "$line"
      printf 'created by main.start in goroutine 1\n\t%s/main.go:%d +0x2b\n\n' "$checkout" $((line + 12))
    done
  } >"$root/debug/pprof/goroutine.new"
  mv "$root/debug/pprof/goroutine.new" "$root/debug/pprof/goroutine"
}
serve_dump /home/alice/src/app 7 2

python3 - "$root" "$work/port" <<'PY' &
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
track_pid $!
wait_for '[[ -s "$work/port" ]]' 10
url="http://127.0.0.1:$(cat "$work/port")"
gate() { "$bin" check "$url" --kind go --threshold 1m "$@"; }
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"; }
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }

gate --json >"$work/plain.json"; rc=$?
check "leaks without a baseline fail (exit 1)" '[[ $rc -eq 1 ]]'
check "--json alone prints one valid JSON document" 'json_ok "$work/plain.json"'
check "it holds both leaked readers" 'jq_py "$work/plain.json" "len(d[\"leaks\"]) == 2"'

base=$work/baseline.json
gate --json --baseline "$base" >"$work/written.json"; rc=$?
check "a missing baseline is written and the run passes" '[[ $rc -eq 0 && -s "$base" ]]'
check "--json --baseline prints one valid JSON document when it writes the baseline" 'json_ok "$work/written.json"'
check "the document says the baseline was written" 'jq_py "$work/written.json" "d[\"baseline\"][\"written\"] is True"'
check "baseline keys have no directory and no line" \
  'jq_py "$base" "sorted(d[\"sites\"]) == [\"chan receive @ main.readForever at main.go\", \"select @ main.main at main.go\"]"'

# Another checkout directory, the code above the leak edited: lines moved.
serve_dump /ci/build/app 9 2
gate --baseline "$base" >"$work/moved.txt"; rc=$?
check "a baseline from another checkout, lines moved, accepts its known leaks (exit 0)" '[[ $rc -eq 0 ]]'
check "the report still lists the leaks and says the baseline accepts them" \
  'grep -q "readForever" "$work/moved.txt" && grep -q "2 leaked fibers are at park sites the baseline" "$work/moved.txt"'
gate --json --baseline "$base" >"$work/moved.json"; rc=$?
check "--json --baseline prints one valid JSON document when it compares" 'json_ok "$work/moved.json"'
check "the document holds the leaks and the baseline's verdict" \
  'jq_py "$work/moved.json" "len(d[\"leaks\"]) == 2 and d[\"baseline\"][\"grown\"] == [] and d[\"baseline\"][\"accepted_leaks\"] == 2"'

# One more reader: growth past the baseline fails, whatever leaks it accepts.
serve_dump /ci/build/app 9 3
gate --json --baseline "$base" >"$work/grown.json"; rc=$?
check "growth past the baseline fails (exit 1)" '[[ $rc -eq 1 ]]'
check "the growth is in the one JSON document" \
  'json_ok "$work/grown.json" && jq_py "$work/grown.json" "d[\"baseline\"][\"grown\"][0][\"growth\"] == 1 and d[\"baseline\"][\"grown\"][0][\"before\"] == 2"'
gate --baseline "$base" --max-growth 1 >"$work/allowed.txt"; rc=$?
check "--max-growth compares growth only: 1 more is allowed (exit 0)" '[[ $rc -eq 0 ]]'
gate --baseline "$base" --max-growth 0 >"$work/grown.txt"; rc=$?
check "the text report names the site that grew" 'grep -q "+1 (2 -> 3)  chan receive @ main.readForever at main.go" "$work/grown.txt"'

# A baseline written before keys lost their lines still reads.
printf '{"schema": "fiberleak.baseline/v1", "sites": {"chan receive @ main.readForever at main.go:7": 3,
  "select @ main.main at main.go:40": 1}}\n' >"$work/old.json"
gate --baseline "$work/old.json" >/dev/null; rc=$?
check "an old baseline with lines in its keys reads and accepts the same site" '[[ $rc -eq 0 ]]'
printf '{"schema": "fiberleak.baseline/v1", "sites": {"chan receive @ main.readForever at main.go:7": "3"}}\n' >"$work/bad.json"
gate --baseline "$work/bad.json" 2>"$work/bad.txt" >/dev/null; rc=$?
check "a broken baseline is a clear error (exit 2)" '[[ $rc -eq 2 ]] && grep -q "not a baseline written by" "$work/bad.txt"'

"$bin" check "$url" --kind go --threshold 500µs --timeout 5s >/dev/null; rc=$?
check "--threshold takes µs (exit 1: the leaks, not a usage error)" '[[ $rc -eq 1 ]]'
"$bin" check "$url" --kind go --threshold 500us >/dev/null; rc=$?
check "--threshold takes us" '[[ $rc -eq 1 ]]'
finish "$work/moved.txt" "$work/grown.txt"
