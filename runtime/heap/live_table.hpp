// LiveTable: every live sample's record (sampled address -> size, bucket),
// so that the free() of a sampled block is counted on its bucket. 64
// striped open-addressing tables, each starting at 64 slots and doubling up
// to 4096 as samples stay live: a hash table spreads over all its pages, so
// a large one would be faulted in by the first few thousand samples (one
// fault each, and a TLB shootdown to every core when a read had mapped the
// zero page first), whatever the program keeps live. Keeps the FreeFilter
// in step with its contents. A full stripe drops the sample and counts it.
// Storage is mmap'ed: the stripes' first tables share one mapping, kept for
// the life of the process; an outgrown later one is unmapped.
//
// Thread-safety: each stripe has its own spinlock, held only for the table
// operation (never across glibc's realloc or a stack walk); a stripe's
// counters are written under it and read by the statistics without it.
// lock_all()/unlock_all()/reset_after_fork() are for the fork guard only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/heap/sampler_hot_path.hpp"
#include "runtime/heap/spin_lock.hpp"

namespace fiberleak::heap::detail {

inline constexpr std::size_t kStripes = 64;
inline constexpr std::size_t kMinSlotsPerStripe = 64;
inline constexpr std::size_t kMaxSlotsPerStripe = 4096;

// One stripe: a table of `capacity` slots (a power of two). Its counters
// sit with its lock, so no process-wide counter bounces between cores.
struct alignas(64) Stripe {
  SpinLock lock;
  std::atomic<std::uint32_t> count{0};     // live samples
  std::atomic<std::uint32_t> capacity{0};  // slots
  std::atomic<std::uint64_t> sampled{0};   // samples ever inserted
  Slot* slots = nullptr;                   // under lock
};

class LiveTable {
 public:
  // Maps and prefaults every stripe's first table; false when mmap fails.
  // Once, before any other call (the sampler's initialization).
  bool map() noexcept;

  // Records a new sample of `size` bytes at addr and counts its allocation
  // on `bucket`; a stale record of the same address (freed through a path
  // the hooks do not see) is retired first. False, counted as dropped,
  // when the stripe is full.
  bool insert(std::uintptr_t addr, std::uint64_t size, std::uint32_t bucket) noexcept;
  // free() of a block whose filter bit is set (hash: address_hash(p)):
  // retires its record, if any, and counts the free on its bucket.
  void erase(std::uintptr_t addr, std::uint64_t hash) noexcept;
  // realloc's steps (sampler_hot_path.hpp: detach_sample and the others).
  bool detach(std::uintptr_t addr, Slot& out) noexcept;
  void reattach(const Slot& s) noexcept;

  // Summed over the stripes, without their locks.
  std::uint64_t live_samples() const noexcept;
  std::uint64_t sampled() const noexcept;
  std::uint64_t slots() const noexcept;
  // Samples dropped because a stripe was full.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

  void lock_all() noexcept;
  void unlock_all() noexcept;
  void reset_after_fork() noexcept;

 private:
  Stripe stripes_[kStripes];
  Slot* first_slots_ = nullptr;  // every stripe's first kMinSlotsPerStripe slots, one mapping
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

// The process's table (constant-initialized: usable before constructors run).
extern LiveTable g_live_table;

}  // namespace fiberleak::heap::detail
