#!/usr/bin/env bash
# What one scrape costs fiberleakd in memory, against the size of the body a
# target sent: `fiberleakd check` (one scrape, same code as the sidecar's)
# reads a ~6 MB fiberleak answer (the demo's own /debug/fibers entries,
# repeated) and a ~6 MB Go dump (a real one, from bench/profiler's Go
# program), every parked fiberleak fiber a leak suspect. Prints peak RSS above
# that of a scrape of a tiny answer, as a multiple of the body, and fails
# past MAX_RATIO. A document shaped to cost far more than its size (empty
# fibers) must be refused within the same bound.
# Usage: scrape_memory_test.sh path/to/fiberleakd [MAX_RATIO]
set -uo pipefail
bin=$1
max_ratio=${2:-8}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/e2e.sh"
work=$(scratch_dir)
export HOME=$work GOCACHE=$work/gocache GOPATH=$work/gopath GO111MODULE=off

demo_port=$(free_port)
"$bin" demo --listen 127.0.0.1:$demo_port --threshold 1s >"$work/demo.log" 2>&1 & track_pid $!
wait_for 'curl -sf http://127.0.0.1:$demo_port/healthz >/dev/null'
curl -sf "http://127.0.0.1:$demo_port/debug/fibers?stacks=shared" >"$work/template.json"
check "go build of the dump writer" \
  'go build -o "$work/goroutines" "$here/../../bench/profiler/goroutine_profile_go.go"'
"$work/goroutines" 28000 sites dump >"$work/go.txt" 2>/dev/null
head -c 20000 "$work/go.txt" | awk '/^$/ {n++} n < 10' >"$work/go_tiny.txt"

# Bodies: fibers.json (~6 MB), tiny.json (the template), flood.json (empty fibers).
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
doc = json.load(open(f"{work}/template.json"))
parked = [f for f in doc["fibers"] if f["state"] in ("blocked", "sleeping")] or doc["fibers"]
compact = lambda d: json.dumps(d, separators=(",", ":"), sort_keys=True)
open(f"{work}/tiny.json", "w").write(compact(doc))
fibers, size, i = [], 0, 0
while size < 6_000_000:
    f = dict(parked[i % len(parked)], id=1000 + i, blocked_ns=3_600_000_000_000)
    fibers.append(f)
    size += len(compact(f)) + 1
    i += 1
open(f"{work}/fibers.json", "w").write(compact(dict(doc, fibers=fibers)))
flood = '{"schema":"fiberleak.fibers/v1","fibers":[' + ",".join(["{}"] * 2_000_000) + "]}"
open(f"{work}/flood.json", "w").write(flood)
PY

# Serves FILE for every GET of /FILE/...
serve_port=$(free_port)
python3 - "$work" "$serve_port" <<'PY' & track_pid $!
import os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        path = os.path.join(sys.argv[1], self.path.split("/")[1])
        if not os.path.isfile(path):
            self.send_error(404); return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
s = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H)
threading.Timer(300, s.shutdown).start()
s.serve_forever()
PY
base="http://127.0.0.1:$serve_port"
wait_for 'curl -s -o /dev/null $base/tiny.json/'

# peak_kib KIND FILE: peak RSS of one check of FILE, in KiB; its exit code in $work/rc.
peak_kib() {
  /usr/bin/time -f %M -o "$work/peak" "$bin" check --kind "$1" --threshold 1ms "$base/$2/" \
    >/dev/null 2>"$work/check.err"
  echo $? >"$work/rc"
  tail -n 1 "$work/peak"
}
# ratio KIND BIG TINY: (peak(BIG) - peak(TINY)) / size(BIG), printed with the figures.
ratio() {
  local big tiny size
  tiny=$(peak_kib "$1" "$3")
  big=$(peak_kib "$1" "$2")
  size=$(stat -c %s "$work/$2")
  awk -v b="$big" -v t="$tiny" -v s="$size" -v k="$1" 'BEGIN {
    r = (b - t) * 1024 / s
    printf "%s: %.1f MB body, peak RSS %.1f MB (%.1f MB for a tiny body): %.2fx the body\n", k, s / 1e6, b / 1024, t / 1024, r > "/dev/stderr"
    printf "%.2f\n", r }'
}
json_ratio=$(ratio fiberleak fibers.json tiny.json)
json_rc=$(cat "$work/rc")
go_ratio=$(ratio go go.txt go_tiny.txt)
go_rc=$(cat "$work/rc")
check "check read the fiberleak answer (exit 1: leaks)" '[[ $json_rc -eq 1 ]] || cat "$work/check.err"'
check "a fiberleak answer costs at most ${max_ratio}x its size ($json_ratio)" \
  'awk -v r="$json_ratio" -v m="$max_ratio" "BEGIN { exit !(r <= m) }"'
check "check read the Go dump (exit 0: a fresh dump has no minutes yet)" '[[ $go_rc -eq 0 ]]'
check "a Go dump costs at most ${max_ratio}x its size ($go_ratio)" \
  'awk -v r="$go_ratio" -v m="$max_ratio" "BEGIN { exit !(r <= m) }"'
flood_ratio=$(ratio fiberleak flood.json tiny.json)
check "a flood of empty fibers is refused (exit 2, saying why)" \
  '[[ $(cat "$work/rc") -eq 2 ]] && grep -q "decodes to more than" "$work/check.err"'
check "and refusing it costs at most ${max_ratio}x its size ($flood_ratio)" \
  'awk -v r="$flood_ratio" -v m="$max_ratio" "BEGIN { exit !(r <= m) }"'
finish "$work/check.err"
