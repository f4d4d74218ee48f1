#!/usr/bin/env bash
# FIBERLEAK_GDB_AUTOLOAD: the .debug_gdb_scripts entry makes gdb source the
# extension for a program allowed by `auto-load safe-path`, and only then.
# Usage: gdb_autoload_test.sh path/to/program-built-with-the-entry
set -uo pipefail
program=$1
source "$(dirname "$0")/../lib/e2e.sh"
work=$(scratch_dir)
if ! command -v gdb >/dev/null; then
  echo "FAILED: gdb is needed (scripts/install-deps installs Debian's gdb)"
  exit 1
fi
check "the program carries a .debug_gdb_scripts entry" 'readelf -W -S "$program" | grep -q "\.debug_gdb_scripts"'
gdb -nx -batch -iex "add-auto-load-safe-path $program" -ex 'help fiberleak' "$program" >"$work/allowed.txt" 2>&1
check "allowed, gdb loads the extension" 'grep -q "^fiberleak fibers " "$work/allowed.txt"'
gdb -nx -batch -ex 'help fiberleak' "$program" >"$work/declined.txt" 2>&1
check "not allowed, gdb declines it" 'grep -q "auto-loading has been declined" "$work/declined.txt" && ! grep -q "^fiberleak fibers " "$work/declined.txt"'
"$program" >"$work/run.log" 2>&1 &
pid=$!
track_pid $pid
wait_for 'grep -q ready "$work/run.log"' 10
gdb -nx -batch -iex "add-auto-load-safe-path $program" -p $pid -ex 'fiberleak fibers' >"$work/attach.txt" 2>&1
check "attached, the auto-loaded commands read the registry" 'grep -Eq "^2 +alpha +order=first +blocked +mutex lock" "$work/attach.txt"'
finish "$work/allowed.txt" "$work/attach.txt"
