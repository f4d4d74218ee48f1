#!/bin/sh
# LD_PRELOAD=libfiberleak_heap.so into unmodified programs: a multi-threaded
# one that forks (same output as without the profiler, at rate 1 and at the
# default rate) and python3.
# usage: preload_test.sh <libfiberleak_heap.so> <heap_fork_program>
set -eu
lib=$1 prog=$2
expected=$("$prog" | sort)
echo "without profiler: $expected"
for rate in 1 524288; do
  got=$(FIBERLEAK_HEAP_RATE=$rate LD_PRELOAD=$lib "$prog" | sort)
  echo "rate $rate: $got"
  [ "$got" = "$expected" ] || { echo "FAIL: output differs at rate $rate"; exit 1; }
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
echo PASS
