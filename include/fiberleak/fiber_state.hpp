// Identifiers and state values recorded for every fiber. Plain data: safe to
// use from any thread.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string_view>

namespace fiberleak {

// Monotonic per-process fiber id, never reused (boost::fibers::fiber::id is a
// reused address). 0 means "none" (e.g. no parent).
enum class FiberId : std::uint64_t {};
inline constexpr FiberId kNoFiber{0};
// The number of a fiber id, for printing and wire formats.
constexpr std::uint64_t to_integer(FiberId id) noexcept { return static_cast<std::uint64_t>(id); }
// Prints the number ("12").
std::ostream& operator<<(std::ostream& out, FiberId id);

// Index+1 into a StackTable; 0 means "no stack recorded".
enum class StackId : std::uint32_t {};
inline constexpr StackId kNoStack{0};

// What a fiber is doing. Every value is set by a scheduler hook:
enum class FiberState : std::uint8_t {
  runnable = 0,  // in a ready queue: created (launch::post) or woken, not yet running
  running = 1,   // returned by pick_next(): executing on some thread now
  blocked = 2,   // parked with no deadline (scheduler::suspend): mutex, channel, join, ...
  sleeping = 3,  // parked with a deadline (scheduler::wait_until): sleep or timed wait
  yielded = 4,   // gave up the CPU with this_fiber::yield() (or an unbuffered push
                 // that parks like a yield); ready again
  done = 5,      // terminated; its record disappears once Boost destroys the context
};

// Why a parked fiber waits, told from its park stack (see WaitClassifier).
// `unknown` when no stack was captured or no known primitive was found on it.
enum class WaitKind : std::uint8_t {
  none = 0,  // not parked
  unknown,
  mutex,
  condition_variable,
  channel_push,
  channel_pop,
  future,
  join,
  sleep,
  barrier,
  yield,
};

// Go-style wait reason words ("chan receive", "mutex lock", ...).
std::string_view wait_reason(WaitKind kind) noexcept;
// Short identifiers for JSON, labels and metrics ("channel_pop", ...).
std::string_view to_string(WaitKind kind) noexcept;
std::string_view to_string(FiberState state) noexcept;
// Parses to_string() forms back; false if the text names nothing.
bool parse_state(std::string_view text, FiberState& out) noexcept;
bool parse_wait_kind(std::string_view text, WaitKind& out) noexcept;

}  // namespace fiberleak
