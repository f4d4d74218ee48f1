#!/usr/bin/env bash
# Runs launch_paths_program (built at one optimisation level) and checks what
# its profiles say: the summary against a golden file (top user frame and
# entry frame of each launch path), no unnamed frames, and, through go tool
# pprof, that every trace of the goroutine profile ends at user code (no
# tower of trampolines under the entry functions), that the heap profile
# names the entry functions as the goroutine profile does, and that the
# fiber name and the labels work as pprof tags and show in debug=1 and 2.
# Usage: launch_paths_test.sh path/to/program path/to/summary.golden
set -uo pipefail
bin=$1
golden=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../lib/e2e.sh"
work=$(scratch_dir)
export HOME=$work GOCACHE=$work/gocache GOFLAGS=-mod=mod LC_ALL=C

check "the program runs and every fiber ends" 'timeout 60 "$bin" "$work" >"$work/out.txt" 2>&1'
check "the summary matches $(basename "$golden")" 'diff -u "$golden" "$work/summary.txt"'
# (A launch::dispatch fiber's creator is unknown: it runs before any hook
# sees it; that "created by ?" is the one allowed.)
check "no frame in debug=2 is unnamed" '! grep -Eq "^\?" "$work/debug2.txt"'
check "only the dispatched fiber has no creator" '[[ $(grep -c "^created by ?" "$work/debug2.txt") -eq 1 ]]'
check "no frame in debug=1 is unnamed" '! grep -Eq "^#	0x[0-9a-f]+	\?\+" "$work/debug1.txt"'
check "no return types or clone suffixes in names" '! grep -Eq "^(void|int|bool) |\[clone " "$work/debug2.txt"'

# The outermost frame of every trace, as go tool pprof -traces shows it. The
# fiber that tail-called into join() at -O2 has no user frame left: its
# last frame is the fiber's run_().
outermost() { python3 "$here/pprof_traces.py" "$@" | sort -u; }
go tool pprof -traces "$work/goroutine.pb.gz" >"$work/traces.txt" 2>"$work/pprof.err"
check "go tool pprof reads the goroutine profile" '[[ -s $work/traces.txt ]]'
outermost <"$work/traces.txt" >"$work/goroutine_last.txt"
check "every goroutine trace ends at user code or the fiber's run_" \
  '! grep -Ev "^(app::|main::|\(stack not captured\)$|boost::fibers::worker_context::run_$)" "$work/goroutine_last.txt"'
check "two lambdas of one function stay apart" \
  '[[ $(grep -c "^app::start_lambdas::{lambda#[12]}$" "$work/goroutine_last.txt") -eq 2 ]]'

go tool pprof -traces -sample_index=inuse_space "$work/heap.pb.gz" >"$work/heap_traces.txt" 2>>"$work/pprof.err"
check "go tool pprof reads the heap profile" '[[ -s $work/heap_traces.txt ]]'
# Every entry function keeps an allocation (keep_allocation): its heap
# stacks end where its goroutine stack ends (join_sleeper's park stack
# lost it to the tail call).
outermost --containing keep_allocation <"$work/heap_traces.txt" >"$work/heap_last.txt"
check "the heap profile shows every entry function's allocation" '[[ $(wc -l <"$work/heap_last.txt") -eq 10 ]]'
check "the heap profile names every entry function as the goroutine profile does" \
  'comm -23 "$work/heap_last.txt" "$work/goroutine_last.txt" | grep -v "^app::join_sleeper$" >"$work/heap_only.txt"; [[ ! -s $work/heap_only.txt ]]'

go tool pprof -traces -tagfocus=fiber=joiner "$work/goroutine.pb.gz" >"$work/joiner.txt" 2>>"$work/pprof.err"
check "-tagfocus on the fiber name keeps only that fiber" \
  '[[ $(grep -c "^ *1 " "$work/joiner.txt") -eq 1 ]] && grep -q "boost::fibers::fiber::join" "$work/joiner.txt"'
# Labels are pprof tags: every fiber main started inherited handler=launch,
# two were started inside a request=r42 scope.
traces_with_tag() { go tool pprof -traces -tagfocus="$1" "$work/goroutine.pb.gz" 2>>"$work/pprof.err" | grep -c "^ *1 "; }
check "-tagfocus on an inherited label keeps every fiber main started" '[[ $(traces_with_tag handler=launch) -eq 11 ]]'
check "-tagfocus on a scoped label keeps the two fibers started in it" '[[ $(traces_with_tag request=r42) -eq 2 ]]'
go tool pprof -traces -sample_index=inuse_space -tagfocus=request=r42 "$work/heap.pb.gz" 2>>"$work/pprof.err" |
  outermost --containing keep_allocation >"$work/heap_request.txt"
check "heap samples carry their fiber's labels" \
  '[[ "$(cat "$work/heap_request.txt")" == "$(printf "app::Server::serve\napp::await_answer")" ]]'
check "debug=1 prints labels as Go does" 'grep -q "^# labels: {\"handler\":\"launch\", \"request\":\"r42\"}$" "$work/debug1.txt"'
check "debug=2 prints labels where Go 1.27 does" \
  'grep -q "^goroutine [0-9]* \[future wait, labels:{\"handler\":\"launch\", \"request\":\"r42\"}\]:$" "$work/debug2.txt"'
finish "$work/out.txt" "$work/pprof.err" "$work/traces.txt" "$work/heap_only.txt"
