#!/bin/sh
# Side-by-side heap profiler overhead on one workload, in one run:
# no profiler, fiberleak (default rate, rate 1), heaptrack, gperftools
# (libtcmalloc + HEAPPROFILE). Median wall time of REPEAT runs each and the
# ratio to the no-profiler median.
# usage: run_heap_bench.sh <fiberleak_heap_workload> <libfiberleak_heap.so> [threads] [pairs] [repeat]
set -eu
prog=$1 lib=$2 threads=${3:-4} pairs=${4:-2000000} repeat=${5:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4

heaptrack_run() { heaptrack -o "$tmp/ht" "$@" 2>/dev/null | grep -E '^[0-9]+$'; }
gperf_run() { env HEAPPROFILE="$tmp/gp" LD_PRELOAD=$tcmalloc "$@" 2>/dev/null; }
once() {  # name, then the command prefix: appends one wall time (ns)
  name=$1; shift
  "$@" "$prog" "$threads" "$pairs" | tail -n 1 >> "$tmp/$name"
}
median() { sort -n "$tmp/$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Round-robin: every configuration once per round, so load from other
# processes on the machine hits all columns alike.
i=0
while [ $i -lt "$repeat" ]; do
  once none env
  once fiberleak_default env LD_PRELOAD="$lib"
  once fiberleak_rate1 env FIBERLEAK_HEAP_RATE=1 LD_PRELOAD="$lib"
  once heaptrack heaptrack_run
  once gperftools gperf_run
  once tcmalloc env LD_PRELOAD=$tcmalloc
  i=$((i + 1))
done
base=$(median none) fl=$(median fiberleak_default) fl1=$(median fiberleak_rate1)
ht=$(median heaptrack) gp=$(median gperftools) tc=$(median tcmalloc)

printf '%-34s %14s %8s\n' "heap profiler ($threads threads x $pairs malloc+free pairs, median of $repeat)" "ms" "ratio"
for row in "none:$base" "fiberleak default rate (512 KiB):$fl" "fiberleak rate 1:$fl1" "heaptrack:$ht" \
           "gperftools tcmalloc+HEAPPROFILE:$gp" "(tcmalloc alone, no profile):$tc"; do
  name=${row%:*} ns=${row##*:}
  awk -v n="$name" -v ns="$ns" -v b="$base" 'BEGIN {printf "%-60s %10.1f %7.2fx\n", n, ns / 1e6, ns / b}'
done
