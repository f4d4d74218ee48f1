// SpinLock: a test-and-test-and-set lock for the heap sampler's tables,
// which cannot use a mutex (pthread_mutex may allocate on first use and
// must be reset in a fork child, which reset() does for this one).
// Held only for a few table operations: never across an unwind or a call
// into glibc. Thread-safe; constant-initialized (usable before any
// constructor has run, as malloc is).
#pragma once

#include <atomic>

namespace fiberleak::heap::detail {

class SpinLock {
 public:
  void lock() noexcept {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) __builtin_ia32_pause();
    }
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }
  // In a fork child, where the thread that held it does not exist.
  void reset() noexcept { flag_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace fiberleak::heap::detail
