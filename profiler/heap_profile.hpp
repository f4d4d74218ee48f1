// Heap profiles in Go's formats from the heap sampler's buckets
// (fiberleak::heap::HeapBucket, <fiberleak/heap.hpp>): /debug/pprof/heap (default sample type
// inuse_space) and /debug/pprof/allocs (alloc_space), both with Go's four
// sample types alloc_objects/alloc_space/inuse_objects/inuse_space,
// period_type space/bytes, period = the sampling rate, values multiplied by
// Go's unsampling scale 1/(1-exp(-avg/rate)), a `fiber` label (the
// allocating fiber's name, or its id as "fiber-N" when unnamed) and the
// allocating fiber's labels (HeapData::fiber_labels).
//
// The sampler is found at run time (weak references, then dlsym), so this
// works both when the program links fiberleak::heap and when
// libfiberleak_heap.so is LD_PRELOADed; heap_profiler_available() says
// whether either is the case. Functions are thread-safe; collection copies
// the sampler's counters without stopping the program.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <fiberleak/heap.hpp>

#include "profiler/fiber_dump.hpp"
#include "profiler/symbolizer.hpp"

namespace fiberleak::detail {

struct HeapData {
  std::int64_t rate = 0;
  std::int64_t taken_at_ns = 0;           // wall clock
  std::vector<heap::HeapBucket> records;  // for deltas, each counter is after's minus before's
  // The labels (label_scope) of the allocating fibers still alive at
  // collection time, by fiber id: a sample's labels are its fiber's now,
  // not at the allocation (the sampler records the fiber, not its labels).
  std::unordered_map<std::uint64_t, std::vector<Label>> fiber_labels;
  // Sampler statistics at collection time.
  std::uint64_t sampled_allocations = 0, dropped_samples = 0, live_samples = 0, own_memory_bytes = 0;
};

enum class HeapProfileKind { heap, allocs };

bool heap_profiler_available();
// The calling thread's allocations stay out of heap profiles from now on
// (no effect without the heap profiler). Every thread of fiberleak's own
// that serves or evaluates calls it first: a profile shows the program.
void exclude_this_thread_from_heap_profile() noexcept;
// Changes the sampling rate (and seed) at run time; false when unavailable.
bool set_heap_sampling(std::int64_t rate, std::uint64_t seed = 0);
// The sampler's current counters (empty, rate 0, when unavailable).
HeapData collect_heap();
// after - before, per (stack, fiber): the allocations and frees between two
// collections (Go's ?seconds=N).
HeapData heap_delta(const HeapData& before, const HeapData& after);

// gzipped profile.proto; duration_ns > 0 for deltas.
std::string heap_profile(const HeapData& data, HeapProfileKind kind, const std::vector<Mapping>& mappings,
                         std::int64_t duration_ns = 0);
// Go's debug=1 text ("heap profile: ..." header, one "count: bytes [count:
// bytes] @ pcs" line per stack followed by "#\tpc\tfunction\tfile:line").
std::string heap_text(const HeapData& data);

// Estimated live bytes per fiber id (scaled), fibers with none omitted.
std::vector<std::pair<std::uint64_t, std::int64_t>> heap_live_bytes_by_fiber(const HeapData& data);
// Sets heap_live_bytes of every fiber of the dump (0 for those with none)
// when the heap profiler runs; leaves them empty otherwise.
void attach_heap_live_bytes(FiberDump& dump);

struct HeapTotals {
  std::int64_t inuse_objects = 0, inuse_bytes = 0, alloc_objects = 0, alloc_bytes = 0;
};
// Scaled totals over every record.
HeapTotals heap_totals(const HeapData& data);

}  // namespace fiberleak::detail
