// The heap sampler: Poisson sampling of allocations by bytes, the way Go's
// runtime.MemProfile and tcmalloc do it (the maths is in
// <fiberleak/heap.hpp>). Owns the sampling state (rate, seed, the
// per-thread countdown and generator) and the one-time initialization that
// maps the tables (BucketTable, LiveTable) and installs the ForkGuard; its
// per-allocation part is inlined into the hooks (sampler_hot_path.hpp), the
// rest (alloc_slow: draw a countdown, walk the stack, record the sample)
// is in heap_sampler.cpp. The public API (configure, options, snapshot,
// stats) is declared in <fiberleak/heap.hpp>, the C interface in
// heap_c_api.cpp.
//
// Thread-safety: any thread, including inside malloc; re-entry (the
// unwinder's or the fiber-name lookup's own allocations, snapshot()'s)
// passes through unsampled through the thread's `busy` guard.
#pragma once

namespace fiberleak::heap::detail {

// Initializes on first use: reads FIBERLEAK_HEAP_RATE/FIBERLEAK_HEAP_SEED,
// maps the tables. True when they are ready; false while another thread
// initializes, or for good when mmap failed.
bool ensure_init() noexcept;

// Preloaded, the sampler samples nothing until the bootstrap's constructor
// opens the gate: what the libraries it pulls into the process (libstdc++'s
// exception pool, libunwind) allocate while they initialize is fiberleak's
// cost, not the program's. Linked, the gate is open from the start.
void open_sampling_gate() noexcept;

// The calling thread's allocations are never sampled again (its `busy`
// guard stays set).
void exclude_this_thread() noexcept;

// While one lives, the calling thread's allocations are not sampled (the
// preload bootstrap loading its companions; fiberleak's own threads).
// Nests; any thread.
class UnsampledScope {
 public:
  UnsampledScope() noexcept;
  ~UnsampledScope();
  UnsampledScope(const UnsampledScope&) = delete;
  UnsampledScope& operator=(const UnsampledScope&) = delete;

 private:
  bool was_busy_;
};

}  // namespace fiberleak::heap::detail
