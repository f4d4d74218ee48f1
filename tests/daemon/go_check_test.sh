#!/usr/bin/env bash
# fiberleakd check against a real Go service (testdata/leaky_go, built here
# with Debian's golang-go) and against a target that answers garbage.
# Usage: go_check_test.sh path/to/fiberleakd
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/e2e.sh"
work=$(scratch_dir)

export HOME=$work GOCACHE=$work/gocache GOPATH=$work/gopath GO111MODULE=off
check "go build" 'go build -o "$work/leaky" "$here/testdata/leaky_go/main.go"'
[[ -x $work/leaky ]] || finish
"$work/leaky" -leaks 4 >"$work/addr" 2>&1 &
track_pid $!
wait_for 'grep -q listening "$work/addr"' 10
url="http://$(sed 's/listening on //' "$work/addr")"
# Until Go's own dump shows the 3 x 4 leaked goroutines parked.
parked_leaks() { curl -s "$url/debug/pprof/goroutine?debug=2" | grep -Ec '^main\.(receiveForever|sendAfterTimeout|lockForever)\('; }
wait_for '[[ $(parked_leaks) -eq 12 ]]' 10

# Threshold 0: every parked goroutine counts, so the healthy ones are ignored
# the way goleak users do: the accept loop by its top function, the ticker
# and the GC loop by a function in their stacks.
"$bin" check "$url" --threshold 0s --json --ignore-top internal/poll.runtime_pollWait \
  --ignore-function main.ticker --ignore-function main.main.func1 >"$work/out.json"
rc=$?
check "check exits 1 on the Go service's leaks" '[[ $rc -eq 1 ]]'
count() { grep -c "\"function\": \"$1\"" "$work/out.json"; }
check "4 receivers nobody sends to" '[[ $(count main.receiveForever) -eq 4 ]]'
check "4 senders left behind" '[[ $(count main.sendAfterTimeout) -eq 4 ]]'
check "4 fibers waiting on a lock never released" '[[ $(count main.lockForever) -eq 4 ]]'
check "nothing else is flagged" '[[ $(grep -c "\"fiber_id\"" "$work/out.json") -eq 12 ]]'
check "the file of each leak is the Go source" 'grep -q "leaky_go/main.go" "$work/out.json"'

"$bin" check "$url/debug/pprof/" --kind go --threshold 1m >"$work/out.txt"
rc=$?
check "Go shows no minutes yet: nothing has been blocked a minute (exit 0)" '[[ $rc -eq 0 ]]'

# A target that answers garbage.
mkdir -p "$work/www/debug/pprof"
head -c 100000 /dev/urandom >"$work/www/debug/pprof/goroutine"
port=$(free_port)
(cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
track_pid $!
wait_for 'curl -s "http://127.0.0.1:$port/" >/dev/null' 10
"$bin" check "http://127.0.0.1:$port" 2>"$work/err.txt"
rc=$?
check "a target answering garbage is an error (exit 2)" '[[ $rc -eq 2 ]]'
check "the error says it is a bad goroutine dump" 'grep -q "bad goroutine dump" "$work/err.txt"'
finish
