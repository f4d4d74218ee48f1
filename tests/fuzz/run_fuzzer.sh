#!/usr/bin/env bash
# Runs one libFuzzer harness on its corpus in the tree for a bounded time.
# New inputs go to a scratch corpus, never into the tree; an input that
# crashes (or trips ASan/UBSan, or runs past 10 s) is kept in ARTIFACT_DIR and
# fails the run: add it to the corpus as a regression input once fixed.
# Usage: run_fuzzer.sh HARNESS CORPUS_DIR ARTIFACT_DIR
# Environment: FIBERLEAK_FUZZ_SECONDS (default 20).
set -uo pipefail
harness=$1
corpus=$2
artifacts=$3
seconds=${FIBERLEAK_FUZZ_SECONDS:-20}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  "$harness" "$scratch" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" >"$scratch/log" 2>&1
rc=$?
if [[ $rc -ne 0 ]]; then
  tail -n 60 "$scratch/log"
  echo "FAILED: $(basename "$harness") (rc $rc); the input is in $artifacts"
  exit 1
fi
# The figures: runs, time, speed, coverage.
grep -E '^Done |stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|cov: .* (DONE|INITED)' "$scratch/log"
echo "ok: $(basename "$harness"), ${seconds} s, no crash"
