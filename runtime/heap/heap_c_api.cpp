// The heap sampler's C interface (declared in <fiberleak/heap.hpp>): what
// the profiler reads through weak references or, when the sampler is
// LD_PRELOADed, through dlsym, so that it needs no link dependency on the
// sampler. With the allocation functions, all that the LD_PRELOAD library
// exports (preload/libfiberleak_heap.map). Thread-safe, like the tables it
// reads.
#include <fiberleak/heap.hpp>

#include "runtime/heap/bucket_table.hpp"
#include "runtime/heap/heap_sampler.hpp"

extern "C" {

std::size_t fiberleak_heap_bucket_count() noexcept {
  return fiberleak::heap::detail::ensure_init() ? fiberleak::heap::detail::g_bucket_table.size() : 0;
}

int fiberleak_heap_read_bucket(std::size_t i, FiberleakHeapBucketRecord* out) noexcept {
  if (i >= fiberleak_heap_bucket_count()) return 0;
  fiberleak::heap::detail::g_bucket_table.read(static_cast<std::uint32_t>(i), *out);
  return 1;
}

void fiberleak_heap_read_stats(FiberleakHeapStatsRecord* out) noexcept {
  const fiberleak::heap::HeapStats s = fiberleak::heap::stats();
  *out = {s.rate, s.sampled_allocations, s.dropped_samples, s.live_samples, s.buckets, s.own_memory_bytes};
}

void fiberleak_heap_configure(std::int64_t rate, std::uint64_t seed) noexcept {
  fiberleak::heap::configure({rate, seed});
}

void fiberleak_heap_exclude_this_thread() noexcept { fiberleak::heap::detail::exclude_this_thread(); }

}  // extern "C"
