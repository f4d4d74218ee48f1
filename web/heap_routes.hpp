// HTTP routes of the heap profiler (profiler/heap_profile.hpp):
//
//   /debug/pprof/heap     live memory, default sample type inuse_space
//   /debug/pprof/allocs   everything allocated, default alloc_space
//     ?debug=1            Go's readable text instead of gzipped profile.proto
//     ?seconds=N          delta over N seconds (1..max_delta_seconds)
//     ?gc=1               accepted for Go compatibility (no effect)
//   /debug/heap/fibers    estimated live bytes per fiber id, text "id bytes" lines
//
// Bad parameters answer 400 with a one-line usage; a delta profile beyond
// the process's limit 429 (web/delta_slot.hpp); 503 when neither the
// linked fiberleak::heap nor the preloaded libfiberleak_heap.so is present.
// Handlers are thread-safe (they only read the sampler's counters).
#pragma once

#include <httplib.h>

#include <string>

#include "web/route_set.hpp"

namespace fiberleak::detail {

inline constexpr const char* kHeapUsage =
    "usage: /debug/pprof/heap|allocs?debug=0|1&seconds=N (1..max, debug=0 only)&gc=0|1";

// The routes above as a route set named "heap" (web/route_set.hpp): the
// routes, heap and allocs on /debug/pprof/, heap_metrics_text() on /metrics.
// Every serve()/mount() adds it by itself when the heap profiler is present
// (linked fiberleak::heap, or the preloaded libfiberleak_heap.so).
RouteSet heap_route_set(int max_delta_seconds);

// Registers heap_route_set() with an explicit ?seconds= limit, for servers
// that must serve it whether or not the profiler is present yet.
void register_heap_routes(int max_delta_seconds = 300);

// Adds the routes above to `server` under `prefix`.
void mount_heap_routes(httplib::Server& server, const std::string& prefix = "", int max_delta_seconds = 300);

// Prometheus text lines for /metrics: fiberleak_heap_inuse_bytes,
// fiberleak_heap_inuse_objects (estimates), fiberleak_heap_sampled_allocations_total,
// fiberleak_heap_dropped_samples_total, fiberleak_heap_sampling_rate_bytes,
// fiberleak_heap_profiler_memory_bytes. Empty when the sampler is absent.
std::string heap_metrics_text();

}  // namespace fiberleak::detail
