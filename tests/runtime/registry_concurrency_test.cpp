// The registry's own concurrency, driven from plain threads doing what the
// scheduler hooks do (acquire a slot, write it under the seqlock, hand it to
// another thread, release it) while a reader takes snapshots. This is the
// test the TSan build relies on: TSan cannot follow Boost.Fiber's context
// switches (Debian's Boost is built without its TSan fiber annotations), so
// fiber-level tests under TSan report Boost's own cross-thread hand-offs.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "runtime/fiber_registry.hpp"
#include "runtime/tick_clock.hpp"

using fiberleak::FiberState;
using fiberleak::detail::FiberRegistry;
using fiberleak::detail::FiberSlot;

namespace {

void park(FiberSlot& s, std::uint32_t stack) {
  s.begin_write();
  s.state.store(static_cast<std::uint8_t>(FiberState::blocked), std::memory_order_relaxed);
  s.parked_ticks.store(fiberleak::detail::TickClock::now(), std::memory_order_relaxed);
  s.parks.store(s.parks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.park_stack.store(stack, std::memory_order_relaxed);
  s.end_write();
}

}  // namespace

TEST_CASE("slots written and handed between threads while snapshots read them stay consistent", "[runtime][threads]") {
  FiberRegistry& registry = FiberRegistry::instance();
  constexpr int kWriters = 3;
  constexpr int kRounds = 20000;
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0};
  std::atomic<int> snapshots{0};
  const auto live_before = registry.counters().fibers_live;

  // Slots travel through this hand-off queue (like fibers migrating under
  // work_stealing): the thread that releases a slot is usually not the one
  // that acquired it.
  std::mutex handoff_mutex;
  std::vector<FiberSlot*> handoff;

  std::thread reader([&] {
    while (!stop.load()) {
      const auto snap = registry.snapshot();
      std::set<fiberleak::FiberId> ids;
      for (const auto& f : snap.fibers) {
        // A writer always parks with parks == park_stack: a torn read breaks it.
        if (f.state == FiberState::blocked && f.parks != static_cast<std::uint64_t>(f.park_stack)) ++inconsistent;
        if (!ids.insert(f.id).second) ++inconsistent;
      }
      ++snapshots;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        FiberSlot* s = registry.acquire();
        if (s == nullptr) {  // Catch's assertions are not thread-safe: count instead
          ++inconsistent;
          continue;
        }
        for (std::uint32_t p = 1; p <= 3; ++p) park(*s, p);
        FiberSlot* to_release = nullptr;
        {
          std::lock_guard<std::mutex> lk(handoff_mutex);
          handoff.push_back(s);
          if (handoff.size() > 8) {
            to_release = handoff.front();
            handoff.erase(handoff.begin());
          }
        }
        if (to_release != nullptr) registry.release(to_release);
      }
    });
  }
  for (auto& t : writers) t.join();
  for (FiberSlot* s : handoff) registry.release(s);
  stop = true;
  reader.join();

  CHECK(inconsistent.load() == 0);
  CHECK(snapshots.load() > 0);
  CHECK(registry.counters().fibers_live == live_before);
}
