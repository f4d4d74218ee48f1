#!/bin/sh
# Side-by-side heap profiler overhead on one workload, in one run:
# no profiler, fiberleak (default rate, sampling off, rate 1), heaptrack,
# gperftools (libtcmalloc + HEAPPROFILE). Each round runs every
# configuration once, in turn, so load from other processes hits all
# columns alike; the table gives each column's median wall time, the ratio
# of medians, and the median of the per-round ratios to that round's
# no-profiler time (the steadier figure on a noisy machine).
# usage: run_heap_bench.sh <fiberleak_heap_workload> <libfiberleak_heap.so> [threads] [pairs] [rounds]
set -eu
prog=$1 lib=$2 threads=${3:-4} pairs=${4:-1000000} rounds=${5:-11}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4

heaptrack_run() { heaptrack -o "$tmp/ht" "$@" 2>/dev/null | grep -E '^[0-9]+$'; }
gperf_run() { env HEAPPROFILE="$tmp/gp" LD_PRELOAD=$tcmalloc "$@" 2>/dev/null; }
configs="none fiberleak_default fiberleak_off fiberleak_rate1 heaptrack gperftools tcmalloc"
once() {  # config name: appends one wall time (ns) to $tmp/<name>
  case $1 in
    none) set -- "$1" env ;;
    fiberleak_default) set -- "$1" env LD_PRELOAD="$lib" ;;
    fiberleak_off) set -- "$1" env FIBERLEAK_HEAP_RATE=0 LD_PRELOAD="$lib" ;;
    fiberleak_rate1) set -- "$1" env FIBERLEAK_HEAP_RATE=1 LD_PRELOAD="$lib" ;;
    heaptrack) set -- "$1" heaptrack_run ;;
    gperftools) set -- "$1" gperf_run ;;
    tcmalloc) set -- "$1" env LD_PRELOAD=$tcmalloc ;;
  esac
  name=$1; shift
  "$@" "$prog" "$threads" "$pairs" | tail -n 1 >> "$tmp/$name"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

i=0
while [ $i -lt "$rounds" ]; do
  for c in $configs; do once "$c"; done
  i=$((i + 1))
done
base=$(median < "$tmp/none")

printf '%-52s %10s %8s %12s\n' "heap profiler ($threads threads x $pairs malloc+free pairs, $rounds rounds)" \
  "median ms" "ratio" "paired ratio"
for c in $configs; do
  case $c in
    none) label="none" ;;
    fiberleak_default) label="fiberleak, default rate (512 KiB)" ;;
    fiberleak_off) label="fiberleak, sampling off (FIBERLEAK_HEAP_RATE=0)" ;;
    fiberleak_rate1) label="fiberleak, rate 1 (every allocation)" ;;
    heaptrack) label="heaptrack" ;;
    gperftools) label="gperftools (tcmalloc + HEAPPROFILE)" ;;
    tcmalloc) label="(tcmalloc alone, no profile)" ;;
  esac
  m=$(median < "$tmp/$c")
  paired=$(paste "$tmp/$c" "$tmp/none" | awk '{print $1 / $2}' | median)
  awk -v n="$label" -v m="$m" -v b="$base" -v p="$paired" 'BEGIN {printf "%-52s %10.1f %7.2fx %11.2fx\n", n, m / 1e6, m / b, p}'
done
