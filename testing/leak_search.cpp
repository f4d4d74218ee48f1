#include "testing/leak_search.hpp"

#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include <fiberleak/leak_rules.hpp>
#include <fiberleak/runtime.hpp>

#include "profiler/dump_builder.hpp"
#include "profiler/duration.hpp"
#include "profiler/goroutine_text.hpp"
#include "profiler/leak_rules.hpp"

namespace fiberleak::detail {
namespace {

// The ignore options as leak rules, so that ignored_by() matches them.
LeakRules rules_of(const testing::Options& options) {
  LeakRules rules;
  rules.ignore_top_functions = options.ignore_top_functions;
  rules.ignore_any_functions = options.ignore_any_functions;
  rules.ignore_created_by = options.ignore_created_by;
  rules.ignore_names = options.ignore_names;
  rules.ignore_labels = options.ignore_labels;
  return rules;
}

struct Look {
  Snapshot snapshot;  // the fibers left, in dump order
  FiberDump dump;
};

// One look: the fibers considered and not ignored, symbolized.
Look look(const testing::Options& options, const LeakRules& rules, const LeakSearch& search) {
  const std::unordered_set<std::uint64_t> ignored = [&] {
    std::unordered_set<std::uint64_t> ids;
    for (FiberId id : options.ignore_fibers) ids.insert(to_integer(id));
    return ids;
  }();
  Look out;
  Snapshot all = fiberleak::snapshot();
  out.snapshot.taken_at_ns = all.taken_at_ns;
  out.snapshot.waits_on_recorded = all.waits_on_recorded;
  for (FiberSnapshot& f : all.fibers) {
    if (f.is_main || ignored.count(to_integer(f.id)) != 0 || !search.considers(f)) continue;
    out.snapshot.fibers.push_back(std::move(f));
  }
  if (out.snapshot.fibers.empty()) return out;
  // Symbolize only what may be reported, then apply the pattern rules.
  FiberDump dump = build_dump(out.snapshot);
  Snapshot kept;
  kept.taken_at_ns = out.snapshot.taken_at_ns;
  out.dump.taken_at_ns = dump.taken_at_ns;
  out.dump.waits_on_recorded = dump.waits_on_recorded;
  for (std::size_t i = 0; i < dump.fibers.size(); ++i) {
    if (ignored_by(rules, dump.fibers[i])) continue;
    kept.fibers.push_back(std::move(out.snapshot.fibers[i]));
    out.dump.fibers.push_back(std::move(dump.fibers[i]));
  }
  out.snapshot = std::move(kept);
  return out;
}

std::string report(const Look& last, const LeakSearch& search, int looks, std::int64_t waited_ns,
                   std::vector<testing::LeakedFiber>& fibers) {
  const std::size_t n = last.dump.fibers.size();
  std::string out = "fiberleak: " + std::to_string(n) + (n == 1 ? " fiber" : " fibers") + " outlived " + search.scope +
                    " (still there after " + std::to_string(looks) + " looks over " + format_duration(waited_ns) +
                    "):\n";
  for (std::size_t i = 0; i < n; ++i) {
    const DumpedFiber& f = last.dump.fibers[i];
    const FiberSnapshot& s = last.snapshot.fibers[i];
    testing::LeakedFiber leaked;
    leaked.id = f.id;
    leaked.name = f.name;
    leaked.labels = f.labels;
    leaked.state = f.state;
    leaked.wait_reason = f.wait_reason;
    const DumpFrame* top = top_user_frame(f.stack);
    if (top == nullptr && !f.stack.empty()) top = &f.stack.front();
    leaked.function = top != nullptr ? top->function : "?";
    leaked.test = search.test_of(s);

    out += "\nfiber " + std::to_string(to_integer(f.id));
    if (!f.name.empty()) out += " \"" + f.name + "\"";
    out += leaked.test.empty() ? std::string(", created outside any test case")
                               : ", created by test \"" + leaked.test + "\"";
    out += ": " + std::string(to_string(f.state));
    if (f.state == FiberState::blocked || f.state == FiberState::sleeping) {
      out += " in " + f.wait_reason + " for " + format_duration(f.blocked_ns);
    }
    out += " at " + leaked.function + "\n";
    const std::vector<Label> labels = f.shown_labels();
    if (!labels.empty()) out += "labels: " + labels_text(labels) + "\n";
    FiberDump one;
    one.taken_at_ns = last.dump.taken_at_ns;
    one.fibers.push_back(f);
    out += render_debug2(one, &Symbolizer::instance());
    if (!f.creation_stack.empty()) out += "creation stack:\n" + render_stack(f.creation_stack, &Symbolizer::instance());
    fibers.push_back(std::move(leaked));
  }
  return out;
}

}  // namespace

testing::Leaks search_leaks(const testing::Options& options, const LeakSearch& search) {
  const LeakRules rules = rules_of(options);
  const auto start = std::chrono::steady_clock::now();
  std::chrono::nanoseconds pause = std::chrono::microseconds(1);
  const int attempts = std::max(1, options.attempts);
  Look last;
  int looks = 0;
  while (true) {
    last = look(options, rules, search);
    ++looks;
    if (last.dump.fibers.empty()) return {};
    if (looks >= attempts) break;
    // A fiber sleep, not a thread sleep: fibers of this thread that are
    // about to end (a channel just closed) get to run meanwhile.
    boost::this_fiber::sleep_for(pause);
    pause = std::min(pause * 2, std::max(options.max_pause, std::chrono::nanoseconds(1)));
  }
  testing::Leaks leaks;
  const std::int64_t waited =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  leaks.report = report(last, search, looks, waited, leaks.fibers);
  return leaks;
}

}  // namespace fiberleak::detail
