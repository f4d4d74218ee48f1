#!/usr/bin/env bash
# The gdb extension end to end, with Debian's gdb:
#  - a core of the running demo (gcore): `fiberleak fibers` lists the fibers
#    /debug/fibers showed just before, with the same states and wait reasons;
#    `fiberleak stacks` names the demo's functions; `fiberleak switch` makes
#    `bt` and `info locals` work on a parked fiber; `fiberleak leaks` judges;
#  - an attached, deadlocked test program: the cycle of its two fibers, a
#    switch on the live process, a record being updated reported as such;
#  - the same program without debug info: a clear error.
# Fails (does not skip) without gdb: scripts/install-deps installs it.
# Usage: gdb_test.sh path/to/fiberleakd path/to/deadlock_program path/to/fiberleak-gdb.py
set -uo pipefail
bin=$1
deadlock=$2
script=$3
source "$(dirname "$0")/../lib/e2e.sh"
work=$(scratch_dir)
# At the first failure: what gdb printed so far.
on_failure() {
  [[ ${#e2e_failures[@]} -eq 1 ]] || return 0
  for f in "$work"/*.txt; do echo "--- $f"; head -c 3000 "$f"; echo; done
}

if ! command -v gdb >/dev/null || ! command -v gcore >/dev/null; then
  echo "FAILED: gdb and gcore are needed (scripts/install-deps installs Debian's gdb)"
  exit 1
fi
# -iex: loaded before gdb attaches, the extension sees the stop and counts ages to it.
fl_gdb() { gdb -nx -batch -iex "source $script" "$@" 2>&1; }
# The fields of one row of `fiberleak fibers`: cells are separated by two spaces or more.
row() { awk -v id="$2" 'BEGIN { FS = "  +" } $1 == id { print $0 }' "$1"; }
cell() { row "$1" "$2" | awk -v n="$3" 'BEGIN { FS = "  +" } { print $n }'; }
# The id of the first fiber named $2 in a listing.
id_of() { awk -v name="$2" 'BEGIN { FS = "  +" } $2 == name { print $1; exit }' "$1"; }

# --- a core of the demo --------------------------------------------------------
log=$work/demo.log
"$bin" demo --listen 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
track_pid $pid
served_url() { grep -o 'served at http://[0-9.:]*' "$log" | head -1 | sed 's/served at //'; }
wait_for '[[ -n $(served_url) ]]' 10
url=$(served_url)
reply_workers() { curl -s "$url/debug/fibers" | grep -o '"name": *"reply-worker"' | wc -l; }
wait_for '[[ $(reply_workers) -ge 2 ]]' 30
curl -s "$url/debug/fibers" >"$work/before.json"
gcore -o "$work/demo.core" $pid >"$work/gcore.log" 2>&1
core=$work/demo.core.$pid
curl -s "$url/debug/fibers" >"$work/after.json"
check "gcore wrote a core of the demo" '[[ -s $core ]]'

fl_gdb -ex 'fiberleak fibers' "$bin" "$core" >"$work/fibers.txt"
check "the listing says how many fibers and as of when" 'grep -q "^fiberleak: [0-9]* fibers; times as of the core file" "$work/fibers.txt"'
# compare BEFORE.json AFTER.json LISTING: "all match" when every fiber of
# /debug/fibers is in the listing (nothing in the demo ends) with, where it
# stayed in one park from before the dump to after it, the same state and wait.
compare() {
  python3 - "$@" 2>&1 <<'EOF'
import json, re, sys
before = {f["id"]: f for f in json.load(open(sys.argv[1]))["fibers"]}
after = {f["id"]: f for f in json.load(open(sys.argv[2]))["fibers"]}
rows = {}
lines = open(sys.argv[3]).read().splitlines()
for line in lines[lines.index(next(l for l in lines if re.match(r"id +name ", l))) + 1:]:
    cells = re.split(r"  +", line)
    if cells[0].isdigit():
        rows[int(cells[0])] = cells
bad = []
for fid, f in before.items():
    if fid not in rows:
        bad.append("fiber %d (%s) missing" % (fid, f["name"]))
        continue
    cells = rows[fid]
    if cells[2] == "being updated":
        continue  # stopped while a hook wrote it: nothing to compare
    if cells[1] != (f["name"] or "-"):
        bad.append("fiber %d: name %r, endpoint %r" % (fid, cells[1], f["name"]))
    g = after.get(fid)
    if g is None or (g["state"], g["wait"], g["parks"]) != (f["state"], f["wait"], f["parks"]):
        continue  # parked again around the dump: either is right
    state = cells[2].replace(" (main)", "")
    wait = cells[3] if cells[3] != "-" else "running"
    expected_wait = f["wait_reason"] if f["wait"] != "none" else "running"
    if state != f["state"] or wait != expected_wait:
        bad.append("fiber %d: %s/%s, endpoint %s/%s" % (fid, state, wait, f["state"], expected_wait))
print("compared %d fibers" % len(before))
print("\n".join(bad) if bad else "all match")
EOF
}
compare "$work/before.json" "$work/after.json" "$work/fibers.txt" >"$work/compare.txt"
check "every fiber of /debug/fibers is listed with its name, state and wait reason" 'grep -q "^all match" "$work/compare.txt"'
consumer=$(id_of "$work/fibers.txt" order-consumer)
writer=$(id_of "$work/fibers.txt" ledger-writer)
reader=$(id_of "$work/fibers.txt" ledger-reader)
check "the order consumer is blocked in chan receive" '[[ $(cell "$work/fibers.txt" "$consumer" 3) == blocked && $(cell "$work/fibers.txt" "$consumer" 4) == "chan receive" ]]'
check "a ledger reader waits in mutex lock on the lock the writer holds" '[[ $(cell "$work/fibers.txt" "$reader" 4) == "mutex lock" && $(cell "$work/fibers.txt" "$reader" 7) == *"held by $writer" ]]'
check "the cache warmer waits in future wait" '[[ $(cell "$work/fibers.txt" "$(id_of "$work/fibers.txt" cache-warmer)" 4) == "future wait" ]]'
check "fibers are blocked for a time relative to the core" '[[ $(cell "$work/fibers.txt" "$consumer" 5) =~ ^[0-9.]+(ms|s|m[0-9]+s)$ ]]'
check "a spawned fiber has its parent and creating function" '[[ $(cell "$work/fibers.txt" "$consumer" 6) =~ ^[0-9]+$ && $(cell "$work/fibers.txt" "$consumer" 8) == *spawn_workload* ]]'

fl_gdb -ex "fiberleak stacks $consumer" "$bin" "$core" >"$work/stacks.txt"
check "the park stack names the demo's function with its line" 'grep -Eq "#[0-9]+ +0x[0-9a-f]+ in .*consume_orders\(.* at .*demo_service.cpp:[0-9]+" "$work/stacks.txt"'
check "the park stack goes through the channel's pop" 'grep -q "buffered_channel<int>::pop" "$work/stacks.txt"'
check "the creation stack names spawn_workload" 'sed -n "/^creation stack/,\$p" "$work/stacks.txt" | grep -q "DemoService::spawn_workload"'

fl_gdb -ex "fiberleak switch $consumer" -ex bt -ex 'frame function (anonymous namespace)::consume_orders' \
  -ex 'info locals' -ex 'fiberleak back' -ex bt "$bin" "$core" >"$work/switch.txt"
on_thread=$(sed -n '/fiberleak: back/,$p' "$work/switch.txt")
on_fiber=$(sed -n '1,/fiberleak: back/p' "$work/switch.txt")
check "switch says which fiber is shown" 'grep -q "showing fiber $consumer \"order-consumer\"" <<<"$on_fiber"'
check "bt after switch shows the fiber's frames down to its entry" 'grep -q "in .*consume_orders" <<<"$on_fiber" && grep -q "spawn_workload()::" <<<"$on_fiber"'
check "info locals works in a frame of the fiber" 'grep -q "^order = " <<<"$on_fiber" && grep -q "^batch = " <<<"$on_fiber"'
check "back returns to the thread's own stack" '! grep -q consume_orders <<<"$on_thread" && grep -q "^#0 " <<<"$on_thread"'

fl_gdb -ex 'fiberleak leaks 1ms' "$bin" "$core" >"$work/leaks.txt"
check "leaks flags the order consumer past the threshold" 'grep -Eq "^fiber $consumer \"order-consumer\" blocked in chan receive for .*\[suspect: parked for .*, past the 1ms threshold\]" "$work/leaks.txt"'
check "leaks explains a reader's wait chain" 'grep -Eq "\"ledger-reader\" .*waits in mutex lock for fiber $writer \"ledger-writer\", which waits in chan receive\]" "$work/leaks.txt"'
check "leaks leaves main fibers out" '! grep -q "\"demo-main\"" "$work/leaks.txt"'
fl_gdb -ex 'fiberleak leaks 1h' "$bin" "$core" >"$work/noleaks.txt"
check "nothing is a leak under a threshold of an hour" 'grep -q "^no leaks (threshold 1h0m)" "$work/noleaks.txt"'
fl_gdb -ex 'fiberleak leaks soon' "$bin" "$core" >"$work/badarg.txt"
check "a bad threshold gets a usage error" 'grep -q "bad duration .soon." "$work/badarg.txt"'
fl_gdb -ex 'fiberleak stacks 999999' "$bin" "$core" >"$work/badid.txt"
check "an unknown fiber id gets a clear error" 'grep -q "no live fiber 999999" "$work/badid.txt"'

# Attached to the demo, with the wait kinds the snapshots cached wiped (a
# cache: the runtime tells them again), the extension tells every wait from
# the park stacks itself, and must tell them as the runtime did.
cat >"$work/uncache.gdb" <<'EOF'
python
import fiberleak_gdb.debuginfo as d, fiberleak_gdb.registry as r
reg = r.Registry()
stacks = reg.value["stacks_"]
entry = d.lookup_type("fiberleak::detail::StackTable::Entry")
at = d.member_offset(entry, "annotation")
for f in reg.fibers():
    if f.park_stack and reg.stack_annotation(f.park_stack):
        gdb.selected_inferior().write_memory(int(stacks["entries_"]) + (f.park_stack - 1) * entry.sizeof + at, b"\0")
print("cached kinds left: %d" % sum(1 for f in reg.fibers() if reg.stack_annotation(f.park_stack)))
end
EOF
curl -s "$url/debug/fibers" >"$work/before2.json"
fl_gdb -p $pid -x "$work/uncache.gdb" -ex 'fiberleak fibers' "$bin" >"$work/uncached.txt"
curl -s "$url/debug/fibers" >"$work/after2.json"
compare "$work/before2.json" "$work/after2.json" "$work/uncached.txt" >"$work/compare2.txt"
check "attached to the demo, the cached wait kinds were wiped" 'grep -q "^cached kinds left: 0" "$work/uncached.txt"'
check "told from the park stacks by the extension, every wait reason is the runtime's" 'grep -q "^all match" "$work/compare2.txt"'
kill $pid

# --- an attached deadlocked program -----------------------------------------------
"$deadlock" >"$work/deadlock.log" 2>&1 &
dpid=$!
track_pid $dpid
wait_for 'grep -q ready "$work/deadlock.log"' 10
# Flips alpha's seqlock: odd (its record being written), and back to even.
odd_seq='python
import fiberleak_gdb.debuginfo as d, fiberleak_gdb.registry as r
slot = [f for f in r.Registry().fibers() if f.id == 2][0].slot_address  # alpha
at = slot + d.member_offset(gdb.lookup_type("fiberleak::detail::FiberSlot"), "seq")
seq = int.from_bytes(d.read_memory(at, 4), "little")
gdb.selected_inferior().write_memory(at, (seq ^ 1).to_bytes(4, "little"))
end'
echo "$odd_seq" >"$work/odd_seq.gdb"
fl_gdb -p $dpid -ex 'fiberleak fibers' -ex 'fiberleak leaks' -ex 'fiberleak switch 2' -ex bt -ex 'fiberleak back' \
  -x "$work/odd_seq.gdb" -ex 'fiberleak fibers' -ex 'fiberleak leaks' -ex 'fiberleak stacks 2' -x "$work/odd_seq.gdb" "$deadlock" >"$work/attach.txt"
first=$(sed -n '1,/^deadlock cycle/p' "$work/attach.txt")
check "attached: alpha waits in mutex lock held by beta" '[[ $(grep -E "^2 +alpha" <<<"$first") =~ blocked\ +mutex\ lock\ +[0-9.a-z]+\ +1\ +0x[0-9a-f]+\ held\ by\ 3 ]]'
check "attached: the fibers' labels are listed" '[[ $(grep -E "^2 +alpha" <<<"$first") =~ ^2\ +alpha\ +order=first\  ]] && grep -Eq "^1 +deadlock-main +- " <<<"$first"'
check "attached: beta waits in mutex lock held by alpha" '[[ $(grep -E "^3 +beta" <<<"$first") =~ mutex\ lock.*held\ by\ 2 ]]'
check "attached: the main fiber joins alpha" '[[ $(grep -E "^1 +deadlock-main" <<<"$first") =~ blocked\ \(main\)\ +join\ .*\(fiber\ 2\) ]]'
check "attached: the deadlock is definite, whatever the threshold" 'grep -q "^fiber 2 \"alpha\" .*\[definite: deadlock: fiber 2 \"alpha\" and fiber 3 \"beta\" wait for each other (mutex lock, mutex lock)\]" "$work/attach.txt"'
check "attached: the cycle is printed" 'grep -q "^deadlock cycle: 2 -> 3 -> 2" "$work/attach.txt"'
check "attached: bt after switch shows alpha's frames" 'sed -n "/showing fiber 2/,/fiberleak: back/p" "$work/attach.txt" | grep -q "take_in_order"'
last=$(sed -n '/fiberleak: back/,$p' "$work/attach.txt")
check "a record being written is reported as being updated" 'grep -Eq "^2 +\? +(\? +)?being updated" <<<"$last"'
check "the other fibers are still listed after it" 'grep -Eq "^3 +beta .*blocked" <<<"$last" && grep -Eq "^1 +deadlock-main" <<<"$last"'
check "its stacks are refused with the reason" 'grep -q "fiber 2.s record was being updated" <<<"$last"'
check "a mutex held by a record being updated is not taken for an ended owner" '! grep -q "ended" <<<"$last"'
check "the process survives being attached" 'kill -0 $dpid'

gcore -o "$work/deadlock.core" $dpid >/dev/null 2>&1
fl_gdb -ex 'fiberleak leaks' "$deadlock" "$work/deadlock.core.$dpid" >"$work/deadlock-core.txt"
check "in a core of it the deadlock is a cycle too" 'grep -q "^deadlock cycle: 2 -> 3 -> 2" "$work/deadlock-core.txt"'

# --- no debug info ------------------------------------------------------------------
objcopy --strip-debug "$deadlock" "$work/stripped"
fl_gdb -ex 'fiberleak fibers' "$work/stripped" "$work/deadlock.core.$dpid" >"$work/stripped.txt"
check "without debug info the extension says so" 'grep -q "fiberleak: .*debug info" "$work/stripped.txt"'
check "without debug info there is no Python traceback" '! grep -q Traceback "$work/stripped.txt"'
check "a default build carries no auto-load entry (FIBERLEAK_GDB_AUTOLOAD is off)" '! readelf -W -S "$deadlock" | grep -q "\.debug_gdb_scripts"'

finish
