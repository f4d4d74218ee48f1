#!/usr/bin/env bash
# Cross-check against heaptrack at rate 1: for each leaking function of an
# unmodified program, fiberleak's final heap profile (LD_PRELOAD,
# FIBERLEAK_HEAP_PROFILE) and heaptrack's leak report agree on the leaked
# bytes (heaptrack prints 3 significant digits) and on the number of blocks.
# usage: heaptrack_crosscheck_test.sh <libfiberleak_heap.so> <heap_leaky_program>
set -uo pipefail
lib=$1 prog=$2
source "$(dirname "$0")/../lib/e2e.sh"
tmp=$(scratch_dir)
check "heaptrack records the program" 'heaptrack -o "$tmp/ht" "$prog" >"$tmp/heaptrack.log" 2>&1'
heaptrack_print -f "$tmp/ht.zst" -p 0 -a 0 -T 0 -l 1 2>/dev/null | sed -n '/MEMORY LEAKS/,$p' > "$tmp/leaks.txt"
check "the program runs under the preload" \
  'FIBERLEAK_HEAP_RATE=1 FIBERLEAK_HEAP_PROFILE="$tmp/heap.pb.gz" LD_PRELOAD=$lib "$prog" >/dev/null'
pp() { HOME=$tmp go tool pprof -top -nodefraction=0 -unit=B -sample_index=$1 "$tmp/heap.pb.gz" 2>/dev/null; }
pp inuse_space > "$tmp/space.txt"
pp inuse_objects > "$tmp/objects.txt"
for fn in leak_small_blocks leak_big_block leak_with_new; do
  # heaptrack: "4.80K leaked over 100 calls from" then the function line.
  ht=$(awk -v fn="$fn()" 'prev != "" && $0 == fn {print prev; exit} {prev = ($0 ~ /leaked over [0-9]+ calls from$/) ? $0 : ""}' "$tmp/leaks.txt")
  ht_bytes=$(echo "$ht" | awk '{v=$1; m=1; if (v ~ /K$/) m=1000; if (v ~ /M$/) m=1000000; sub(/[KMB]$/, "", v); print v * m}')
  ht_calls=$(echo "$ht" | awk '{print $4}')
  fl_bytes=$(awk -v fn="$fn" '$NF == fn {v=$1; sub(/B$/, "", v); print v; exit}' "$tmp/space.txt")
  fl_objects=$(awk -v fn="$fn" '$NF == fn {v=$1; sub(/B$/, "", v); print v; exit}' "$tmp/objects.txt")
  echo "$fn: heaptrack ${ht_bytes:-?} bytes in ${ht_calls:-?} blocks; fiberleak ${fl_bytes:-?} bytes in ${fl_objects:-?} blocks"
  check "$fn: heaptrack and fiberleak agree on the leaked bytes" \
    '[[ -n $ht_bytes && -n $fl_bytes ]] &&
     awk -v a="$ht_bytes" -v b="$fl_bytes" "BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= a * 0.005 + 5)}"'
  check "$fn: heaptrack and fiberleak agree on the number of blocks" '[[ -n $ht_calls && $ht_calls == "$fl_objects" ]]'
done
finish "$tmp/heaptrack.log"
