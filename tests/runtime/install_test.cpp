// install() on a thread that already has fibers, and threads that never
// install: documented behaviour (runtime/fiberleak.hpp).
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
