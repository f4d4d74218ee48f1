// What the profile and JSON benchmarks write about: N fibers parked on a
// thread of their own, as a program's are, at 5 sites (park0..park4) or at
// recursion depths 0..299 (distinct stacks); and best-of-3 timing.
#pragma once

#include <boost/fiber/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include <fiberleak/runtime.hpp>

namespace fiberleak::bench {

using Channel = boost::fibers::buffered_channel<int>;

__attribute__((noinline)) inline void park0(Channel& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) inline void park1(Channel& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) inline void park2(Channel& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) inline void park3(Channel& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) inline void park4(Channel& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) inline void deep(Channel& ch, int d) {
  if (d == 0) {
    int v;
    ch.pop(v);
  } else {
    deep(ch, d - 1);
  }
  asm volatile("" ::: "memory");
}

// n fibers parked once constructed; woken and joined on destruction.
class ParkedFibers {
 public:
  ParkedFibers(int n, bool distinct) {
    program_ = std::thread([this, n, distinct] {
      fiberleak::install();
      Channel ch{2};
      std::vector<boost::fibers::fiber> fibers;
      fibers.reserve(n);
      void (*sites[])(Channel&) = {park0, park1, park2, park3, park4};
      for (int i = 0; i < n; ++i) {
        if (distinct) {
          fibers.emplace_back(boost::fibers::launch::post, std::allocator_arg,
                              boost::fibers::fixedsize_stack(128 * 1024), [&ch, i] { deep(ch, i % 300); });
        } else {
          fibers.emplace_back(boost::fibers::launch::post, std::allocator_arg,
                              boost::fibers::fixedsize_stack(16 * 1024), [&ch, f = sites[i % 5]] { f(ch); });
        }
      }
      boost::this_fiber::yield();
      parked_ = true;
      while (!stop_) boost::this_fiber::sleep_for(std::chrono::milliseconds(5));
      ch.close();
      for (auto& f : fibers) f.join();
    });
    while (!parked_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~ParkedFibers() {
    stop_ = true;
    program_.join();
  }
  ParkedFibers(const ParkedFibers&) = delete;
  ParkedFibers& operator=(const ParkedFibers&) = delete;

 private:
  std::atomic<bool> parked_{false}, stop_{false};
  std::thread program_;
};

// Best of 3 runs of `run`, in ms; `result`: what the last one returned (a size).
inline double best_ms(const std::function<std::size_t()>& run, std::size_t& result) {
  double best = 1e18;
  for (int rep = 0; rep < 3; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    result = run();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace fiberleak::bench
