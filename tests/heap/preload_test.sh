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
# realloc(…, 4096) line ran 4 threads x 20000 times.
FIBERLEAK_HEAP_RATE=1 FIBERLEAK_HEAP_PROFILE="$tmp/heap.pb.gz" LD_PRELOAD=$lib "$prog" > /dev/null
top=$(HOME=$tmp go tool pprof -top -lines -unit=B -nodefraction=0 -sample_index=alloc_space "$tmp/heap.pb.gz" 2>/dev/null)
echo "$top" | grep 'heap_fork_program.cpp:' | head -3
echo "$top" | grep -Eq '^ *327680000B .*work.*heap_fork_program\.cpp:[0-9]+$' || { echo "FAIL: final profile"; exit 1; }

# FIBERLEAK_LISTEN: a preloaded python3 serves the heap routes and /metrics itself.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FIBERLEAK_LISTEN=127.0.0.1:$port FIBERLEAK_HEAP_RATE=4096 LD_PRELOAD=$lib python3 -c '
import sys, time; x = [bytearray(1000) for _ in range(20000)]; open(sys.argv[1], "w").close(); time.sleep(60)' \
  "$tmp/allocated" &
pypid=$!
trap 'kill $pypid 2>/dev/null; rm -rf "$tmp"' EXIT
metrics=$(python3 -c "
import os, time, urllib.request
for _ in range(100):
    if os.path.exists('$tmp/allocated'):
        try:
            print(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=5).read().decode()); break
        except OSError:
            pass
    time.sleep(0.2)
")
echo "$metrics" | grep '^fiberleak_heap_inuse_bytes'
echo "$metrics" | awk '$1 == "fiberleak_heap_inuse_bytes" && $2 > 18000000 && $2 < 40000000 {ok=1} END {exit !ok}' ||
  { echo "FAIL: FIBERLEAK_LISTEN /metrics"; exit 1; }
echo PASS
