// TickClock: the cheap timestamp source of the scheduler hooks.
//
// Hooks run on every park and wake, so they read the CPU's time-stamp counter
// (rdtsc, ~7 ns) instead of clock_gettime(CLOCK_MONOTONIC) (~23 ns, DESIGN.md).
// Ticks are turned into steady_clock nanoseconds only when read out (snapshots),
// using a rate measured against steady_clock between the first use and the
// time of conversion, so there is no calibration pause at start-up. On CPUs
// without a usable invariant TSC (and off x86_64) ticks are steady_clock
// nanoseconds. Thread-safe; now() never blocks, throws or allocates.
#pragma once

#include <atomic>
#include <cstdint>

namespace fiberleak::detail {

class TickClock {
 public:
  static std::uint64_t now() noexcept {
#if defined(__x86_64__)
    if (tsc_usable_.load(std::memory_order_relaxed)) return __builtin_ia32_rdtsc();
#endif
    return steady_ns();
  }
  // steady_clock::now() in nanoseconds since its epoch.
  static std::int64_t steady_ns() noexcept;
  // Converts a tick value from now() into steady_clock nanoseconds.
  static std::int64_t to_steady_ns(std::uint64_t ticks) noexcept;
  // Converts a tick difference into nanoseconds.
  static std::int64_t to_ns(std::uint64_t tick_delta) noexcept;
  // Called once (from any static initializer or install()); idempotent.
  static void init() noexcept;

 private:
  static std::atomic<bool> tsc_usable_;
};

}  // namespace fiberleak::detail
