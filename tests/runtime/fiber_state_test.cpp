#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <fiberleak/fiber_state.hpp>

using fiberleak::FiberState;
using fiberleak::WaitKind;

namespace {

// Every value of each enum, by its underlying number: a value added to the
// enum and forgotten in the name tables shows up as a failed round trip.
constexpr int kStates = 6;      // runnable .. done
constexpr int kWaitKinds = 11;  // none .. yield

}  // namespace

TEST_CASE("every state name round-trips through parse and names one state", "[runtime]") {
  std::set<std::string> names;
  for (int i = 0; i < kStates; ++i) {
    const auto state = static_cast<FiberState>(i);
    const std::string name(fiberleak::to_string(state));
    INFO("state " << i << " \"" << name << "\"");
    CHECK(name != "unknown");
    FiberState back = static_cast<FiberState>((i + 1) % kStates);
    REQUIRE(fiberleak::parse_state(name, back));
    CHECK(back == state);
    names.insert(name);
  }
  CHECK(names.size() == kStates);
  CHECK(fiberleak::to_string(FiberState::sleeping) == "sleeping");
  CHECK(fiberleak::to_string(static_cast<FiberState>(kStates)) == "unknown");
  FiberState untouched = FiberState::done;
  CHECK_FALSE(fiberleak::parse_state("bogus", untouched));
  CHECK_FALSE(fiberleak::parse_state("", untouched));
  CHECK(untouched == FiberState::done);
}

TEST_CASE("every wait-kind name round-trips through parse and each has its own wait reason", "[runtime]") {
  std::set<std::string> names, reasons;
  for (int i = 0; i < kWaitKinds; ++i) {
    const auto kind = static_cast<WaitKind>(i);
    const std::string name(fiberleak::to_string(kind));
    INFO("wait kind " << i << " \"" << name << "\"");
    WaitKind back = static_cast<WaitKind>((i + 1) % kWaitKinds);
    REQUIRE(fiberleak::parse_wait_kind(name, back));
    CHECK(back == kind);
    names.insert(name);
    reasons.insert(std::string(fiberleak::wait_reason(kind)));
  }
  CHECK(names.size() == kWaitKinds);
  CHECK(reasons.size() == kWaitKinds);
  // Go's words where Go has the same wait.
  CHECK(fiberleak::wait_reason(WaitKind::channel_pop) == "chan receive");
  CHECK(fiberleak::wait_reason(WaitKind::channel_push) == "chan send");
  CHECK(fiberleak::wait_reason(WaitKind::sleep) == "sleep");
  CHECK(fiberleak::wait_reason(WaitKind::none) == "running");
  CHECK(fiberleak::to_string(WaitKind::channel_pop) == "channel_pop");
  WaitKind untouched = WaitKind::join;
  CHECK_FALSE(fiberleak::parse_wait_kind("bogus", untouched));
  CHECK_FALSE(fiberleak::parse_wait_kind("chan receive", untouched));  // a wait reason is not a name
  CHECK(untouched == WaitKind::join);
}
