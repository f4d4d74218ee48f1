// BucketTable: the heap sampler's (stack, fiber id) buckets, each with the
// cumulative sampled counts and bytes of its allocations and frees (not
// scaled: the profile unsamples them). Append-only and bounded
// (kMaxBuckets): a sample whose bucket does not fit is dropped and counted.
// Storage is mmap'ed (map()), never malloc'ed.
//
// Thread-safety: find_or_add() finds a known bucket without a lock (an
// index slot goes from empty to a bucket once, published with release) and
// locks only to append one; counters are relaxed atomics in per-thread
// shards, one cache line each, so that threads sampling the same stack do
// not bounce a line; size(), read() and memory_bytes() never lock.
// lock()/unlock()/reset_after_fork() are for the fork guard only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <fiberleak/heap.hpp>

#include "runtime/heap/sampler_hot_path.hpp"
#include "runtime/heap/spin_lock.hpp"

namespace fiberleak::heap::detail {

inline constexpr std::uint32_t kMaxBuckets = 1 << 14;

// One thread group's counters of a bucket; readers add the shards up.
inline constexpr std::size_t kCounterShards = 4;
struct alignas(64) CounterShard {
  std::atomic<std::uint64_t> alloc_objects, alloc_bytes, free_objects, free_bytes;
};

struct Bucket {
  std::uint64_t hash;
  std::uint64_t fiber_id;
  std::uint32_t depth;
  char name[kFiberNameCap];
  std::uintptr_t pcs[kMaxHeapStackDepth];
  CounterShard counters[kCounterShards];

  // The calling thread's shard (ThreadState::shard).
  CounterShard& mine() noexcept { return counters[t_state.shard % kCounterShards]; }
};

class BucketTable {
 public:
  // find_or_add()'s answer when the table is full.
  static constexpr std::uint32_t kFull = kMaxBuckets;

  // Maps the buckets and their index; false when mmap fails. Once, before
  // any other call (the sampler's initialization).
  bool map() noexcept;

  // The bucket of this stack and fiber, created when new (`name`: the
  // fiber's, kFiberNameCap bytes); kFull, counted as a dropped sample, when
  // the table is full.
  std::uint32_t find_or_add(const std::uintptr_t* pcs, std::size_t depth, std::uint64_t fiber,
                            const char* name) noexcept;

  void count_alloc(std::uint32_t bucket, std::uint64_t size) noexcept {
    CounterShard& c = buckets_[bucket].mine();
    c.alloc_objects.fetch_add(1, std::memory_order_relaxed);
    c.alloc_bytes.fetch_add(size, std::memory_order_relaxed);
  }
  void count_free(std::uint32_t bucket, std::uint64_t size) noexcept {
    CounterShard& c = buckets_[bucket].mine();
    c.free_objects.fetch_add(1, std::memory_order_relaxed);
    c.free_bytes.fetch_add(size, std::memory_order_relaxed);
  }

  std::uint32_t size() const noexcept { return count_.load(std::memory_order_acquire); }
  // Copies bucket i (< size()) into the C interface's record: the one place
  // a bucket leaves the sampler (the C++ snapshot() converts that record).
  void read(std::uint32_t i, FiberleakHeapBucketRecord& out) const noexcept;
  // Samples dropped because the table was full.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  // The buckets made and the index.
  std::uint64_t memory_bytes() const noexcept;

  void lock() noexcept { lock_.lock(); }
  void unlock() noexcept { lock_.unlock(); }
  void reset_after_fork() noexcept { lock_.reset(); }

 private:
  std::uint32_t probe(std::uint64_t h, const std::uintptr_t* pcs, std::size_t depth, std::uint64_t fiber,
                      std::size_t& slot) const noexcept;

  // Written once, read by every sample.
  Bucket* buckets_ = nullptr;
  std::atomic<std::uint32_t>* index_ = nullptr;  // bucket + 1, 0 empty; set once
  // Written when a bucket is made.
  alignas(64) std::atomic<std::uint32_t> count_{0};
  SpinLock lock_;
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

// The process's table (constant-initialized: usable before constructors run).
extern BucketTable g_bucket_table;

}  // namespace fiberleak::heap::detail
