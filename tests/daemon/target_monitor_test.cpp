// TargetMonitor's bookkeeping across scrapes, fed dumps directly.
#include "daemon/target_monitor.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <limits>

#include "daemon/daemon_config.hpp"

using fiberleak::FiberState;
using fiberleak::detail::DumpedFiber;
using fiberleak::detail::FiberDump;
using fiberleak::detail::TargetMonitor;
using fiberleak::detail::TrackedFinding;

namespace {

constexpr std::int64_t kMinute = 60'000'000'000;

FiberDump one_parked(std::uint64_t id, std::int64_t blocked_ns, std::int64_t taken_at = 1000, bool exact = true) {
  DumpedFiber f;
  f.id = fiberleak::FiberId{id};
  f.state = FiberState::blocked;
  f.wait = fiberleak::WaitKind::channel_pop;
  f.wait_reason = "chan receive";
  f.blocked_ns = blocked_ns;
  f.blocked_exact = exact;
  f.stack = std::vector<fiberleak::detail::DumpFrame>{{0, "main.leak", "/src/main.go", 7, false}};
  FiberDump d;
  d.taken_at_ns = taken_at;
  d.fibers.push_back(f);
  return d;
}

TargetMonitor monitor(std::int64_t threshold_ns, std::vector<TrackedFinding>* changes) {
  fiberleak::detail::TargetConfig c;
  c.name = "t";
  c.url = "http://127.0.0.1:1";
  c.rules.threshold = std::chrono::nanoseconds(threshold_ns);
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  return TargetMonitor(c, 1 << 20, logger, [changes](const TrackedFinding& t) { changes->push_back(t); });
}

}  // namespace

TEST_CASE("Go's blocked minutes carry over between scrapes only when they prove the same park", "[daemon]") {
  using fiberleak::detail::combine_go_blocked;
  // 3 minutes, then 3 minutes again 50 s later: the same park, now >= 3m50s.
  CHECK(combine_go_blocked(3 * kMinute, 3 * kMinute, 50'000'000'000) == 3 * kMinute + 50'000'000'000);
  // No minutes now: it woke and parked again since (or a GC has not seen it).
  CHECK(combine_go_blocked(0, 3 * kMinute, 50'000'000'000) == 0);
  // Seen twice without minutes: not known to have been blocked all along.
  CHECK(combine_go_blocked(0, 0, 50'000'000'000) == 0);
  // 1 minute now, 5 minutes after an earlier 1: a new park (woke in between).
  CHECK(combine_go_blocked(kMinute, kMinute, 5 * kMinute) == kMinute);
  // A target's figures near the top of int64 saturate instead of wrapping.
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  CHECK(combine_go_blocked(kMax, kMax, 50'000'000'000) == kMax);
  CHECK(combine_go_blocked(kMax - kMinute, kMax - kMinute, 2 * kMinute) == kMax);
}

TEST_CASE("findings go from new to ongoing to resolved and are reported once each way", "[daemon]") {
  std::vector<TrackedFinding> changes;
  TargetMonitor m = monitor(kMinute, &changes);
  m.evaluate(one_parked(7, 2 * kMinute), false, 1000);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].lifecycle == TrackedFinding::Lifecycle::fresh);
  m.evaluate(one_parked(7, 3 * kMinute, 2000), false, 2000);
  CHECK(changes.size() == 1);  // ongoing: nothing new to say
  CHECK(m.findings().at(0).lifecycle == TrackedFinding::Lifecycle::ongoing);
  m.evaluate(one_parked(8, 0, 3000), false, 3000);  // fiber 7 is gone
  REQUIRE(changes.size() == 2);
  CHECK(changes[1].lifecycle == TrackedFinding::Lifecycle::resolved);
  CHECK(changes[1].finding.fiber_id == fiberleak::FiberId{7});
  CHECK(m.status().leak_suspects == 0);
}

TEST_CASE("a Go goroutine parked across scrapes accumulates time only while its minutes prove it", "[daemon]") {
  std::vector<TrackedFinding> changes;
  TargetMonitor m = monitor(4 * kMinute, &changes);
  m.evaluate(one_parked(5, 3 * kMinute, 0, false), true, 0);
  CHECK(m.status().leak_suspects == 0);
  m.evaluate(one_parked(5, 3 * kMinute, 0, false), true, 70'000);  // 70 s later, still "3 minutes"
  CHECK(m.status().leak_suspects == 1);
  REQUIRE(m.findings().size() == 1);
  CHECK(m.findings()[0].finding.blocked_ns == 3 * kMinute + 70'000'000'000);
  m.evaluate(one_parked(5, 0, 0, false), true, 140'000);  // no minutes: it woke and parked again
  CHECK(m.status().leak_suspects == 0);
}

TEST_CASE("a target whose clock goes back has restarted: its history starts over", "[daemon]") {
  std::vector<TrackedFinding> changes;
  TargetMonitor m = monitor(kMinute, &changes);
  m.evaluate(one_parked(7, 2 * kMinute, 5'000'000), false, 1000);
  m.evaluate(one_parked(7, 2 * kMinute, 1'000), false, 2000);  // same id, but a new process
  CHECK(m.status().restarts == 1);
  REQUIRE(changes.size() == 3);
  CHECK(changes[1].lifecycle == TrackedFinding::Lifecycle::resolved);
  CHECK(changes[2].lifecycle == TrackedFinding::Lifecycle::fresh);
}
