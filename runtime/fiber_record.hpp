// FiberRecord: the boost::fibers::fiber_properties object that ties a Boost
// context to its FiberSlot in the registry.
//
// Boost creates one per fiber through TrackingAlgorithm::new_properties() and
// deletes it in ~context. Its storage is the slot itself (class-level
// operator new/delete), so creating and destroying records allocates nothing
// once the registry has grown to the program's fiber population. Accessed by
// the scheduler hooks of whichever thread owns the fiber at the time.
#pragma once

#include <boost/fiber/properties.hpp>

#include <cstddef>
#include <new>
#include <string_view>

#include "runtime/fiber_registry.hpp"

namespace fiberleak::detail {

class FiberRecord final : public boost::fibers::fiber_properties {
 public:
  // Tag for records that must exist (Boost needs one per context) but are
  // not tracked: the dispatcher's, and any created past max_fibers.
  struct Untracked {};

  explicit FiberRecord(boost::fibers::context* ctx) noexcept : boost::fibers::fiber_properties(ctx) {}

  // The context a slot's record belongs to, read from the slot's storage
  // without touching it as an object (a reader may meet a slot whose record
  // is not constructed yet, or no more): 0 then, or a stale address. Any
  // thread.
  static std::uintptr_t context_in(const FiberSlot& slot) noexcept;

  // A registry slot; falls back to an untracked heap slot (counted in
  // records_dropped) when the registry is full. nullptr only when the heap
  // is exhausted too.
  static void* operator new(std::size_t size) noexcept;
  static void* operator new(std::size_t size, Untracked) noexcept;
  static void operator delete(void* p) noexcept;
  static void operator delete(void* p, Untracked) noexcept { operator delete(p); }

  FiberSlot& slot() noexcept { return *reinterpret_cast<FiberSlot*>(this); }
  const FiberSlot& slot() const noexcept { return *reinterpret_cast<const FiberSlot*>(this); }
  bool tracked() const noexcept { return slot().index != FiberSlot::kHeapIndex; }
  FiberId id() const noexcept { return static_cast<FiberId>(slot().id.load(std::memory_order_relaxed)); }
  // The stacks of this fiber's two latest parks: ParkStackCache checks them
  // first (a fiber in a loop alternates between a few park sites). Touched
  // only by hooks, which Boost orders for a given fiber.
  StackId recent_parks[2] = {kNoStack, kNoStack};
  // When its latest park on a primitive ended by the wait's timeout (ticks;
  // 0: it ended otherwise, or was no wait on a primitive). The next park
  // tells a re-armed timed wait from new work by it.
  std::uint64_t timed_out_at = 0;
  // The primitive (wait queue) whose notify last woke it, kept across
  // sleeps and other waits in between: parking on it again is a re-wait
  // (FiberSnapshot::rewaits).
  std::uint64_t last_woken_from = 0;

  void set_name(std::string_view name) noexcept {
    FiberSlot& s = slot();
    s.begin_write();
    s.set_name(name);
    s.end_write();
  }
};

}  // namespace fiberleak::detail
