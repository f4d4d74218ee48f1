#include "profiler/leak_rules.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

#include "profiler/duration.hpp"
#include "sample_dump.hpp"

using fiberleak::LeakRules;
using fiberleak::detail::find_leaks;
using fiberleak::detail::LeakDetector;

TEST_CASE("fibers blocked past the threshold are flagged, longest first", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(60'000'000'000);
  const auto findings = find_leaks(fiberleak::detail::testing::sample_dump(), rules);
  REQUIRE(findings.size() == 2);
  CHECK(findings[0].fiber_id == fiberleak::FiberId{7});
  CHECK(findings[0].function == "app::wait_for_orders(boost::fibers::buffered_channel<int>&)");
  CHECK(findings[0].file == "/src/app/orders.cpp");
  CHECK(findings[0].line == 42);
  CHECK(findings[1].fiber_id == fiberleak::FiberId{9});
  CHECK(findings[1].function == "app::update_ledger()");
}

TEST_CASE("per-wait-kind thresholds replace the default", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(60'000'000'000);
  rules.threshold_by_wait[fiberleak::WaitKind::mutex] = std::chrono::nanoseconds(120'000'000'000);
  const auto findings = find_leaks(fiberleak::detail::testing::sample_dump(), rules);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].fiber_id == fiberleak::FiberId{7});
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
  CHECK(left[0].fiber_id == fiberleak::FiberId{9});
  CHECK(fiberleak::detail::ignored_by(by_name, fiberleak::detail::testing::sample_dump().fibers[1]).value() ==
        "ignore_names: order-*");
}

TEST_CASE("ignore rules by label keep labelled fibers out, the name being the label fiber", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(1'000'000'000);
  const auto dump = fiberleak::detail::testing::sample_dump();
  LeakRules by_label = rules;
  by_label.ignore_labels = {"request:r7*"};
  auto left = find_leaks(dump, by_label);
  CHECK(left.size() == 2);
  CHECK(fiberleak::detail::ignored_by(by_label, dump.fibers[3]).value() == "ignore_labels: request:r7*");
  by_label.ignore_labels = {"fiber:order-worker"};
  left = find_leaks(dump, by_label);
  REQUIRE(left.size() == 1);
  CHECK(left[0].labels == std::vector<fiberleak::Label>{{"request", "r7 \"quoted\""}});  // findings carry labels
  by_label.ignore_labels = {"request:r8", "request", "other:r7 \"quoted\""};  // no match, no ':' matches nothing
  CHECK(find_leaks(dump, by_label).size() == 3);
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
  CHECK(findings[0].fiber_id == fiberleak::FiberId{9});
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
    copy.id = fiberleak::FiberId{100 + round};
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

TEST_CASE("a main fiber waiting for its scheduler is no leak unless main fibers are asked for", "[profiler]") {
  auto dump = fiberleak::detail::testing::sample_dump();
  dump.fibers[0].state = fiberleak::FiberState::blocked;  // the main fiber, parked for long
  dump.fibers[0].wait = fiberleak::WaitKind::condition_variable;
  dump.fibers[0].wait_reason = "condition wait";
  dump.fibers[0].blocked_ns = 3'600'000'000'000;
  LeakRules rules;
  rules.threshold = std::chrono::seconds(60);
  auto ids = [](const std::vector<fiberleak::LeakFinding>& findings) {
    std::vector<std::uint64_t> out;
    for (const auto& f : findings) out.push_back(fiberleak::to_integer(f.fiber_id));
    return out;
  };
  const auto without = ids(find_leaks(dump, rules));
  CHECK(std::find(without.begin(), without.end(), 1u) == without.end());
  rules.include_main_fibers = true;
  const auto with = ids(find_leaks(dump, rules));
  CHECK(std::find(with.begin(), with.end(), 1u) != with.end());
}

TEST_CASE("a deadlock is a definite finding below the threshold; suspects say their threshold", "[profiler]") {
  auto dump = fiberleak::detail::testing::sample_dump();
  dump.waits_on_recorded = true;
  // Two of the sample's fibers made into a deadlock parked for 1 s only.
  fiberleak::detail::DumpedFiber a = dump.fibers[1], b = dump.fibers[1];
  a.id = fiberleak::FiberId{100};
  a.name = "a";
  b.id = fiberleak::FiberId{101};
  b.name = "b";
  for (auto* f : {&a, &b}) {
    f->state = fiberleak::FiberState::blocked;
    f->wait = fiberleak::WaitKind::mutex;
    f->wait_reason = "mutex lock";
    f->blocked_ns = 1'000'000'000;
  }
  a.waits_for = fiberleak::FiberId{101};
  b.waits_for = fiberleak::FiberId{100};
  dump.fibers.push_back(a);
  dump.fibers.push_back(b);
  LeakRules rules;
  rules.threshold = std::chrono::seconds(60);
  const auto findings = find_leaks(dump, rules);
  REQUIRE(findings.size() >= 3);
  CHECK(findings[0].verdict == fiberleak::Verdict::definite);  // definite first
  CHECK(findings[1].verdict == fiberleak::Verdict::definite);
  CHECK(findings[0].cycle.size() == 2);
  CHECK(findings[0].reason ==
        "deadlock: fiber 100 \"a\" and fiber 101 \"b\" wait for each other (mutex lock, mutex lock)");
  const auto& suspect = findings[2];
  CHECK(suspect.verdict == fiberleak::Verdict::suspect);
  CHECK(suspect.reason.find(", past the 1m0s threshold") != std::string::npos);
  CHECK(fiberleak::detail::describe(findings[0]).find("[definite: deadlock: fiber 100") != std::string::npos);
}

TEST_CASE("a fiber blocked exactly as long as the threshold is flagged, one nanosecond less is not", "[profiler]") {
  auto dump = fiberleak::detail::testing::sample_dump();
  LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(dump.fibers[3].blocked_ns);  // fiber 9, mutex lock, 61 s
  auto flagged = [&] {
    std::vector<std::uint64_t> out;
    for (const auto& f : find_leaks(dump, rules)) out.push_back(fiberleak::to_integer(f.fiber_id));
    return out;
  };
  CHECK(flagged() == std::vector<std::uint64_t>{7, 9});  // 185 s and exactly 61 s
  rules.threshold += std::chrono::nanoseconds(1);
  CHECK(flagged() == std::vector<std::uint64_t>{7});
  // The same edge through a per-kind threshold.
  rules.threshold_by_wait[fiberleak::WaitKind::mutex] = std::chrono::nanoseconds(dump.fibers[3].blocked_ns);
  CHECK(flagged() == std::vector<std::uint64_t>{7, 9});
  rules.threshold_by_wait[fiberleak::WaitKind::mutex] += std::chrono::nanoseconds(1);
  CHECK(flagged() == std::vector<std::uint64_t>{7});
}

TEST_CASE("a per-kind threshold below the default flags that kind only, and says its own threshold", "[profiler]") {
  LeakRules rules;
  rules.threshold = std::chrono::minutes(10);  // nothing in the sample is blocked that long
  rules.threshold_by_wait[fiberleak::WaitKind::channel_pop] = std::chrono::seconds(5);
  const auto findings = find_leaks(fiberleak::detail::testing::sample_dump(), rules);
  REQUIRE(findings.size() == 2);  // the receivers at 185 s and exactly 5 s; the 61 s mutex waiter is not
  CHECK(findings[0].fiber_id == fiberleak::FiberId{7});
  CHECK(findings[1].fiber_id == fiberleak::FiberId{8});
  CHECK(findings[1].reason.find("past the " + fiberleak::detail::format_duration(5'000'000'000) + " threshold") !=
        std::string::npos);
  CHECK(rules.threshold_for(fiberleak::WaitKind::mutex) == std::chrono::minutes(10));
  CHECK(rules.threshold_for(fiberleak::WaitKind::channel_pop) == std::chrono::seconds(5));
}

TEST_CASE("a park site without its line keeps the wait, function and file, and other shapes unchanged", "[profiler]") {
  using fiberleak::detail::site_without_line;
  CHECK(site_without_line("chan receive @ app::handler(int) at main.cpp:42") ==
        "chan receive @ app::handler(int) at main.cpp");
  CHECK(site_without_line("select @ main.(*T).run at t.go:1") == "select @ main.(*T).run at t.go");
  for (const char* same : {"sleep @ f", "blocked", "x @ f at a.cpp", "x @ f at a.cpp:", "x @ f at a.cpp:4x", "f:12"}) {
    INFO(same);
    CHECK(site_without_line(same) == same);
  }
}
