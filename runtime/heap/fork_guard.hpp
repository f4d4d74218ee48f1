// ForkGuard: keeps fork() from leaving a lock held in the child. A thread
// caught inside unw_backtrace at fork() would leave libunwind's internal
// mutexes (its register-state cache, the loader's lock in dl_iterate_phdr)
// locked forever in the child, whose next sample would then hang; a thread
// caught inside one of the tables' spinlocks would do the same. So every
// stack walk holds a ForkGuard, and the pthread_atfork prepare handler
// (install()) waits out the walks in flight and then takes every table lock
// across fork(); a walk that starts meanwhile waits for the fork to finish
// (it holds nothing then; dropping the sample would cost rate 1 its
// exactness). The child resets the locks and the counts of walks of
// threads it does not have.
//
// Thread-safety: any thread; the count of walks in flight is sharded by
// thread (ThreadState::shard), so samples on different cores do not bounce
// one cache line. Constant-initialized.
#pragma once

#include <atomic>
#include <cstdint>

namespace fiberleak::heap::detail {

class ForkGuard {
 public:
  // Enters a stack walk: waits while a fork() is being prepared.
  explicit ForkGuard(std::uint8_t shard) noexcept;
  ~ForkGuard();
  ForkGuard(const ForkGuard&) = delete;
  ForkGuard& operator=(const ForkGuard&) = delete;

  // Registers the pthread_atfork handlers; once, after the tables are mapped.
  static void install() noexcept;

 private:
  std::atomic<int>& in_flight_;  // this thread's shard of the walks in flight
};

}  // namespace fiberleak::heap::detail
