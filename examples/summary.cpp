// A small program on Boost.Fiber that leaks a few fibers on purpose and
// prints what fiberleak's runtime recorded about each live fiber.
#include <boost/fiber/all.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

#include <fiberleak/runtime.hpp>

namespace {

void wait_for_a_message_nobody_sends(boost::fibers::buffered_channel<int>& ch) {
  int value = 0;
  ch.pop(value);
}

void lock_a_mutex_never_unlocked(boost::fibers::mutex& m) { m.lock(); }

}  // namespace

int main() {
  fiberleak::install();
  boost::fibers::buffered_channel<int> orphan{8};
  boost::fibers::mutex held;
  held.lock();

  fiberleak::spawn("orphan-receiver", [&] { wait_for_a_message_nobody_sends(orphan); }).detach();
  fiberleak::spawn("stuck-locker", [&] { lock_a_mutex_never_unlocked(held); }).detach();
  fiberleak::spawn("ticker", [] {
    for (int i = 0; i < 3; ++i) boost::this_fiber::sleep_for(std::chrono::milliseconds(5));
  }).detach();
  for (int i = 0; i < 100; ++i) boost::fibers::fiber([] { boost::this_fiber::yield(); }).join();
  boost::this_fiber::sleep_for(std::chrono::milliseconds(20));

  const fiberleak::Snapshot snap = fiberleak::snapshot();
  std::printf("fiberleak: %zu live fibers (created %llu, destroyed %llu, distinct stacks %llu)\n", snap.fibers.size(),
              static_cast<unsigned long long>(snap.counters.fibers_created),
              static_cast<unsigned long long>(snap.counters.fibers_destroyed),
              static_cast<unsigned long long>(snap.counters.stack_table_size));
  std::printf("%6s %-18s %-9s %-14s %10s %6s\n", "id", "name", "state", "wait", "blocked", "parks");
  for (const auto& f : snap.fibers) {
    std::printf("%6llu %-18s %-9s %-14s %8.1fms %6llu\n", static_cast<unsigned long long>(f.id),
                f.name.empty() ? (f.is_main ? "(main)" : "-") : f.name.c_str(),
                std::string(fiberleak::to_string(f.state)).c_str(), std::string(fiberleak::wait_reason(f.wait)).c_str(),
                f.blocked_for_ns(snap.taken_at_ns) / 1e6, static_cast<unsigned long long>(f.parks));
  }
  held.unlock();   // lets stuck-locker finish; the orphan receiver stays blocked
  orphan.close();  // wakes it so the thread can exit
  boost::this_fiber::sleep_for(std::chrono::milliseconds(5));
  return 0;
}
