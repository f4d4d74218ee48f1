// The watchdog over dumps made by hand (interval 0: no thread, the test
// calls evaluate_now()): what it logs and calls back as findings come and go.
#include "web/watchdog.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "web_test_support.hpp"

using fiberleak::detail::DumpedFiber;
using fiberleak::detail::FiberDump;
using fiberleak::detail::Watchdog;

namespace {

DumpedFiber parked(std::uint64_t id) {
  DumpedFiber f;
  f.id = fiberleak::FiberId{id};
  f.state = fiberleak::FiberState::blocked;
  f.wait = fiberleak::WaitKind::channel_pop;
  f.wait_reason = "chan receive";
  f.blocked_ns = 60'000'000'000;
  f.stack = std::vector<fiberleak::detail::DumpFrame>{{0, "app::wait()", "/src/app.cpp", 7, false}};
  return f;
}

FiberDump dump_of(std::vector<DumpedFiber> fibers) {
  FiberDump d;
  d.fibers = std::move(fibers);
  return d;
}

// A watchdog whose evaluations see `dumps` in turn, logging to `log`.
std::unique_ptr<Watchdog> watchdog_over(std::vector<FiberDump> dumps, std::ostringstream& log,
                                        Watchdog::Callbacks callbacks) {
  auto next = std::make_shared<std::size_t>(0);
  auto source = [dumps = std::move(dumps), next] { return dumps.at(std::min((*next)++, dumps.size() - 1)); };
  fiberleak::LeakRules rules;
  rules.threshold = std::chrono::seconds(1);
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  return std::make_unique<Watchdog>(source, rules, std::chrono::milliseconds(0), logger, std::move(callbacks));
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

using fiberleak::detail::testing::Command;
using fiberleak::detail::testing::contains;
using fiberleak::detail::testing::Live;
using fiberleak::detail::testing::run;

TEST_CASE("the watchdog logs a leak when it appears and when it resolves, once each", "[web]") {
  std::ostringstream log;
  std::vector<std::uint64_t> called;
  auto w = watchdog_over(
      {dump_of({parked(7)}), dump_of({parked(7)}), dump_of({}), dump_of({})}, log,
      {[&](const fiberleak::LeakFinding& f) { called.push_back(fiberleak::to_integer(f.fiber_id)); }, {}});
  for (int i = 0; i < 4; ++i) w->evaluate_now();
  CHECK(w->evaluations() == 4);
  CHECK(called == std::vector<std::uint64_t>{7});
  const std::string text = log.str();
  INFO(text);
  CHECK(count(text, "leak suspect: 1 fiber at chan receive @ app::wait() at app.cpp:7: fiber 7 for 1m0s") == 1);
  CHECK(count(text, "leak resolved: 1 fiber at chan receive @ app::wait() at app.cpp:7 woke up or ended") == 1);
  CHECK(text.find("leak suspect") < text.find("leak resolved"));
  CHECK(w->latest().findings.empty());
}

TEST_CASE("a pile-up is one log line per site, however many fibers, and more at it is one line again", "[web]") {
  std::ostringstream log;
  std::vector<DumpedFiber> pile, more;
  for (std::uint64_t id = 1; id <= 1600; ++id) pile.push_back(parked(id));
  more = pile;
  for (std::uint64_t id = 1601; id <= 1650; ++id) more.push_back(parked(id));
  int calls = 0;
  auto w = watchdog_over({dump_of(pile), dump_of(more), dump_of({})}, log,
                         {[&](const fiberleak::LeakFinding&) { ++calls; }, {}});
  for (int i = 0; i < 3; ++i) w->evaluate_now();
  CHECK(calls == 1650);  // the program is still called back per fiber
  const std::string text = log.str();
  INFO(text.substr(0, 2000));
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);
  CHECK(count(text, "leak suspect: 1600 fibers at chan receive @ app::wait() at app.cpp:7, the oldest fiber ") == 1);
  CHECK(count(text, "more at a known site: leak suspect: 50 fibers at chan receive") == 1);
  CHECK(count(text, "leak resolved: 1650 fibers at chan receive") == 1);
}

TEST_CASE("a watchdog callback that throws is logged and the evaluation's other findings still come", "[web]") {
  std::ostringstream log;
  int calls = 0;
  auto w = watchdog_over({dump_of({parked(7), parked(8)})}, log,
                         {[&](const fiberleak::LeakFinding&) {
                            ++calls;
                            throw std::runtime_error("callback bug");
                          },
                          {}});
  CHECK_NOTHROW(w->evaluate_now());
  CHECK_NOTHROW(w->evaluate_now());  // the same findings: ongoing, not reported again
  CHECK(calls == 2);
  const std::string text = log.str();
  INFO(text);
  CHECK(count(text, "leak suspect: 2 fibers at chan receive @ app::wait()") == 1);  // one line: one site
  CHECK(count(text, "watchdog callback failed: callback bug") == 2);
  CHECK(w->latest().findings.size() == 2);
}

TEST_CASE("the watchdog logs a new finding once and calls the program back", "[web]") {
  std::atomic<int> calls{0};
  fiberleak::EndpointOptions o;
  o.rules.threshold = std::chrono::nanoseconds(30'000'000);
  o.rules.ignore_names = {"pile"};
  o.watchdog_interval = std::chrono::milliseconds(20);
  o.on_leak = [&](const fiberleak::LeakFinding&) { ++calls; };
  std::ostringstream log;
  o.logger = std::make_shared<spdlog::logger>("fiberleak", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  const auto host_default = spdlog::default_logger();
  {
    Live live(o);
    // The first evaluation symbolizes cold (DWARF loading): allow it time on a busy machine.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (calls.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // ~15 more evaluations
  }                                                               // the watchdog thread has stopped: log is quiet
  CHECK(calls.load() == 2);  // the receiver and the locker, once each despite the repeated evaluations
  const std::string text = log.str();
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(contains(text, "leak suspect: 1 fiber at "));
  CHECK(contains(text, "\"stuck-locker\" for "));
  CHECK(contains(text, "leak suspect: 1 fiber at mutex lock @ "));
  CHECK(contains(text, "fiberleak::detail::testing::lock_mutex_never_unlocked"));
  CHECK(contains(text, "parked_fibers.hpp:"));
  // The host's logging is untouched: same default logger, the program's own
  // logger not registered by the library.
  CHECK(spdlog::default_logger() == host_default);
  CHECK(spdlog::get("fiberleak") != o.logger);
}

TEST_CASE("the library's logger is registered as fiberleak, obeys spdlog::set_level, is not the default", "[web]") {
  const auto host_default = spdlog::default_logger();
  spdlog::drop("fiberleak");               // what an earlier test in this process registered
  spdlog::set_level(spdlog::level::warn);  // the host's level before the logger exists
  {
    fiberleak::EndpointOptions o;
    o.watchdog_interval = std::chrono::milliseconds(50);
    Live live(o);
    const auto logger = spdlog::get("fiberleak");
    REQUIRE(logger != nullptr);
    CHECK(logger == fiberleak::detail::default_logger());
    CHECK(logger->name() == "fiberleak");
    CHECK(logger->level() == spdlog::level::warn);
    spdlog::set_level(spdlog::level::off);  // and after: the host silences it
    CHECK(logger->level() == spdlog::level::off);
    CHECK(logger != spdlog::default_logger());
    CHECK(spdlog::default_logger() == host_default);
  }
  spdlog::set_level(spdlog::level::info);

  // A logger the host registered under that name first is the one findings go to.
  spdlog::drop("fiberleak");
  std::ostringstream log;
  auto hosts = std::make_shared<spdlog::logger>("fiberleak", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  spdlog::register_logger(hosts);
  CHECK(fiberleak::detail::default_logger() == hosts);
  {
    fiberleak::EndpointOptions o;
    o.rules.threshold = std::chrono::nanoseconds(0);  // every parked fiber, at the first evaluation
    o.watchdog_interval = std::chrono::hours(1);
    Live live(o);
    const auto watchdog = fiberleak::detail::Watchdog::running_shared();
    REQUIRE(watchdog != nullptr);
    while (watchdog->evaluations() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }  // the watchdog has stopped: the log can be read
  CHECK(contains(log.str(), "leak suspect: "));
  CHECK(spdlog::default_logger() == host_default);
  spdlog::drop("fiberleak");
}
