// The fiber running on the calling thread, as the scheduler hooks publish it
// at every switch. Lets code that must not call into Boost (the heap
// sampler runs inside malloc, where context::active() may allocate) tag its
// records with the running fiber. Thread-local: each thread sees its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fiberleak::detail {
struct FiberSlot;

namespace current_fiber {
// Called by TrackingAlgorithm when it switches a tracked fiber in (nullptr:
// the dispatcher or an untracked fiber runs).
void publish(FiberSlot* slot) noexcept;
// The running tracked fiber's slot on this thread, or nullptr.
FiberSlot* get() noexcept;
}  // namespace current_fiber
}  // namespace fiberleak::detail

// C entry points for modules that find the runtime at run time (dlsym), e.g.
// the LD_PRELOADed heap sampler: the running fiber's id (0 if none) and its
// name copied into out (NUL-terminated; returns its length).
extern "C" std::uint64_t fiberleak_current_fiber_id() noexcept;
extern "C" std::size_t fiberleak_current_fiber_name(char* out, std::size_t cap) noexcept;
