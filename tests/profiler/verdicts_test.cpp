// The verdicts beyond the threshold: primitives in use spare their waiters,
// re-armed timed waits count whole, one look tells a growing site, and
// findings group by park site for people.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "profiler/leak_rules.hpp"
#include "profiler/site_groups.hpp"

using fiberleak::FiberId;
using fiberleak::LeakRules;
using fiberleak::detail::DumpedFiber;
using fiberleak::detail::FiberDump;
using fiberleak::detail::find_leaks;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kNow = 10'000 * kSecond;

DumpedFiber parked_on(std::uint64_t id, std::uint64_t primitive, std::int64_t blocked_ns, const char* function) {
  DumpedFiber f;
  f.id = FiberId{id};
  f.state = fiberleak::FiberState::blocked;
  f.wait = fiberleak::WaitKind::channel_pop;
  f.wait_reason = "chan receive";
  f.blocked_ns = blocked_ns;
  f.created_ns = kNow - blocked_ns - kSecond;
  f.waits_on = primitive;
  f.stack = std::vector<fiberleak::detail::DumpFrame>{{0, function, "/src/app.cpp", 7, false}};
  return f;
}

FiberDump dump_of(std::vector<DumpedFiber> fibers) {
  FiberDump d;
  d.taken_at_ns = kNow;
  d.waits_on_recorded = true;
  d.fibers = std::move(fibers);
  return d;
}

LeakRules thirty_seconds() {
  LeakRules rules;
  rules.threshold = std::chrono::seconds(30);
  return rules;
}

}  // namespace

TEST_CASE("waiters of a primitive that keeps waking fibers are no suspects however long each waited",
          "[profiler][verdicts]") {
  // A pool of four on a job channel still fed: the latest job's worker came
  // back 2 s ago; the others have waited longer than the threshold.
  std::vector<DumpedFiber> pool;
  for (std::uint64_t id = 1; id <= 4; ++id) pool.push_back(parked_on(id, 0x1000, (20 + 10 * id) * kSecond, "pool()"));
  pool[0].blocked_ns = 2 * kSecond;
  pool[0].rewaits = true;
  // Fibers on another primitive nobody uses, waiting as long: suspects.
  pool.push_back(parked_on(10, 0x2000, 45 * kSecond, "stuck()"));
  CHECK(find_leaks(dump_of(pool), thirty_seconds()).size() == 1);

  SECTION("once nothing has woken anyone there for the threshold, all are suspects") {
    pool[0].blocked_ns = 31 * kSecond;
    CHECK(find_leaks(dump_of(pool), thirty_seconds()).size() == 5);
  }
  SECTION("newcomers piling up are no evidence of use") {
    pool[0].rewaits = false;
    CHECK(find_leaks(dump_of(pool), thirty_seconds()).size() == 4);
  }
  SECTION("without owners in the dump (Go) the threshold alone decides") {
    FiberDump d = dump_of(pool);
    for (DumpedFiber& f : d.fibers) f.waits_on = 0;
    d.waits_on_recorded = false;
    CHECK(find_leaks(d, thirty_seconds()).size() == 4);
  }
}

TEST_CASE("a re-armed timed wait is a suspect that says so", "[profiler][verdicts]") {
  DumpedFiber f = parked_on(3, 0x3000, 40 * kSecond, "poll_flag()");
  f.state = fiberleak::FiberState::sleeping;
  f.wait = fiberleak::WaitKind::condition_variable;
  f.wait_reason = "sync.Cond.Wait";
  f.rearmed = true;
  const auto findings = find_leaks(dump_of({f}), thirty_seconds());
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == fiberleak::Verdict::suspect);
  CHECK(findings[0].reason == "parked for 40.0s (a timed wait re-armed after every timeout), past the 30.0s threshold");
  CHECK(findings[0].waits_on == 0x3000);
}

TEST_CASE("one look tells a site whose fibers arrived steadily and never left", "[profiler][verdicts]") {
  using fiberleak::detail::grows_at_one_look;
  // One arrival every 10 s for the last 80 s, each parked since.
  std::vector<DumpedFiber> steady;
  for (std::uint64_t i = 0; i < 8; ++i) {
    DumpedFiber f = parked_on(i + 1, 0x4000 + i, 0, "reply()");
    f.created_ns = kNow - static_cast<std::int64_t>(80 - 10 * i) * kSecond;
    f.blocked_ns = kNow - f.created_ns - 5'000'000;  // ran 5 ms, then parked
    steady.push_back(f);
  }
  auto look = [](const std::vector<DumpedFiber>& fibers) {
    std::vector<const DumpedFiber*> p;
    for (const DumpedFiber& f : fibers) p.push_back(&f);
    return grows_at_one_look(p, kNow, 2);
  };
  REQUIRE(look(steady));
  CHECK(*look(steady) ==
        "8 fibers arrived steadily over 1m20s (the latest 10.0s ago), each parked here since it was created");

  SECTION("a pool started at once is not growing") {
    for (DumpedFiber& f : steady) {
      f.created_ns = kNow - 80 * kSecond;
      f.blocked_ns = 80 * kSecond - 5'000'000;
    }
    CHECK_FALSE(look(steady));
  }
  SECTION("arrivals that stopped long ago are not growing") {
    for (std::size_t i = 0; i < steady.size(); ++i) {
      steady[i].created_ns = kNow - static_cast<std::int64_t>(800 - 10 * i) * kSecond;
      steady[i].blocked_ns = kNow - steady[i].created_ns;
    }
    CHECK_FALSE(look(steady));
  }
  SECTION("fibers that woke and came back (connection handlers) are not arrivals that never left") {
    for (DumpedFiber& f : steady) f.blocked_ns = 1 * kSecond;
    CHECK_FALSE(look(steady));
  }
  SECTION("three are not enough to tell") {
    steady.resize(3);
    CHECK_FALSE(look(steady));
  }
  SECTION("the detector reports it from its first evaluation, with the reason") {
    fiberleak::detail::LeakDetector detector(thirty_seconds());
    const auto result = detector.evaluate(dump_of(steady));
    REQUIRE(result.growing.size() == 1);
    CHECK(result.growing[0].history.empty());
    CHECK(result.growing[0].fibers == 8);
    CHECK(result.growing[0].reason.rfind("8 fibers arrived steadily", 0) == 0);
  }
}

TEST_CASE("several evaluations in a row tell a growing site, with the counts as its reason", "[profiler][verdicts]") {
  fiberleak::detail::LeakDetector detector(thirty_seconds());
  std::vector<DumpedFiber> fibers;
  fiberleak::detail::LeakDetector::Result result;
  for (int step = 1; step <= 4; ++step) {
    for (int i = 0; i < step; ++i) {
      DumpedFiber f = parked_on(fibers.size() + 1, 0x5000, 1 * kSecond, "handler()");
      f.created_ns = 0;  // unknown: one look cannot tell
      fibers.push_back(f);
    }
    result = detector.evaluate(dump_of(fibers));
  }
  REQUIRE(result.growing.size() == 1);
  CHECK(result.growing[0].reason == "rose in 3 evaluations in a row (3, 6, 10)");
}

TEST_CASE("findings group by park site: verdict, count, oldest, growing", "[profiler][verdicts]") {
  using fiberleak::LeakFinding;
  auto finding = [](std::uint64_t id, const char* site, std::int64_t blocked_ns, fiberleak::Verdict v) {
    LeakFinding f;
    f.fiber_id = FiberId{id};
    f.site = site;
    f.blocked_ns = blocked_ns;
    f.verdict = v;
    f.waits_on = 0x100 + id;
    f.reason = "because " + std::to_string(id);
    return f;
  };
  std::vector<LeakFinding> findings;
  for (std::uint64_t id = 1; id <= 1600; ++id)
    findings.push_back(
        finding(id, "chan send @ reply()", static_cast<std::int64_t>(id) * kSecond, fiberleak::Verdict::suspect));
  findings.push_back(finding(2000, "mutex lock @ a()", kSecond, fiberleak::Verdict::definite));
  findings.push_back(finding(2001, "mutex lock @ a()", 2 * kSecond, fiberleak::Verdict::suspect));
  fiberleak::GrowingSite growing_reply{"chan send @ reply()", "reply()", "", 0, "chan send", 1600, {}, "it grows"};
  fiberleak::GrowingSite growing_only{"chan receive @ idle()", "idle()", "", 0, "chan receive", 12, {}, "it too"};
  const auto groups = fiberleak::detail::group_by_site(findings, {growing_only, growing_reply});
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].site == "mutex lock @ a()");  // definite first
  CHECK(groups[0].verdict == "definite");
  CHECK(groups[0].fibers == std::vector<FiberId>{FiberId{2001}, FiberId{2000}});
  CHECK(groups[1].verdict == "suspect");
  CHECK(groups[1].fibers.size() == 1600);
  CHECK(groups[1].oldest->fiber_id == FiberId{1600});
  CHECK(groups[1].primitives == 1600);
  CHECK(groups[2].verdict == "growing");
  CHECK_FALSE(groups[2].oldest);
  CHECK(fiberleak::detail::describe(groups[1]) ==
        "leak suspect: 1600 fibers at chan send @ reply() (on 1600 primitives), the oldest fiber 1600 for 26m40s "
        "(because 1600); growing: it grows");
  CHECK(fiberleak::detail::describe(groups[2]) == "growing site: 12 fibers at chan receive @ idle(); growing: it too");
}
