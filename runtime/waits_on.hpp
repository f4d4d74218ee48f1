// What a parked fiber waits on, and for whom.
//
// In pick_next() a fiber parking on a mutex, condition variable, channel,
// future or join is already linked into the primitive's wait queue (Boost
// links it with push_back and still holds the primitive's spinlock), so its
// context's wait_hook_.next_ is the queue's header, a member of the
// primitive: one load per park names the primitive (DESIGN.md,
// shared/prototypes/waits_on.cpp). Fibers parked on the same primitive
// record the same address.
//
// At snapshot time the address says more: a mutex's owner sits right after
// its queue, and a joiner's address lies inside the joined fiber's context.
// Those reads go through process_vm_readv, so a primitive freed under the
// reader (a racing wake-up) costs an error code, never a crash, and every
// answer is dropped unless the waiter is still in the same park afterwards.
//
// Layouts are checked at compile time for the Boost version they were read
// from (1.74); elsewhere nothing is recorded and Snapshot::waits_on_recorded
// says so. Thread-safety: wait_queue_of() runs in the parking fiber's hook;
// resolve_wait_targets() on the snapshot's thread.
#pragma once

#include <boost/fiber/context.hpp>
#include <boost/version.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <fiberleak/snapshot.hpp>

namespace fiberleak::detail {

#if BOOST_VERSION == 107400
inline constexpr bool kWaitsOnRecorded = true;
#else
inline constexpr bool kWaitsOnRecorded = false;
#endif

// The wait queue `self` is linked into as it parks, or 0. Hook-safe: one load.
inline std::uint64_t wait_queue_of(const boost::fibers::context* self) noexcept {
  if constexpr (!kWaitsOnRecorded) return 0;
  return reinterpret_cast<std::uint64_t>(static_cast<const void*>(self->wait_hook_.next_));
}

// A live fiber's context, for telling owners and joined fibers by address.
struct LiveContext {
  std::uintptr_t address = 0;
  std::size_t fiber = 0;  // index into the snapshot's fibers
};

// Fills waits_for and owner_ended of the parked mutex and join waiters in
// `fibers` (their `wait` already classified). still_parked(i): whether
// fibers[i] is still in the park the snapshot copied.
void resolve_wait_targets(std::vector<FiberSnapshot>& fibers, std::vector<LiveContext> contexts,
                          const std::function<bool(std::size_t)>& still_parked);

// Reads n bytes at `address` of this process; false (and nothing written to
// out) when they are not mapped. No signal, no crash.
bool read_own_memory(std::uintptr_t address, void* out, std::size_t n) noexcept;

}  // namespace fiberleak::detail
