#include "runtime/tick_clock.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace fiberleak::detail {
namespace {

// Calibration anchor: a (tsc, steady ns) pair taken at first use.
std::atomic<std::uint64_t> g_anchor_tsc{0};
std::atomic<std::int64_t> g_anchor_ns{0};

// Invariant TSC: the counter runs at a constant rate across P-states and sleep
// states, so it can serve as a clock. Read from /proc/cpuinfo once.
bool cpu_has_invariant_tsc() {
#if defined(__x86_64__)
  std::FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return false;
  char line[4096];
  bool constant = false, nonstop = false;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "flags", 5) != 0) continue;
    constant = std::strstr(line, " constant_tsc") != nullptr;
    nonstop = std::strstr(line, " nonstop_tsc") != nullptr;
    break;
  }
  std::fclose(f);
  return constant && nonstop;
#else
  return false;
#endif
}

#if defined(__x86_64__)
// A (tsc, steady ns) pair read close together: rdtsc, the clock, rdtsc,
// retried until the two rdtsc reads are under kPairTicks apart (at most 8
// tries, keeping the tightest), the tsc being their midpoint. Read plainly,
// a preemption between the two reads skews the pair by the time the thread
// was off the CPU: milliseconds on a loaded machine, which the rate of a
// young process (measured over its lifetime so far) turned into errors of
// the same order in blocked times.
struct ClockPair {
  std::uint64_t tsc;
  std::int64_t ns;
};
constexpr std::uint64_t kPairTicks = 50'000;  // 10-25 us at 2-5 GHz
ClockPair read_pair() noexcept {
  ClockPair best{};
  std::uint64_t best_gap = ~std::uint64_t{0};
  for (int i = 0; i < 8 && best_gap >= kPairTicks; ++i) {
    const std::uint64_t a = __builtin_ia32_rdtsc();
    const std::int64_t ns = TickClock::steady_ns();
    const std::uint64_t b = __builtin_ia32_rdtsc();
    if (b >= a && b - a < best_gap) {
      best_gap = b - a;
      best = {a + (b - a) / 2, ns};
    }
  }
  return best;
}
#endif

struct Initializer {
  Initializer() { TickClock::init(); }
} g_initializer;

}  // namespace

std::atomic<bool> TickClock::tsc_usable_{false};

std::int64_t TickClock::steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void TickClock::init() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__x86_64__)
    if (cpu_has_invariant_tsc()) {
      const ClockPair anchor = read_pair();
      g_anchor_ns.store(anchor.ns, std::memory_order_relaxed);
      g_anchor_tsc.store(anchor.tsc, std::memory_order_release);
      tsc_usable_.store(true, std::memory_order_release);
    }
#endif
  });
}

namespace {
// Nanoseconds per tick, measured from the anchor to now. Needs at least 1 ms
// of history; before that a nominal 1 GHz guess is used (only timestamps
// taken in the first millisecond of the process are affected).
double ns_per_tick() noexcept {
#if defined(__x86_64__)
  const std::uint64_t t0 = g_anchor_tsc.load(std::memory_order_acquire);
  const std::int64_t n0 = g_anchor_ns.load(std::memory_order_relaxed);
  const ClockPair now = read_pair();
  const std::uint64_t t1 = now.tsc;
  const std::int64_t n1 = now.ns;
  if (n1 - n0 < 1'000'000 || t1 <= t0) return 1.0;
  return static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0);
#else
  return 1.0;
#endif
}
}  // namespace

std::int64_t TickClock::to_ns(std::uint64_t tick_delta) noexcept {
  if (!tsc_usable_.load(std::memory_order_relaxed)) return static_cast<std::int64_t>(tick_delta);
  return static_cast<std::int64_t>(static_cast<double>(tick_delta) * ns_per_tick());
}

std::int64_t TickClock::to_steady_ns(std::uint64_t ticks) noexcept {
  if (!tsc_usable_.load(std::memory_order_relaxed)) return static_cast<std::int64_t>(ticks);
  const std::uint64_t t0 = g_anchor_tsc.load(std::memory_order_acquire);
  const std::int64_t n0 = g_anchor_ns.load(std::memory_order_relaxed);
  const double rate = ns_per_tick();
  return n0 + static_cast<std::int64_t>((static_cast<double>(ticks) - static_cast<double>(t0)) * rate);
}

}  // namespace fiberleak::detail
