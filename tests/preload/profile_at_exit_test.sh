#!/usr/bin/env bash
# FIBERLEAK_HEAP_PROFILE in a plain C program (built at -O1 and at -O2),
# preloaded at rate 1: the profile written at exit holds exactly what each
# function still holds and nothing of fiberleak's own (its loader, its
# companions, OpenSSL); the process never loads an HTTP or TLS library;
# a symlink at the path is replaced, not followed; bad FIBERLEAK_HEAP_RATE
# values are reported, one line each.
# Usage: profile_at_exit_test.sh PRELOAD_LIB PROGRAM...
set -uo pipefail
preload=$1
shift
source "$(dirname "$0")/../lib/e2e.sh"
work=$(scratch_dir)
export HOME=$work PPROF_TMPDIR=$work
for program in "$@"; do
  tag=$(basename "$program")
  out=$(FIBERLEAK_HEAP_RATE=1 FIBERLEAK_HEAP_PROFILE="$work/$tag.%p.pb.gz" LD_PRELOAD="$preload" "$program" 2>"$work/$tag.err")
  check "$tag: output unchanged and no HTTP or TLS library loaded" '[[ $out == "done, http/tls libraries not loaded" ]]'
  check "$tag: nothing on stderr" '[[ ! -s $work/$tag.err ]]'
  profile=$(ls "$work"/"$tag".*.pb.gz 2>/dev/null | head -1)
  check "$tag: the profile was written at exit" '[[ -s $profile ]]'
  go tool pprof -traces -sample_index=alloc_space "$profile" >"$work/$tag.traces" 2>&1
  go tool pprof -top -unit=B -sample_index=inuse_space -nodecount=1000 "$profile" >"$work/$tag.top" 2>&1
  bytes() { awk -v fn="$1" '$NF == fn {v=$1; sub(/B$/, "", v); print v; exit}' "$work/$tag.top"; }
  check "$tag: leak_small holds exactly 10000 bytes" '[[ "$(bytes leak_small)" == 10000 ]]'
  check "$tag: leak_large holds exactly 15000 bytes" '[[ "$(bytes leak_large)" == 15000 ]]'
  check "$tag: churn holds nothing" '[[ -z "$(bytes churn)" ]]'
  # Everything ever allocated (alloc_space), freed or not: the program's only.
  check "$tag: no allocation of fiberleak's own, its loader's or its libraries' is in it" \
    '[[ -s $work/$tag.traces ]] && ! grep -Eq "fiberleak::|start_companion|dlopen|_dl_init|OPENSSL|write_final_profile|Symbolizer" "$work/$tag.traces"'
done
# A symlink planted at the profile's path (a shared /tmp) is replaced, never
# followed: the file it points to keeps its contents.
echo "precious" >"$work/victim"
ln -s "$work/victim" "$work/planted.pb.gz"
FIBERLEAK_HEAP_RATE=1 FIBERLEAK_HEAP_PROFILE="$work/planted.pb.gz" LD_PRELOAD="$preload" "$1" >/dev/null 2>"$work/planted.err"
check "a symlink at the profile's path is replaced, its target untouched" \
  '[[ "$(cat "$work/victim")" == precious && -f $work/planted.pb.gz && ! -L $work/planted.pb.gz ]]'
check "no temporary file is left beside the profile" '[[ -z "$(ls "$work" | grep "planted.pb.gz.")" ]]'

for bad in -1 abc 1e20; do
  FIBERLEAK_HEAP_RATE=$bad LD_PRELOAD="$preload" "$1" >/dev/null 2>"$work/bad.err"
  check "FIBERLEAK_HEAP_RATE=$bad is reported in one line" \
    '[[ $(wc -l <"$work/bad.err") -eq 1 ]] && grep -q "^fiberleak: FIBERLEAK_HEAP_RATE=\"$bad\" is not a whole number" "$work/bad.err"'
done
finish "$work"/*.err "$work"/*.top "$work"/*.traces
