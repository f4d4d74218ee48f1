// install() on a thread that already has fibers, and threads that never
// install: documented behaviour (<fiberleak/runtime.hpp>).
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <thread>

#include "runtime_test_support.hpp"

using namespace std::chrono_literals;
namespace ft = fiberleak::detail::testing;

TEST_CASE("fibers ready before install() are adopted without a parent or creation stack", "[runtime]") {
  // Not installed yet: Boost's own round_robin runs this fiber.
  bool ran = false;
  boost::fibers::fiber early([&] {
    fiberleak::this_fiber::set_name("ignored: not installed yet");
    boost::this_fiber::yield();
    ran = true;
  });
  fiberleak::install();
  const auto snap = fiberleak::snapshot();
  bool adopted = false;
  for (const auto& f : snap.fibers) {
    if (f.adopted) {
      adopted = true;
      CHECK(f.parent == fiberleak::kNoFiber);
      CHECK(f.creation_stack == fiberleak::kNoStack);
      CHECK(f.name.empty());
    }
  }
  CHECK(adopted);
  early.join();
  CHECK(ran);
}

TEST_CASE("a thread that never installs runs its fibers untracked", "[runtime]") {
  std::uint64_t created_on_other = 0;
  const auto before = fiberleak::counters();
  std::thread other([&] {
    CHECK_FALSE(fiberleak::installed());
    boost::fibers::fiber f([] { boost::this_fiber::sleep_for(1ms); });
    fiberleak::this_fiber::set_name("no effect");
    CHECK(fiberleak::this_fiber::id() == fiberleak::kNoFiber);
    f.join();
    created_on_other = fiberleak::counters().fibers_created;
  });
  other.join();
  CHECK(created_on_other == before.fibers_created);
  CHECK_FALSE(ft::find_named(fiberleak::snapshot(), "no effect").has_value());
}

TEST_CASE("installing twice on a thread replaces the wrapped algorithm and keeps records", "[runtime]") {
  fiberleak::install();
  fiberleak::this_fiber::set_name("twice");
  const auto id = fiberleak::this_fiber::id();
  const auto threads = fiberleak::counters().threads_installed;
  fiberleak::install();
  CHECK(fiberleak::this_fiber::id() == id);
  CHECK(fiberleak::counters().threads_installed == threads);
  CHECK(ft::find_named(fiberleak::snapshot(), "twice").has_value());
}

TEST_CASE("a use_scheduling_algorithm after install() ends tracking on that thread and says so", "[runtime]") {
  const auto before = fiberleak::counters();
  fiberleak::FiberId main_id = fiberleak::kNoFiber;
  bool installed_after = true, installed_between = false;
  std::thread([&] {
    fiberleak::install();
    fiberleak::install();  // install() again is no replacement
    installed_between = fiberleak::installed();
    fiberleak::this_fiber::set_name("replaced-main");
    main_id = fiberleak::this_fiber::id();
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
    installed_after = fiberleak::installed();
    boost::fibers::fiber([] { boost::this_fiber::yield(); }).join();  // runs untracked, and fine
    const auto snap = fiberleak::snapshot();
    const auto main = ft::find_fiber(snap, main_id);
    REQUIRE(main);
    CHECK(main->tracking_ended);
    CHECK(main->name == "replaced-main");
  }).join();
  std::thread([] { fiberleak::install(); }).join();  // a thread that just exits: no replacement
  const auto after = fiberleak::counters();
  CHECK(installed_between);
  CHECK_FALSE(installed_after);
  CHECK(main_id != fiberleak::kNoFiber);
  CHECK(after.threads_uninstalled == before.threads_uninstalled + 1);
}
