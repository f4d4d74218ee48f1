// Snapshot: a consistent copy of every live fiber's record, taken by
// FiberRegistry::snapshot() from any thread. Plain values; owned by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fiberleak/fiber_state.hpp>

namespace fiberleak {

// A read-only view of one recorded stack, innermost frame first.
struct StackView {
  const std::uintptr_t* pcs = nullptr;
  std::size_t size = 0;
  const std::uintptr_t* begin() const noexcept { return pcs; }
  const std::uintptr_t* end() const noexcept { return pcs + size; }
  bool empty() const noexcept { return size == 0; }
};

// One key/value label of a fiber, as Go's pprof labels (see label_scope in
// <fiberleak/runtime.hpp>).
struct Label {
  std::string key;
  std::string value;
  bool operator==(const Label& o) const { return key == o.key && value == o.value; }
  bool operator<(const Label& o) const { return key < o.key || (key == o.key && value < o.value); }
};

// One fiber. Times are steady_clock nanoseconds (same epoch as
// Snapshot::taken_at_ns); durations are nanoseconds.
struct FiberSnapshot {
  FiberId id = kNoFiber;
  FiberId parent = kNoFiber;  // kNoFiber: main fiber, adopted, or unknown
  std::string name;           // empty unless set
  // Its labels, sorted by key: those of the fiber that created it, plus the
  // label_scopes open on it now. The name is not among them (renderers
  // show it as the label "fiber").
  std::vector<Label> labels;
  FiberState state = FiberState::runnable;
  WaitKind wait = WaitKind::none;  // none unless blocked/sleeping/yielded
  bool is_main = false;            // a thread's main fiber
  bool adopted = false;            // existed before install(): parent and creation stack unknown
  // Its thread replaced fiberleak's algorithm (use_scheduling_algorithm
  // after install()): set on the thread's main fiber, whose record (like
  // every record of that thread) no longer changes.
  bool tracking_ended = false;
  std::uint32_t thread = 0;  // ordinal of the thread that last ran or parked it (1-based; 0 unknown)
  std::int64_t created_ns = 0;
  std::int64_t parked_ns = 0;         // start of the latest park, or of the wait it re-arms (0: never parked)
  std::int64_t blocked_total_ns = 0;  // all parks so far, including the current one
  std::uint64_t parks = 0;            // times it parked (blocked, slept or yielded)
  std::uint64_t switches = 0;         // times it was switched in
  StackId creation_stack = kNoStack;
  StackId park_stack = kNoStack;  // stack of the latest park
  std::uint64_t stack_bytes = 0;  // the stack it reserved (0: unknown, e.g. main fibers)
  // What it waits on, recorded at its latest park (Snapshot::waits_on_recorded):
  // the address of the primitive's wait queue, the same for every fiber
  // parked on one mutex, condition variable, channel end, future or joined
  // fiber. 0: waits on nothing (sleep, yield), or not recorded.
  std::uint64_t waits_on = 0;
  // The fiber it waits for: the owner of the mutex it waits on (as the
  // snapshot read it), or the fiber it joins. kNoFiber: none, or unknown.
  FiberId waits_for = kNoFiber;
  // The mutex it waits on is owned by a fiber that ended holding it: its
  // context belongs to no live tracked fiber (or to an untracked thread's),
  // or to a fiber that cannot hold it (one of the mutex's own waiters, or
  // one created after the oldest of them parked: Boost reuses an ended
  // fiber's context for new fibers, and the mutex then names the new one).
  bool owner_ended = false;
  // The current park re-arms a timed wait (cv.wait_for, try_lock_for,
  // pop_wait_for in a loop) that timed out on the same primitive at the
  // same park site: the fiber woke only to wait again, so its park counts
  // as one continuous wait and parked_ns is when the first of them began.
  // Sleeps (sleep_for tickers) wait on nothing and never re-arm.
  bool rearmed = false;
  // It parks again on the primitive whose notify last woke it (sleeps and
  // other waits in between allowed): evidence that the primitive is in
  // use, as a worker pool's job channel that is still fed.
  bool rewaits = false;

  bool parked() const noexcept { return state == FiberState::blocked || state == FiberState::sleeping; }
  // How long the current park has lasted at `now_ns` (0 when not parked).
  std::int64_t blocked_for_ns(std::int64_t now_ns) const noexcept {
    return parked() && parked_ns > 0 && now_ns > parked_ns ? now_ns - parked_ns : 0;
  }
};

// Counters of the whole runtime; all monotonic except live/size figures.
struct RuntimeCounters {
  std::uint64_t fibers_created = 0;  // records created (tracked fibers, incl. main fibers)
  std::uint64_t fibers_destroyed = 0;
  std::uint64_t fibers_live = 0;      // created - destroyed
  std::uint64_t records_dropped = 0;  // fibers that ran untracked: registry full
  std::uint64_t stacks_dropped = 0;   // stack captures not stored: stack table full
  std::uint64_t stack_table_size = 0;
  std::uint64_t stack_table_capacity = 0;
  std::uint64_t threads_installed = 0;
  // Threads whose tracking ended: a use_scheduling_algorithm after install().
  std::uint64_t threads_uninstalled = 0;
  std::uint64_t snapshot_retries = 0;  // seqlock re-reads caused by concurrent writers
  // Labels not set: a fiber's labels (128 bytes, keys and values) were full.
  std::uint64_t labels_dropped = 0;
};

struct Snapshot {
  // steady_clock, read once every record has been copied: no fiber in the
  // snapshot was created or parked after it. Records are copied one by one
  // without stopping the program, so each is as of a moment between the
  // call to snapshot() and taken_at_ns (at most the walk's duration apart,
  // ~18 ms for 100k fibers).
  std::int64_t taken_at_ns = 0;
  std::vector<FiberSnapshot> fibers;  // live fibers (not done), ordered by id
  RuntimeCounters counters;
  // Whether waits_on, waits_for and owner_ended are recorded: on the Boost
  // versions whose layouts fiberleak checks at compile time (1.74).
  bool waits_on_recorded = false;
};

}  // namespace fiberleak
