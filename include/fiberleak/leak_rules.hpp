// Leak rules and what they find: the options of /debug/leaks, the watchdog,
// fiberleakd and the test-time checks, and the findings they report.
// Plain values; safe to copy between threads.
//
// Ignore options follow uber-go/goleak's (IgnoreTopFunction,
// IgnoreAnyFunction, IgnoreCreatedBy), plus fiber names and labels. Function patterns
// are substrings of the demangled C++ (or Go) function name.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fiberleak/fiber_state.hpp>
#include <fiberleak/snapshot.hpp>

namespace fiberleak {

struct LeakRules {
  // A parked fiber is a suspect once blocked continuously this long or longer.
  // Default 30 s.
  std::chrono::nanoseconds threshold = std::chrono::seconds(30);
  // Per wait kind thresholds that replace the default (e.g. a longer one
  // for sleep).
  std::map<WaitKind, std::chrono::nanoseconds> threshold_by_wait;
  // Ignore a fiber when its top frame (goleak's IgnoreTopFunction, e.g.
  // "internal/poll.runtime_pollWait") or its top user frame contains any of these.
  std::vector<std::string> ignore_top_functions;
  // ... when any frame of its park stack contains any of these.
  std::vector<std::string> ignore_any_functions;
  // ... when the function that created it contains any of these.
  std::vector<std::string> ignore_created_by;
  // ... when its name matches one of these (exact, or a prefix ending in '*').
  std::vector<std::string> ignore_names;
  // ... when it carries one of these labels, written "key:value" (the value
  // exact, or a prefix ending in '*'; the name is the label "fiber"):
  // "handler:healthcheck", "test:slow-*".
  std::vector<std::string> ignore_labels;
  // A park site is growing when its fiber count rose in this many
  // consecutive evaluations. Default 3.
  int growing_evaluations = 3;
  // Only sites with at least this many fibers are reported as growing.
  std::size_t growing_min_fibers = 2;
  // A thread's main fiber waiting for its scheduler to stop is not a leak
  // (as goleak ignores the test's own goroutine) unless this is set.
  bool include_main_fibers = false;

  // The threshold that applies to a fiber parked in `wait`.
  std::chrono::nanoseconds threshold_for(WaitKind wait) const {
    auto it = threshold_by_wait.find(wait);
    return it == threshold_by_wait.end() ? threshold : it->second;
  }
};

// How sure a finding is.
enum class Verdict : std::uint8_t {
  // Parked past the threshold: likely leaked, but something might still
  // wake it (a send, an unlock, a timeout nobody is waiting for).
  suspect = 0,
  // Provably never woken without outside help, whatever the threshold: on
  // a wait-for cycle of untimed mutex and join waits (a deadlock), waiting
  // on a mutex whose owner ended holding it, or waiting for a definite
  // fiber. Needs owners in the dump (fiberleak targets on Boost 1.74).
  definite = 1,
};
// "suspect", "definite".
std::string_view to_string(Verdict verdict) noexcept;

// One leak finding.
struct LeakFinding {
  FiberId fiber_id = kNoFiber;
  std::string name;
  std::vector<Label> labels;  // the fiber's (its name not among them), sorted by key
  WaitKind wait = WaitKind::none;
  std::string wait_reason;
  std::int64_t blocked_ns = 0;
  bool blocked_exact = true;  // false: a lower bound (Go's whole minutes)
  std::string function;       // top user frame
  std::string file;
  int line = 0;
  std::string site;  // park site key (see park_site())
  // What the leaked fiber costs (as DumpedFiber's fields of the same names).
  std::uint64_t stack_bytes = 0;
  std::optional<std::int64_t> heap_live_bytes;
  Verdict verdict = Verdict::suspect;
  // Why, in one sentence: "deadlock: fiber 3 \"a\" and fiber 5 \"b\" wait for
  // each other (mutex lock, mutex lock)", or "parked for 3m0s, past the 30s
  // threshold", followed by whom it waits for where known ("; waits in
  // mutex lock for fiber 7, which waits in chan send").
  std::string reason;
  std::vector<FiberId> chain;  // the fibers it waits for, transitively, in order
  std::vector<FiberId> cycle;  // a deadlock's members in wait order (definite deadlocks)
  // The primitive it waits on (FiberSnapshot::waits_on; 0: none or unknown).
  std::uint64_t waits_on = 0;
};

// A park site whose population keeps growing (the verdict "growing"):
// its fiber count rose in LeakRules::growing_evaluations evaluations in a
// row, or one look shows it (fibers that arrived steadily and never left:
// creation times spread over the site's life, each parked there since it
// was created).
struct GrowingSite {
  std::string site;
  std::string function;  // top user frame
  std::string file;
  int line = 0;
  std::string wait_reason;
  std::size_t fibers = 0;
  std::vector<std::size_t> history;  // counts of the evaluations that grew, oldest first (empty: one look)
  // Why, in one sentence: "rose in 3 evaluations in a row (4, 9, 15)", or
  // "40 fibers arrived over 2m0s, the latest 1s ago, and none left".
  std::string reason;
};

}  // namespace fiberleak
