#!/bin/sh
# LD_PRELOAD=libfiberleak_heap.so into unmodified programs: a multi-threaded
# one that forks (same output as without the profiler, at rate 1 and at the
# default rate) and python3; FIBERLEAK_HEAP_PROFILE and FIBERLEAK_LISTEN
# through the companion libfiberleak_heap_server.so.
# usage: preload_test.sh <libfiberleak_heap.so> <heap_fork_program>
set -eu
lib=$1 prog=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
expected=$("$prog" | sort)
echo "without profiler: $expected"
# The default rate runs 50 times: a thread caught inside a stack walk at
# fork() once left libunwind's lock held in the child, which then hung on
# its next sample (about one run in ten).
for rate in 1 524288; do
  runs=1
  [ "$rate" = 1 ] || runs=50
  i=0
  while [ $i -lt $runs ]; do
    i=$((i + 1))
    out=$(FIBERLEAK_HEAP_RATE=$rate LD_PRELOAD=$lib timeout 20 "$prog") ||
      { echo "FAIL: run $i at rate $rate hung or failed (a deadlock across fork?)"; exit 1; }
    got=$(echo "$out" | sort)
    [ "$got" = "$expected" ] || { echo "FAIL: output differs at rate $rate: $got"; exit 1; }
  done
  echo "rate $rate, $runs runs: $got"
done
script='
import json, os, threading
out = []
def w(n): out.append(len(json.dumps([{"k": i, "v": "x" * (i % 50)} for i in range(n)])))
ts = [threading.Thread(target=w, args=(20000,)) for _ in range(3)]
[t.start() for t in ts]; [t.join() for t in ts]
pid = os.fork()
if pid == 0:
    os._exit(0 if len(json.dumps(list(range(1000)))) > 0 else 1)
_, st = os.waitpid(pid, 0)
print(sorted(out)[0], os.WEXITSTATUS(st))
'
py_expected=$(python3 -c "$script")
py=$(FIBERLEAK_HEAP_RATE=1 LD_PRELOAD=$lib python3 -c "$script")
echo "python3: $py (without profiler: $py_expected)"
[ -n "$py" ] && [ "$py" = "$py_expected" ] || { echo "FAIL: python3 output"; exit 1; }

# FIBERLEAK_HEAP_PROFILE: the final profile at exit, exact at rate 1: the
# realloc(…, 4096) line ran 4 threads x 20000 times. "%p" is the pid: the
# forked child writes its own file next to the parent's.
FIBERLEAK_HEAP_RATE=1 FIBERLEAK_HEAP_PROFILE="$tmp/heap.%p.pb.gz" LD_PRELOAD=$lib "$prog" > /dev/null
profiles=$(ls "$tmp"/heap.*.pb.gz 2>/dev/null | wc -l)
[ "$profiles" -ge 1 ] || { echo "FAIL: no heap.PID.pb.gz written"; exit 1; }
[ -z "$(ls "$tmp"/*.partial 2>/dev/null)" ] || { echo "FAIL: a partial profile was left behind"; exit 1; }
parent=$(ls -S "$tmp"/heap.*.pb.gz | head -1)
top=$(HOME=$tmp go tool pprof -top -lines -unit=B -nodefraction=0 -sample_index=alloc_space "$parent" 2>/dev/null)
echo "$top" | grep 'heap_fork_program.cpp:' | head -3
echo "$top" | grep -Eq '^ *327680000B .*work.*heap_fork_program\.cpp:[0-9]+$' || { echo "FAIL: final profile"; exit 1; }

# An unwritable FIBERLEAK_HEAP_PROFILE is reported; the program's output stays.
out=$(FIBERLEAK_HEAP_PROFILE=/nonexistent/dir/heap.pb.gz LD_PRELOAD=$lib "$prog" 2>"$tmp/err" | sort)
[ "$out" = "$expected" ] || { echo "FAIL: output differs with an unwritable profile path"; exit 1; }
grep -q "fiberleak: .*FIBERLEAK_HEAP_PROFILE: cannot write /nonexistent/dir/heap.pb.gz" "$tmp/err" ||
  { echo "FAIL: the unwritable profile path is not reported:"; cat "$tmp/err"; exit 1; }

# A malformed FIBERLEAK_LISTEN is reported and the program runs as without it.
out=$(FIBERLEAK_LISTEN=nowhere LD_PRELOAD=$lib "$prog" 2>"$tmp/err" | sort)
[ "$out" = "$expected" ] || { echo "FAIL: output differs with a bad FIBERLEAK_LISTEN"; exit 1; }
grep -q 'FIBERLEAK_LISTEN="nowhere" is not HOST:PORT' "$tmp/err" || { echo "FAIL: bad FIBERLEAK_LISTEN not reported"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# inuse_bytes PORT: fiberleak_heap_inuse_bytes served on PORT once the
# program has made its 20 MB (empty if nothing answers).
inuse_bytes() {
  python3 -c "
import os, time, urllib.request
for _ in range(100):
    if os.path.exists('$tmp/allocated'):
        try:
            text = urllib.request.urlopen('http://127.0.0.1:$1/metrics', timeout=5).read().decode()
            print([l.split()[1] for l in text.splitlines() if l.startswith('fiberleak_heap_inuse_bytes ')][0]); break
        except OSError:
            pass
    time.sleep(0.2)
"
}
holder='import sys, time; x = [bytearray(1000) for _ in range(20000)]; open(sys.argv[1], "w").close(); time.sleep(60)'

# FIBERLEAK_LISTEN: a preloaded python3 serves the heap routes and /metrics itself.
port=$(free_port)
FIBERLEAK_LISTEN=127.0.0.1:$port FIBERLEAK_HEAP_RATE=4096 LD_PRELOAD=$lib python3 -c "$holder" "$tmp/allocated" &
pypid=$!
trap 'kill $pypid 2>/dev/null; rm -rf "$tmp"' EXIT
bytes=$(inuse_bytes "$port")
echo "FIBERLEAK_LISTEN: fiberleak_heap_inuse_bytes $bytes"
[ -n "$bytes" ] && [ "$bytes" -gt 18000000 ] && [ "$bytes" -lt 40000000 ] || { echo "FAIL: FIBERLEAK_LISTEN /metrics"; exit 1; }
kill $pypid; wait $pypid 2>/dev/null || true; rm -f "$tmp/allocated"

# Behind a wrapper that stays (timeout), both processes load the sampler:
# the wrapper takes the port and the program says so on stderr ...
port=$(free_port)
FIBERLEAK_LISTEN=127.0.0.1:$port LD_PRELOAD=$lib timeout 30 python3 -c 'import time; time.sleep(1); print("done")' \
  >"$tmp/out" 2>"$tmp/err" || { echo "FAIL: the program behind timeout failed"; cat "$tmp/err"; exit 1; }
[ "$(cat "$tmp/out")" = done ] || { echo "FAIL: the program's output changed behind timeout"; exit 1; }
grep -q "fiberleak: python3 (pid [0-9]*): cannot listen on FIBERLEAK_LISTEN=127.0.0.1:$port: the port is in use" "$tmp/err" ||
  { echo "FAIL: the program behind timeout does not say the port is taken:"; cat "$tmp/err"; exit 1; }
# ... and FIBERLEAK_PROCESS picks the program instead.
port=$(free_port)
FIBERLEAK_PROCESS=python3 FIBERLEAK_LISTEN=127.0.0.1:$port FIBERLEAK_HEAP_RATE=4096 LD_PRELOAD=$lib \
  timeout 60 python3 -c "$holder" "$tmp/allocated" 2>"$tmp/err" &
pypid=$!
bytes=$(inuse_bytes "$port")
echo "FIBERLEAK_PROCESS=python3 behind timeout: fiberleak_heap_inuse_bytes $bytes"
[ -n "$bytes" ] && [ "$bytes" -gt 18000000 ] && [ "$bytes" -lt 40000000 ] ||
  { echo "FAIL: FIBERLEAK_PROCESS did not make python3 serve:"; cat "$tmp/err"; exit 1; }
[ ! -s "$tmp/err" ] || { echo "FAIL: messages with FIBERLEAK_PROCESS:"; cat "$tmp/err"; exit 1; }
echo PASS
