// HeapSampler: Poisson sampling of heap allocations by bytes, the way Go's
// runtime.MemProfile and tcmalloc do it.
//
// Maths. Each thread keeps a countdown of bytes drawn from an exponential
// distribution with mean `rate`; every allocation subtracts its size, and
// the allocation that takes the countdown below zero is sampled (then a new
// countdown is drawn). By memorylessness an allocation of size s is sampled
// with probability p(s) = 1 - exp(-s/rate), independently of the others, so
// a sample of size s stands for 1/p(s) allocations of that size: the
// profile multiplies counts and bytes of a stack by 1/(1-exp(-avg/rate))
// (avg = bytes/count of that stack), Go's "unsampling" scale. rate 1 samples
// every allocation (scale 1: exact); rate 0 turns sampling off.
//
// Storage (all mmap'ed, never malloc'ed, bounded):
//  - buckets: one per (stack, fiber id), append-only, with cumulative
//    alloc/free counts and bytes (atomics); readers never lock.
//  - live table: sampled address -> (bucket, size) in 64 striped spinlocked
//    tables that start at 64 slots each and double up to 4096 (memory
//    follows the live samples), plus a 64 Ki-entry counting filter
//    summarized in an 8 KiB bitmap, grouped by address region, so that
//    free() of an unsampled block costs two multiplies and a bit test of
//    a line other threads' samples do not write. Full table or bucket
//    array: the sample is dropped and counted (dropped_samples()).
//
// Re-entrancy: an initial-exec thread_local guard; allocations made while
// sampling (libunwind's first use, the fiber-name lookup) or while taking a
// snapshot pass through unsampled. Thread-safe; fork-safe (pthread_atfork
// waits out the stack walks in flight, so that libunwind's locks are free
// in the child, and holds every lock of ours across fork()). Thread-locals are trivially destructible,
// so free() after a thread's TLS teardown works.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace fiberleak::heap {

// Stacks are cut at this many frames; fiber names at kFiberNameCap - 1
// bytes. The C record below is sized by both.
inline constexpr std::size_t kMaxHeapStackDepth = 48;
inline constexpr std::size_t kFiberNameCap = 32;

struct HeapOptions {
  // Mean bytes between samples. Default 524288 (env FIBERLEAK_HEAP_RATE);
  // 1 samples every allocation (exact, slow: an unwind per allocation);
  // 0 turns sampling off (the hooks then cost a TLS load and a branch).
  std::int64_t rate = 524288;
  // Seed of the per-thread random generators; 0 (default) seeds from time
  // and address. A fixed seed (env FIBERLEAK_HEAP_SEED) makes the sampled
  // set deterministic for a deterministic single-threaded program.
  std::uint64_t seed = 0;
};

// One stack/fiber's cumulative counters (sampled, not scaled): what
// snapshot() returns and what the profiler builds profiles from.
struct HeapBucket {
  std::vector<std::uintptr_t> stack;  // return addresses, innermost first (caller of malloc first)
  std::uint64_t fiber_id = 0;         // 0: no fiber was running (or the runtime is absent)
  std::string fiber_name;
  std::uint64_t alloc_objects = 0, alloc_bytes = 0;
  std::uint64_t free_objects = 0, free_bytes = 0;
};

struct HeapStats {
  std::int64_t rate = 0;
  std::uint64_t sampled_allocations = 0;  // total samples taken
  std::uint64_t dropped_samples = 0;      // table/bucket array full
  std::uint64_t live_samples = 0;
  std::uint64_t buckets = 0;
  std::uint64_t own_memory_bytes = 0;  // the sampler's tables in use (buckets made, live-table slots)
};

// Reconfigures at run time (the first allocation reads the environment:
// FIBERLEAK_HEAP_RATE, FIBERLEAK_HEAP_SEED). Already sampled blocks stay.
// Takes effect at once on the calling thread and on threads that have not
// allocated yet; other threads pick it up at their next sample (within
// 1 MiB of allocation when sampling was off): their malloc never reads it.
void configure(const HeapOptions& options) noexcept;
HeapOptions options() noexcept;
// Every bucket (allocates; its own allocations are not sampled).
std::vector<HeapBucket> snapshot();
HeapStats stats() noexcept;
// True when the interposed allocation functions of this library are the
// ones the process uses (linked fiberleak::heap or LD_PRELOAD).
bool active() noexcept;

}  // namespace fiberleak::heap

// C entry points, so that code which finds the sampler at run time (the
// profiler's routes, with a weak reference or dlsym, when the sampler is
// LD_PRELOADed) needs no link dependency on it. With the allocation
// functions, the only symbols the LD_PRELOAD library exports.
extern "C" {
// One bucket as the C interface copies it out; to_heap_bucket() below
// makes the HeapBucket of it.
struct FiberleakHeapBucketRecord {
  std::uint64_t fiber_id;
  char fiber_name[fiberleak::heap::kFiberNameCap];  // NUL-terminated
  std::uint32_t depth;
  std::uintptr_t pcs[fiberleak::heap::kMaxHeapStackDepth];
  std::uint64_t alloc_objects, alloc_bytes, free_objects, free_bytes;
};
struct FiberleakHeapStatsRecord {
  std::int64_t rate;
  std::uint64_t sampled_allocations, dropped_samples, live_samples, buckets, own_memory_bytes;
};
__attribute__((visibility("default"))) std::size_t fiberleak_heap_bucket_count() noexcept;
// Copies bucket i (i < fiberleak_heap_bucket_count()); returns 0 when out of range.
__attribute__((visibility("default"))) int fiberleak_heap_read_bucket(std::size_t i,
                                                                      FiberleakHeapBucketRecord* out) noexcept;
__attribute__((visibility("default"))) void fiberleak_heap_read_stats(FiberleakHeapStatsRecord* out) noexcept;
__attribute__((visibility("default"))) void fiberleak_heap_configure(std::int64_t rate, std::uint64_t seed) noexcept;
// From now on the calling thread's allocations are never sampled: for the
// threads of tools that read the profile (fiberleak's endpoint, watchdog
// and preload servers), so that a profile shows the program, not them.
__attribute__((visibility("default"))) void fiberleak_heap_exclude_this_thread() noexcept;
}

namespace fiberleak::heap {

// The one conversion from the C record to the C++ bucket: snapshot() and
// the profiler (which reads the C interface) both go through it.
inline HeapBucket to_heap_bucket(const FiberleakHeapBucketRecord& r) {
  HeapBucket b;
  const std::uint32_t depth = r.depth < kMaxHeapStackDepth ? r.depth : static_cast<std::uint32_t>(kMaxHeapStackDepth);
  b.stack.assign(r.pcs, r.pcs + depth);
  b.fiber_id = r.fiber_id;
  b.fiber_name.assign(r.fiber_name, strnlen(r.fiber_name, kFiberNameCap));
  b.alloc_objects = r.alloc_objects;
  b.alloc_bytes = r.alloc_bytes;
  b.free_objects = r.free_objects;
  b.free_bytes = r.free_bytes;
  return b;
}

}  // namespace fiberleak::heap
