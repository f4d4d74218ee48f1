// ParkStackCache: recognises a park stack seen before without unwinding it.
//
// Unwinding costs ~60-120 ns a park (libunwind), most of the tracking cost.
// But fibers park again and again at the same few places. A stack seen for
// the second time is unwound once more with capture_stack_with_slots()
// (slow: a few µs), which also says where each return address lives, as an
// offset from an anchor (the parking hook's own CFA). The next park compares the stored return
// addresses with what is at those offsets now: a frame's position is fixed
// by the frames above it, so if every return address is where and what it
// was, the chain is the same and its StackId is reused (~10 ns). Frames with
// a variable size (alloca, VLAs) between two parks at the same depth could
// in theory fool it; the cache is off with capture mode "exact".
//
// One per scheduler thread (TrackingAlgorithm owns it); not thread-safe.
// Never allocates after construction.
#pragma once

#include <cstddef>
#include <cstdint>

#include <fiberleak/fiber_state.hpp>

#include "runtime/stack_table.hpp"

namespace fiberleak::detail {

class ParkStackCache {
 public:
  static constexpr std::size_t kEntries = 32;

  explicit ParkStackCache(std::size_t max_depth) noexcept;
  ~ParkStackCache();
  ParkStackCache(const ParkStackCache&) = delete;
  ParkStackCache& operator=(const ParkStackCache&) = delete;

  // The cached stack that is on the stack now (anchor: the same hook's CFA
  // as when it was remembered), or kNoStack. `hints` (may hold kNoStack) are
  // checked first.
  StackId find(const StackTable& table, std::uintptr_t anchor, const StackId (&hints)[2]) noexcept;
  // Remembers a freshly unwound stack: slots are absolute addresses of the
  // return addresses, which must all be above the anchor.
  void remember(StackId id, std::uintptr_t anchor, const std::uintptr_t* slots, std::size_t n) noexcept;

  std::uint64_t hits() const noexcept { return hits_; }
  std::uint64_t misses() const noexcept { return misses_; }

 private:
  struct Entry {
    StackId id = kNoStack;
    std::uint32_t depth = 0;
    std::uint32_t* offsets = nullptr;  // max_depth_ entries
  };
  std::size_t max_depth_;
  std::uint32_t* storage_ = nullptr;
  Entry entries_[kEntries];
  bool matches(const StackTable& table, const Entry& e, std::uintptr_t anchor) const noexcept;

  std::size_t next_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace fiberleak::detail
