// Test-time leak checks, as uber-go/goleak's VerifyNone and VerifyTestMain:
// which fibers outlived a test, with goleak's ignore options and its short
// retry while fibers finish, and a report a person reads at once.
//
// Link fiberleak::catch2 or fiberleak::gtest into a test binary and every
// test case that leaves a fiber behind fails with that report; nothing to
// write in the tests (<fiberleak/catch2.hpp>, <fiberleak/gtest.hpp> add the
// explicit check for use inside a test). Unlike goleak, each fiber is
// charged to the test case that created it, directly or through fibers that
// test created: a fiber leaked by one test and still parked during the next
// fails the first only. Link fiberleak::testing alone to drive the same
// checks from another framework's hooks (begin_test(), check_test(),
// end_test(), end_run()).
//
// Never reported: threads' main fibers, fibers this header's options
// ignore, and fibers of untracked threads (install() was not called there;
// begin_test() installs tracking on the test thread when it is missing).
// fiberleak starts no fibers of its own (its endpoint and watchdog are
// threads), so none of them can show up. Call everything here from the test
// thread (not from a fiber while a check on that thread pauses), outside
// scheduler hooks.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <fiberleak/fiber_state.hpp>
#include <fiberleak/snapshot.hpp>

namespace fiberleak::testing {

// What a check ignores and how long it waits for fibers to finish. The
// patterns are those of LeakRules (<fiberleak/leak_rules.hpp>), matched by
// the same code as /debug/leaks and fiberleakd.
struct Options {
  // goleak's IgnoreTopFunction: the park stack's top frame, or its top frame
  // of user code, contains one of these.
  std::vector<std::string> ignore_top_functions;
  // goleak's IgnoreAnyFunction: any frame of the park stack contains one.
  std::vector<std::string> ignore_any_functions;
  // goleak's IgnoreCreatedBy: the function that created the fiber contains one.
  std::vector<std::string> ignore_created_by;
  // Fiber names, exact or a prefix ending in '*' ("pool-*").
  std::vector<std::string> ignore_names;
  // Labels "key:value", the value exact or a prefix ending in '*'.
  std::vector<std::string> ignore_labels;
  // These fibers (ignore_current() fills it).
  std::vector<FiberId> ignore_fibers;
  // goleak's IgnoreCurrent: ignore every fiber alive now. Returns *this.
  Options& ignore_current();

  // Looks taken before giving up on a fiber ending, and the longest pause
  // between two: pauses start at 1 µs and double (goleak's defaults: 20
  // looks, 100 ms; a check that finds a leak takes about 0.4 s). Pauses are
  // fiber sleeps: the test thread's other fibers run meanwhile.
  int attempts = 20;
  std::chrono::nanoseconds max_pause = std::chrono::milliseconds(100);
};

// One fiber that outlived its scope.
struct LeakedFiber {
  FiberId id = kNoFiber;
  std::string name;
  std::vector<Label> labels;  // sorted by key; "test" names the test that created it
  FiberState state = FiberState::runnable;
  std::string wait_reason;  // "chan receive", "runnable", ...
  std::string function;     // its top frame of user code ("?" unknown)
  std::string test;         // the test case that created it; empty: none known
};

struct Leaks {
  std::vector<LeakedFiber> fibers;
  // For people: per fiber its name, labels, state, wait reason, test, park
  // stack and creation stack, symbolized and trimmed as every dump is.
  // Empty when there are no leaks.
  std::string report;
  bool empty() const noexcept { return fibers.empty(); }
};

// The live fibers the options do not ignore, looked at until none is left
// or options.attempts are used up: goleak's Find.
Leaks find(const Options& options = {});

// The fibers the running test case (begin_test()) created and left alive
// so far, not reported before; outside a test case, as find(). What the
// frameworks' explicit checks call. Reported fibers are not reported again.
Leaks verify_none(const Options& options = {});

// What the framework listeners apply to every test case. Change it before
// the first test starts (in main, or a static initializer's constructor
// when the framework's main is used).
struct RunOptions {
  Options check;
  // Fibers alive when the first test case starts are never reported (goleak's
  // IgnoreCurrent in TestMain). Default off: the end of the run reports them.
  bool ignore_existing = false;
};
RunOptions& run_options();

// Per-test attribution, for framework hooks. begin_test() starts a test case
// on the test thread's main fiber: tracking is installed there if missing,
// and the label test=<name> (the name cut to 80 bytes) is set on that fiber
// while the test runs, so every fiber it creates, and every fiber those
// create, carries it. Fibers created meanwhile on threads without that
// label (untracked by labels, e.g. a pool's threads) belong to the test too.
void begin_test(std::string_view name);
// The fibers the running test left behind, not reported before (after
// run_options()'s retries); they are reported once. Call at the end of each
// run of the test's body.
Leaks check_test();
// Ends the test case begun last (removes its label).
void end_test();
// The end of the run: fibers still alive that no test case created and that
// were not reported (nor there before the first test, with ignore_existing),
// reported once. `failing_status` is the exit status the process ends with
// when leaked fibers are still alive at exit (see below).
Leaks end_run(int failing_status = 1);

// A leaked fiber still blocked when the test thread ends would hang the
// process there: Boost's scheduler waits for its fibers at thread exit. So
// once begin_test() ran, the test thread's exit (returning from main, or
// exit()) ends the process with end_run()'s failing status, output flushed
// and no destructors run, when a fiber reported as leaked is still alive:
// the run failed anyway, and it always ends.

}  // namespace fiberleak::testing
