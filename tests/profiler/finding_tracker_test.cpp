#include "profiler/finding_tracker.hpp"

#include <catch2/catch.hpp>

using fiberleak::GrowingSite;
using fiberleak::LeakFinding;
using fiberleak::detail::FindingLifecycle;
using fiberleak::detail::FindingTracker;

namespace {

LeakFinding leak(std::uint64_t id, std::int64_t blocked_ns = 1) {
  LeakFinding f;
  f.fiber_id = fiberleak::FiberId{id};
  f.blocked_ns = blocked_ns;
  f.site = "chan receive @ f() at a.cpp:1";
  return f;
}

GrowingSite site(const std::string& name, std::size_t fibers) {
  GrowingSite g;
  g.site = name;
  g.fibers = fibers;
  return g;
}

}  // namespace

TEST_CASE("a leak finding is new, then ongoing while reported, then resolved once", "[profiler]") {
  FindingTracker tracker;
  auto c = tracker.update({leak(7, 10)}, {}, 1000);
  REQUIRE(c.leaks.size() == 1);
  CHECK(c.leaks[0].lifecycle == FindingLifecycle::fresh);
  CHECK(c.leaks[0].first_seen_ms == 1000);
  CHECK(c.resolved_leaks.empty());

  c = tracker.update({leak(7, 20)}, {}, 2000);
  REQUIRE(c.leaks.size() == 1);
  CHECK(c.leaks[0].lifecycle == FindingLifecycle::ongoing);
  CHECK(c.leaks[0].first_seen_ms == 1000);
  CHECK(c.leaks[0].last_seen_ms == 2000);
  CHECK(c.leaks[0].finding.blocked_ns == 20);  // the latest figures
  REQUIRE(tracker.open_leaks().size() == 1);
  CHECK(tracker.open_leaks()[0].lifecycle == FindingLifecycle::ongoing);

  c = tracker.update({leak(8)}, {}, 3000);
  REQUIRE(c.resolved_leaks.size() == 1);
  const auto& gone = c.resolved_leaks[0];
  CHECK(gone.finding.fiber_id == fiberleak::FiberId{7});
  CHECK(gone.lifecycle == FindingLifecycle::resolved);
  CHECK(gone.finding.blocked_ns == 20);  // as last seen
  CHECK(gone.last_seen_ms == 2000);
  CHECK(gone.resolved_ms == 3000);
  REQUIRE(c.leaks.size() == 1);
  CHECK(c.leaks[0].finding.fiber_id == fiberleak::FiberId{8});
  CHECK(c.leaks[0].lifecycle == FindingLifecycle::fresh);

  c = tracker.update({}, {}, 4000);  // resolved once, not again
  CHECK(c.resolved_leaks.size() == 1);
  CHECK(c.resolved_leaks[0].finding.fiber_id == fiberleak::FiberId{8});
  CHECK(tracker.update({}, {}, 5000).resolved_leaks.empty());
  CHECK(tracker.open_leaks().empty());
}

TEST_CASE("findings keep the evaluation's order; resolutions come by fiber id", "[profiler]") {
  FindingTracker tracker;
  tracker.update({leak(9), leak(3), leak(5)}, {}, 1);
  auto c = tracker.update({leak(4), leak(3)}, {}, 2);
  REQUIRE(c.leaks.size() == 2);
  CHECK(c.leaks[0].finding.fiber_id == fiberleak::FiberId{4});
  CHECK(c.leaks[0].lifecycle == FindingLifecycle::fresh);
  CHECK(c.leaks[1].finding.fiber_id == fiberleak::FiberId{3});
  CHECK(c.leaks[1].lifecycle == FindingLifecycle::ongoing);
  REQUIRE(c.resolved_leaks.size() == 2);
  CHECK(c.resolved_leaks[0].finding.fiber_id == fiberleak::FiberId{5});
  CHECK(c.resolved_leaks[1].finding.fiber_id == fiberleak::FiberId{9});
  const auto open = tracker.open_leaks();
  REQUIRE(open.size() == 2);
  CHECK(open[0].finding.fiber_id == fiberleak::FiberId{3});
  CHECK(open[1].finding.fiber_id == fiberleak::FiberId{4});
}

TEST_CASE("growing sites have the same life cycle, keyed by site", "[profiler]") {
  FindingTracker tracker;
  auto c = tracker.update({}, {site("a", 3)}, 1);
  REQUIRE(c.sites.size() == 1);
  CHECK(c.sites[0].lifecycle == FindingLifecycle::fresh);
  c = tracker.update({}, {site("a", 4), site("b", 2)}, 2);
  REQUIRE(c.sites.size() == 2);
  CHECK(c.sites[0].lifecycle == FindingLifecycle::ongoing);
  CHECK(c.sites[0].finding.fibers == 4);
  CHECK(c.sites[1].lifecycle == FindingLifecycle::fresh);
  c = tracker.update({}, {site("b", 3)}, 3);
  REQUIRE(c.resolved_sites.size() == 1);
  CHECK(c.resolved_sites[0].finding.site == "a");
  CHECK(c.resolved_sites[0].resolved_ms == 3);
  REQUIRE(tracker.open_sites().size() == 1);
  CHECK(tracker.open_sites()[0].finding.site == "b");
  CHECK(c.resolved_leaks.empty());  // the two kinds do not mix
}

TEST_CASE("resolve_all() resolves every open finding and what follows is new", "[profiler]") {
  FindingTracker tracker;
  tracker.update({leak(1), leak(2)}, {site("a", 3)}, 1);
  auto c = tracker.resolve_all(2);
  CHECK(c.resolved_leaks.size() == 2);
  CHECK(c.resolved_sites.size() == 1);
  CHECK(c.leaks.empty());
  c = tracker.update({leak(1)}, {}, 3);
  REQUIRE(c.leaks.size() == 1);
  CHECK(c.leaks[0].lifecycle == FindingLifecycle::fresh);
  CHECK(c.leaks[0].first_seen_ms == 3);
}

TEST_CASE("life cycles are named as JSON and logs show them", "[profiler]") {
  CHECK(std::string(to_string(FindingLifecycle::fresh)) == "new");
  CHECK(std::string(to_string(FindingLifecycle::ongoing)) == "ongoing");
  CHECK(std::string(to_string(FindingLifecycle::resolved)) == "resolved");
}

TEST_CASE("each life cycle has its own name, as /api/findings and the webhook spell it", "[profiler]") {
  CHECK(std::string(to_string(FindingLifecycle::fresh)) == "new");
  CHECK(std::string(to_string(FindingLifecycle::ongoing)) == "ongoing");
  CHECK(std::string(to_string(FindingLifecycle::resolved)) == "resolved");
}
