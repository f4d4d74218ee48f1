#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <fiberleak/fiber_state.hpp>

TEST_CASE("state and wait-kind names round-trip through parse", "[runtime]") {
  fiberleak::WaitKind k{};
  REQUIRE(fiberleak::parse_wait_kind("channel_pop", k));
  CHECK(k == fiberleak::WaitKind::channel_pop);
  CHECK(fiberleak::wait_reason(k) == "chan receive");
  CHECK_FALSE(fiberleak::parse_wait_kind("bogus", k));
  fiberleak::FiberState s{};
  REQUIRE(fiberleak::parse_state("sleeping", s));
  CHECK(s == fiberleak::FiberState::sleeping);
}
