#include <catch2/catch.hpp>

#include "profiler/byte_size.hpp"
#include "profiler/duration.hpp"
#include "profiler/leak_rules.hpp"
#include "sample_dump.hpp"

using fiberleak::detail::LeakDetector;
using fiberleak::LeakRules;
using fiberleak::detail::find_leaks;

TEST_CASE("fibers blocked past the threshold are flagged, longest first", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(60'000'000'000);
  const auto findings = find_leaks(fiberleak::detail::testing::sample_dump(), rules);
  REQUIRE(findings.size() == 2);
  CHECK(findings[0].fiber_id == 7);
  CHECK(findings[0].function == "app::wait_for_orders(boost::fibers::buffered_channel<int>&)");
  CHECK(findings[0].file == "/src/app/orders.cpp");
  CHECK(findings[0].line == 42);
  CHECK(findings[1].fiber_id == 9);
  CHECK(findings[1].function == "app::update_ledger()");
}

TEST_CASE("per-wait-kind thresholds replace the default", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(60'000'000'000);
  rules.threshold_by_wait[fiberleak::WaitKind::mutex] = std::chrono::nanoseconds(120'000'000'000);
  const auto findings = find_leaks(fiberleak::detail::testing::sample_dump(), rules);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].fiber_id == 7);
}

TEST_CASE("ignore rules by name, top function, any function and creator keep fibers out", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(1'000'000'000);
  CHECK(find_leaks(fiberleak::detail::testing::sample_dump(), rules).size() == 3);
  LeakRules by_name = rules;
  by_name.ignore_names = {"order-*"};
  CHECK(find_leaks(fiberleak::detail::testing::sample_dump(), by_name).size() == 1);
  LeakRules by_top = rules;
  by_top.ignore_top_functions = {"app::update_ledger"};
  CHECK(find_leaks(fiberleak::detail::testing::sample_dump(), by_top).size() == 2);
  LeakRules by_any = rules;
  by_any.ignore_any_functions = {"app::order_worker"};
  CHECK(find_leaks(fiberleak::detail::testing::sample_dump(), by_any).size() == 1);
  LeakRules by_creator = rules;
  by_creator.ignore_created_by = {"app::start_workers"};
  const auto left = find_leaks(fiberleak::detail::testing::sample_dump(), by_creator);
  REQUIRE(left.size() == 1);
  CHECK(left[0].fiber_id == 9);
  CHECK(fiberleak::detail::ignored_by(by_name, fiberleak::detail::testing::sample_dump().fibers[1]).value() == "ignore_names: order-*");
}

TEST_CASE("a fiber that wakes up drops its flag", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(60'000'000'000);
  auto dump = fiberleak::detail::testing::sample_dump();
  CHECK(find_leaks(dump, rules).size() == 2);
  dump.fibers[1].state = fiberleak::FiberState::runnable;
  dump.fibers[1].blocked_ns = 0;
  const auto findings = find_leaks(dump, rules);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].fiber_id == 9);
}

TEST_CASE("a park site whose population rises across consecutive evaluations is flagged as growing", "[profiler]") {
  LeakRules rules;
  rules.growing_evaluations = 3;
  LeakDetector detector(rules);
  auto dump = fiberleak::detail::testing::sample_dump();
  const auto base = dump.fibers[1];
  std::size_t flagged_at = 0;
  for (std::size_t round = 1; round <= 5; ++round) {
    auto copy = base;
    copy.id = 100 + round;
    dump.fibers.push_back(copy);
    const auto result = detector.evaluate(dump);
    if (!result.growing.empty() && flagged_at == 0) {
      flagged_at = round;
      CHECK(result.growing[0].function == "app::wait_for_orders(boost::fibers::buffered_channel<int>&)");
      CHECK(result.growing[0].fibers == 2 + round);
    }
  }
  CHECK(flagged_at == 4);  // the first evaluation sets the baseline; three rises follow
  // A flat evaluation resets the streak.
  const auto flat = detector.evaluate(dump);
  CHECK(flat.growing.empty());
}

TEST_CASE("durations parse as people write them and reject the rest", "[profiler]") {
  std::int64_t ns = 0;
  CHECK(fiberleak::detail::parse_duration("30s", ns));
  CHECK(ns == 30'000'000'000);
  CHECK(fiberleak::detail::parse_duration("1m30s", ns));
  CHECK(ns == 90'000'000'000);
  CHECK(fiberleak::detail::parse_duration("250ms", ns));
  CHECK(ns == 250'000'000);
  CHECK(fiberleak::detail::parse_duration("2", ns));
  CHECK(ns == 2'000'000'000);
  CHECK(fiberleak::detail::parse_duration("1.5h", ns));
  CHECK(ns == 5'400'000'000'000);
  for (const char* bad : {"", "-1s", "abc", "10x", "1s2", "s", "99999999999999h"}) {
    INFO(bad);
    CHECK_FALSE(fiberleak::detail::parse_duration(bad, ns));
  }
  CHECK(fiberleak::detail::format_duration(185'000'000'000) == "3m5s");
}

TEST_CASE("byte counts read in binary units and a finding says what its fiber holds", "[profiler]") {
  CHECK(fiberleak::detail::format_bytes(0) == "0 B");
  CHECK(fiberleak::detail::format_bytes(1023) == "1023 B");
  CHECK(fiberleak::detail::format_bytes(131072) == "128 KiB");
  CHECK(fiberleak::detail::format_bytes(16 * 1024 + 300) == "16.3 KiB");
  CHECK(fiberleak::detail::format_bytes(3 * 1024 * 1024 / 2) == "1.5 MiB");
  CHECK(fiberleak::detail::format_bytes(-2048) == "-2 KiB");

  fiberleak::LeakFinding f;
  f.fiber_id = 12;
  f.name = "conn";
  f.wait_reason = "chan receive";
  f.blocked_ns = 185'000'000'000;
  f.function = "handler(int)";
  f.file = "main.cpp";
  f.line = 42;
  CHECK(fiberleak::detail::describe(f) == "fiber 12 \"conn\" blocked in chan receive for 3m5s at handler(int) (main.cpp:42)");
  f.stack_bytes = 131072;
  f.heap_live_bytes = 3 * 1024 * 1024 / 2;
  f.blocked_exact = false;
  CHECK(fiberleak::detail::describe(f) ==
        "fiber 12 \"conn\" blocked in chan receive for at least 3m5s at handler(int) (main.cpp:42), "
        "holding stack 128 KiB, heap 1.5 MiB");
}
