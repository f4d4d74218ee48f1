// The watchdog over dumps made by hand (interval 0: no thread, the test
// calls evaluate_now()): what it logs and calls back as findings come and go.
#include "web/watchdog.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <stdexcept>

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
  CHECK(count(text, "leak suspect: fiber 7 ") == 1);
  CHECK(count(text, "leak resolved: fiber 7 woke up or ended") == 1);
  CHECK(text.find("leak suspect") < text.find("leak resolved"));
  CHECK(w->latest().findings.empty());
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
  CHECK(count(text, "leak suspect: fiber ") == 2);
  CHECK(count(text, "watchdog callback failed: callback bug") == 2);
  CHECK(w->latest().findings.size() == 2);
}
