#include <catch2/catch.hpp>

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
