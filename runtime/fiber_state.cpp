#include <array>
#include <ostream>
#include <utility>

#include <fiberleak/fiber_state.hpp>

#include "runtime/postmortem_info.hpp"

namespace fiberleak {

std::ostream& operator<<(std::ostream& out, FiberId id) { return out << to_integer(id); }

namespace {

constexpr std::array<std::pair<WaitKind, std::string_view>, 11> kWaitNames{{
    {WaitKind::none, "none"},
    {WaitKind::unknown, "unknown"},
    {WaitKind::mutex, "mutex"},
    {WaitKind::condition_variable, "condition_variable"},
    {WaitKind::channel_push, "channel_push"},
    {WaitKind::channel_pop, "channel_pop"},
    {WaitKind::future, "future"},
    {WaitKind::join, "join"},
    {WaitKind::sleep, "sleep"},
    {WaitKind::barrier, "barrier"},
    {WaitKind::yield, "yield"},
}};

constexpr std::array<std::pair<FiberState, std::string_view>, 6> kStateNames{{
    {FiberState::runnable, "runnable"},
    {FiberState::running, "running"},
    {FiberState::blocked, "blocked"},
    {FiberState::sleeping, "sleeping"},
    {FiberState::yielded, "yielded"},
    {FiberState::done, "done"},
}};

template <typename Table, typename Value>
bool parse(const Table& table, std::string_view text, Value& out) noexcept {
  for (const auto& [value, name] : table) {
    if (name == text) {
      out = value;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view wait_reason(WaitKind kind) noexcept {
  const auto i = static_cast<int>(kind);
  return i < detail::kWaitKinds ? detail::kWaitReasonWords[i] : "blocked";
}

std::string_view to_string(WaitKind kind) noexcept {
  for (const auto& [value, name] : kWaitNames) {
    if (value == kind) return name;
  }
  return "unknown";
}

std::string_view to_string(FiberState state) noexcept {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

bool parse_state(std::string_view text, FiberState& out) noexcept { return parse(kStateNames, text, out); }
bool parse_wait_kind(std::string_view text, WaitKind& out) noexcept { return parse(kWaitNames, text, out); }

}  // namespace fiberleak
