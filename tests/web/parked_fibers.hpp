// A program thread with fibers parked at known functions, for endpoint
// tests: an orphaned receiver, a fiber stuck on a mutex, and a pile of
// fibers at one site; and a pile that grows on demand (GrowingPile).
// Stopping releases them all.
#pragma once

#include <boost/fiber/all.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include <fiberleak/runtime.hpp>

namespace fiberleak::detail::testing {

#define FIBERLEAK_KEEP_FRAME() asm volatile("" ::: "memory")

__attribute__((noinline)) inline void wait_for_message_nobody_sends(boost::fibers::buffered_channel<int>& ch) {
  int v = 0;
  ch.pop(v);
  FIBERLEAK_KEEP_FRAME();
}
__attribute__((noinline)) inline void lock_mutex_never_unlocked(boost::fibers::mutex& m) {
  m.lock();
  m.unlock();
  FIBERLEAK_KEEP_FRAME();
}
__attribute__((noinline)) inline void pile_up_at_one_site(boost::fibers::buffered_channel<int>& ch) {
  int v = 0;
  ch.pop(v);
  FIBERLEAK_KEEP_FRAME();
}

__attribute__((noinline)) inline void grow_at_one_site(boost::fibers::buffered_channel<int>& ch) {
  int v = 0;
  ch.pop(v);
  FIBERLEAK_KEEP_FRAME();
}

class ParkedFibers {
 public:
  static constexpr int kPile = 5;

  ParkedFibers() {
    thread_ = std::thread([this] {
      fiberleak::install();
      boost::fibers::buffered_channel<int> orphan{2}, pile{2};
      boost::fibers::mutex held;
      held.lock();
      std::vector<boost::fibers::fiber> fibers;
      fibers.push_back(fiberleak::spawn("orphan-receiver", [&] { wait_for_message_nobody_sends(orphan); }));
      fibers.push_back(fiberleak::spawn("stuck-locker", [&] { lock_mutex_never_unlocked(held); }));
      {
        fiberleak::label_scope handler("handler", "pile");  // the pile's fibers carry it
        for (int i = 0; i < kPile; ++i) fibers.push_back(fiberleak::spawn("pile", [&] { pile_up_at_one_site(pile); }));
      }
      boost::this_fiber::yield();
      ready_ = true;
      while (!stop_.load()) boost::this_fiber::sleep_for(std::chrono::milliseconds(2));
      orphan.close();
      pile.close();
      held.unlock();
      for (auto& f : fibers) f.join();
    });
    while (!ready_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ParkedFibers() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Fibers parked at grow_at_one_site(), one more at each add().
class GrowingPile {
 public:
  GrowingPile() : thread_([this] { run(); }) {}
  ~GrowingPile() {
    stop_ = true;
    thread_.join();
  }
  // Parks one more fiber at the site; returns once it is parked.
  void add() {
    const int wanted = ++wanted_;
    while (parked_.load() < wanted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

 private:
  void run() {
    fiberleak::install();
    boost::fibers::buffered_channel<int> pile{2};
    std::vector<boost::fibers::fiber> fibers;
    while (!stop_.load()) {
      while (static_cast<int>(fibers.size()) < wanted_.load()) {
        fibers.push_back(fiberleak::spawn("grower", [&] { grow_at_one_site(pile); }));
        boost::this_fiber::yield();  // it runs up to its park
        parked_ = static_cast<int>(fibers.size());
      }
      boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
    }
    pile.close();
    for (auto& f : fibers) f.join();
  }

  std::atomic<int> wanted_{0};
  std::atomic<int> parked_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fiberleak::detail::testing
