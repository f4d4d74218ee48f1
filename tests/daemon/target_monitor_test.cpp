// TargetMonitor's bookkeeping across scrapes, fed dumps directly.
#include "daemon/target_monitor.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <sstream>

#include "daemon/daemon_config.hpp"
#include "daemon/go_dump_parser.hpp"
#include "hostile_server.hpp"

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

FiberDump go_dump(const std::string& name) {
  std::ifstream in(std::string(FIBERLEAK_TESTDATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return fiberleak::detail::parse_go_dump(ss.str());
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

// go119_fresh.txt and go119_after_70s.txt are one real Go process 70 s apart
// (goroutines 7 and 8 served the first scrape; 19-29 live on).
TEST_CASE("a Go target is one process while its ids live on, and restarted once an ended id comes back", "[daemon]") {
  std::vector<TrackedFinding> changes;
  TargetMonitor m = monitor(30'000'000'000, &changes);
  m.evaluate(go_dump("go119_fresh.txt"), true, 0);
  m.evaluate(go_dump("go119_after_70s.txt"), true, 70'000);
  CHECK(m.status().restarts == 0);
  CHECK(m.status().leak_suspects == 9);
  const std::size_t reported = changes.size();
  // The same program started again: the same layout, and goroutine 7 (ended
  // in the first process) serves the scrape again.
  m.evaluate(go_dump("go119_fresh.txt"), true, 71'000);
  CHECK(m.status().restarts == 1);
  std::size_t resolved = 0;
  for (std::size_t i = reported; i < changes.size(); ++i) {
    resolved += changes[i].lifecycle == TrackedFinding::Lifecycle::resolved;
  }
  CHECK(resolved == 9);
  CHECK(m.status().leak_suspects == 0);  // the new process's goroutines are fresh: none blocked long yet
  m.evaluate(go_dump("go119_after_70s.txt"), true, 141'000);
  CHECK(m.status().restarts == 1);
}

TEST_CASE("a Go id that reappears with another creator means a new process", "[daemon]") {
  std::vector<TrackedFinding> changes;
  TargetMonitor m = monitor(30'000'000'000, &changes);
  m.evaluate(go_dump("go119_after_70s.txt"), true, 0);
  m.evaluate(go_dump("go119_after_70s.txt"), true, 1000);
  CHECK(m.status().restarts == 0);
  FiberDump other = go_dump("go119_after_70s.txt");
  for (auto& g : other.fibers) {
    if (g.id != fiberleak::FiberId{19}) continue;
    std::vector<fiberleak::detail::DumpFrame> creator(g.creation_stack.begin(), g.creation_stack.end());
    creator.front().function = "net/http.(*Server).Serve";
    g.creation_stack = creator;
  }
  m.evaluate(other, true, 2000);
  CHECK(m.status().restarts == 1);
}

namespace {

// `n` parked fibers with ids from `first_id`, at `sites` park sites.
FiberDump many_parked(std::uint64_t first_id, std::size_t n, std::size_t sites = 1) {
  FiberDump d = one_parked(first_id, 2 * kMinute);
  for (std::size_t i = 1; i < n; ++i) {
    d.fibers.push_back(d.fibers.front());
    d.fibers.back().id = fiberleak::FiberId{first_id + i};
    d.fibers.back().stack = std::vector<fiberleak::detail::DumpFrame>{
        {0, "main.leak", "/src/main.go", static_cast<int>(7 + i % sites), false}};
  }
  return d;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("thousands of findings changing at every scrape are logged one line per site, a bounded number", "[daemon]") {
  std::ostringstream log;
  fiberleak::detail::TargetConfig c;
  c.name = "t";
  c.url = "http://127.0.0.1:1";
  c.rules.threshold = std::chrono::nanoseconds(kMinute);
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log));
  logger->set_pattern("%v");
  TargetMonitor m(c, 1 << 20, logger);
  constexpr std::size_t kLogged = TargetMonitor::kLoggedChanges;

  m.evaluate(many_parked(1, 10'000), false, 1000);  // one site: one line
  CHECK(m.status().leak_suspects == 10'000);
  CHECK(lines(log.str()) == 1);
  CHECK_THAT(log.str(), Catch::Contains("target t: leak suspect: 10000 fibers at chan receive @ main.leak at "));
  log.str("");
  m.evaluate(many_parked(20'001, 10'000, 100), false, 2000);  // every one replaced, at 100 sites
  CHECK(lines(log.str()) == 1 + kLogged + 1);                 // the resolved site, 10 new sites, the rest in one line
  CHECK_THAT(log.str(), Catch::Contains("target t: resolved: 10000 fibers at chan receive @ main.leak at "));
  CHECK_THAT(log.str(), Catch::Contains("target t: 9000 more new and 0 more resolved leaked fibers at other sites"));
  log.str("");
  m.evaluate(many_parked(20'001, 10'000, 100), false, 3000);  // nothing changed: nothing to say
  CHECK(log.str().empty());
}

TEST_CASE("a scrape of a target that drips its answer fails at the target's timeout, saying so", "[daemon]") {
  using fiberleak::testing::HostileServer;
  const std::string answer = HostileServer::response(200, "Content-Type: application/json\r\n", std::string(600, ' '));
  HostileServer drip(answer, answer.size() - 600, std::chrono::milliseconds(100));  // a minute of body
  fiberleak::detail::TargetConfig c;
  c.name = "drip";
  c.url = drip.url();
  c.timeout = std::chrono::milliseconds(500);
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  TargetMonitor m(c, 1 << 20, logger);
  const auto start = std::chrono::steady_clock::now();
  m.scrape_once();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  const auto status = m.status();
  CHECK_FALSE(status.up);
  CHECK(status.scrapes == 1);
  CHECK(status.failures == 1);
  CHECK(status.error == "timed out after 500ms");
}
