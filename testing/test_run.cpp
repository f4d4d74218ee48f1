// The public face of <fiberleak/testing.hpp>: the checks, the per-test
// attribution the framework listeners drive, and the exit guard.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <unordered_set>

#include <fiberleak/runtime.hpp>
#include <fiberleak/testing.hpp>

#include "runtime/tick_clock.hpp"
#include "testing/leak_search.hpp"

namespace fiberleak::testing {
namespace {

constexpr std::string_view kTestLabel = "test";
constexpr std::size_t kMaxLabelValue = 80;  // of the 128 bytes a fiber has for labels

// The test label's value: the name, cut to kMaxLabelValue bytes at a UTF-8
// character boundary.
std::string label_value(std::string_view name) {
  if (name.size() <= kMaxLabelValue) return std::string(name);
  std::size_t cut = kMaxLabelValue;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return std::string(name.substr(0, cut));
}

const std::string* test_label(const FiberSnapshot& f) {
  for (const Label& l : f.labels) {
    if (l.key == kTestLabel) return &l.value;
  }
  return nullptr;
}

struct TestCase {
  std::string name;
  std::string label;
  std::uint64_t started_ticks = 0;
  std::uint64_t ended_ticks = 0;  // 0: running
};

// Everything the run remembers. Touched from the test thread only (the
// frameworks run test cases on one thread); the mutex keeps a stray call
// from another thread safe.
struct Run {
  std::mutex mutex;
  std::vector<TestCase> tests;  // in order; the back one runs when `running`
  bool running = false;
  bool started = false;
  std::optional<label_scope> label;  // on the test thread's main fiber
  std::unordered_set<std::uint64_t> reported;
  std::unordered_set<std::uint64_t> existing;  // alive before the first test (RunOptions::ignore_existing)
  int failing_status = 1;

  // The test case that created `f`: by its label, else (fibers of threads
  // that do not carry the label) by when it was created.
  const TestCase* test_of(const FiberSnapshot& f) const {
    if (const std::string* label = test_label(f)) {
      for (auto it = tests.rbegin(); it != tests.rend(); ++it) {
        if (it->label == *label) return &*it;
      }
      return nullptr;
    }
    for (auto it = tests.rbegin(); it != tests.rend(); ++it) {
      const std::int64_t start = detail::TickClock::to_steady_ns(it->started_ticks);
      const std::int64_t end = it->ended_ticks == 0 ? INT64_MAX : detail::TickClock::to_steady_ns(it->ended_ticks);
      if (f.created_ns >= start && f.created_ns < end) return &*it;
    }
    return nullptr;
  }
  std::string test_name_of(const FiberSnapshot& f) const {
    const TestCase* t = test_of(f);
    return t == nullptr ? std::string() : t->name;
  }
  void mark_reported(const Leaks& leaks) {
    for (const LeakedFiber& f : leaks.fibers) reported.insert(to_integer(f.id));
  }
};

Run& run() {
  static Run* r = new Run;  // never destroyed: the exit guard reads it during exit
  return *r;
}

// Destroyed when the test thread ends (returning from main runs exit(),
// which destroys the main thread's thread_locals first). Created after
// Boost's own thread-local scheduler, so destroyed before it: before Boost
// waits for the thread's fibers, which a leaked blocked fiber makes
// forever. If fibers reported as leaked are still alive, the run failed
// anyway: flush what the framework printed and end here, with the failing
// status, instead of hanging.
struct ExitGuard {
  ~ExitGuard() {
    Run& r = run();
    bool leaked_alive = false;
    if (!r.reported.empty()) {
      for (const FiberSnapshot& f : fiberleak::snapshot().fibers)
        leaked_alive |= r.reported.count(to_integer(f.id)) != 0;
    }
    if (!leaked_alive) return;
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::fprintf(stderr, "fiberleak: leaked fibers are still alive at exit: ending with status %d\n", r.failing_status);
    std::fflush(stderr);
    ::_exit(r.failing_status);
  }
};

void start_run(Run& r) {
  if (r.started) return;
  r.started = true;
  if (!fiberleak::installed()) fiberleak::install();
  static thread_local ExitGuard guard;
  (void)&guard;
  if (run_options().ignore_existing) {
    for (const FiberSnapshot& f : fiberleak::snapshot().fibers) r.existing.insert(to_integer(f.id));
  }
}

}  // namespace

Options& Options::ignore_current() {
  for (const FiberSnapshot& f : fiberleak::snapshot().fibers) ignore_fibers.push_back(f.id);
  return *this;
}

RunOptions& run_options() {
  static RunOptions options;
  return options;
}

Leaks find(const Options& options) {
  Run& r = run();
  detail::LeakSearch search;
  search.considers = [](const FiberSnapshot&) { return true; };
  search.test_of = [&r](const FiberSnapshot& f) {
    std::lock_guard lock(r.mutex);
    return r.test_name_of(f);
  };
  search.scope = "the check";
  return detail::search_leaks(options, search);
}

Leaks verify_none(const Options& options) {
  Run& r = run();
  std::unique_lock lock(r.mutex);
  detail::LeakSearch search;
  const bool in_test = r.running;
  search.considers = [&r, in_test](const FiberSnapshot& f) {
    return r.reported.count(to_integer(f.id)) == 0 && (!in_test || r.test_of(f) == &r.tests.back());
  };
  search.test_of = [&r](const FiberSnapshot& f) { return r.test_name_of(f); };
  search.scope = in_test ? "its check in test \"" + r.tests.back().name + "\"" : std::string("the check");
  // Searching pauses on fiber sleeps, so other fibers run meanwhile; they
  // never call back here.
  Leaks leaks = detail::search_leaks(options, search);
  r.mark_reported(leaks);
  return leaks;
}

void begin_test(std::string_view name) {
  Run& r = run();
  std::lock_guard lock(r.mutex);
  start_run(r);
  if (r.running) r.label.reset();
  TestCase t;
  t.name = std::string(name);
  t.label = label_value(name);
  t.started_ticks = detail::TickClock::now();
  r.tests.push_back(std::move(t));
  r.running = true;
  r.label.emplace(kTestLabel, r.tests.back().label);
}

Leaks check_test() {
  Run& r = run();
  std::lock_guard lock(r.mutex);
  if (!r.running) return {};
  const TestCase* current = &r.tests.back();
  Options options = run_options().check;
  detail::LeakSearch search;
  search.considers = [&r, current](const FiberSnapshot& f) {
    return r.reported.count(to_integer(f.id)) == 0 && r.existing.count(to_integer(f.id)) == 0 &&
           r.test_of(f) == current;
  };
  search.test_of = [current](const FiberSnapshot&) { return current->name; };
  search.scope = "test \"" + current->name + "\"";
  Leaks leaks = detail::search_leaks(options, search);
  r.mark_reported(leaks);
  return leaks;
}

void end_test() {
  Run& r = run();
  std::lock_guard lock(r.mutex);
  if (!r.running) return;
  r.label.reset();
  r.tests.back().ended_ticks = detail::TickClock::now();
  r.running = false;
}

Leaks end_run(int failing_status) {
  Run& r = run();
  std::lock_guard lock(r.mutex);
  r.failing_status = failing_status;
  if (!r.started) return {};
  detail::LeakSearch search;
  search.considers = [&r](const FiberSnapshot& f) {
    return r.reported.count(to_integer(f.id)) == 0 && r.existing.count(to_integer(f.id)) == 0;
  };
  search.test_of = [&r](const FiberSnapshot& f) { return r.test_name_of(f); };
  search.scope = "the test run";
  Leaks leaks = detail::search_leaks(run_options().check, search);
  r.mark_reported(leaks);
  return leaks;
}

}  // namespace fiberleak::testing
