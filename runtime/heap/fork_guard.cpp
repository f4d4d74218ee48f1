#include "runtime/heap/fork_guard.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstddef>

#include "runtime/heap/bucket_table.hpp"
#include "runtime/heap/live_table.hpp"

namespace fiberleak::heap::detail {
namespace {

alignas(64) std::atomic<bool> g_forking{false};
struct alignas(64) UnwindShard {
  std::atomic<int> n{0};
};
constexpr std::size_t kUnwindShards = 16;
UnwindShard g_unwinding[kUnwindShards];

bool unwinds_in_flight() noexcept {
  for (const UnwindShard& s : g_unwinding) {
    if (s.n.load(std::memory_order_seq_cst) != 0) return true;
  }
  return false;
}

void lock_all() noexcept {
  g_forking.store(true, std::memory_order_seq_cst);
  while (unwinds_in_flight()) __builtin_ia32_pause();
  g_bucket_table.lock();
  g_live_table.lock_all();
}
void unlock_all() noexcept {
  g_live_table.unlock_all();
  g_bucket_table.unlock();
  g_forking.store(false, std::memory_order_seq_cst);
}
void reset_all() noexcept {
  g_live_table.reset_after_fork();
  g_bucket_table.reset_after_fork();
  for (UnwindShard& s : g_unwinding) s.n.store(0, std::memory_order_relaxed);  // threads that are gone
  g_forking.store(false, std::memory_order_seq_cst);
}

}  // namespace

ForkGuard::ForkGuard(std::uint8_t shard) noexcept : in_flight_(g_unwinding[shard % kUnwindShards].n) {
  for (;;) {
    in_flight_.fetch_add(1, std::memory_order_seq_cst);
    if (!g_forking.load(std::memory_order_seq_cst)) break;
    in_flight_.fetch_sub(1, std::memory_order_release);
    while (g_forking.load(std::memory_order_relaxed)) sched_yield();
  }
}

ForkGuard::~ForkGuard() { in_flight_.fetch_sub(1, std::memory_order_release); }

void ForkGuard::install() noexcept { pthread_atfork(lock_all, unlock_all, reset_all); }

}  // namespace fiberleak::heap::detail
