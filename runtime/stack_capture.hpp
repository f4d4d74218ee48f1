// Captures the calling fiber's stack as raw return addresses.
//
// Uses libunwind's unw_backtrace: frame-pointer walks break inside Debian's
// Boost libraries (built without frame pointers), while libunwind's DWARF
// unwinder walks through fcontext frames and stops cleanly at the bottom of
// a fiber's stack (DESIGN.md). ~7 ns a frame once warm; no allocation after
// the first calls. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fiberleak::detail {

inline constexpr std::size_t kMaxStackDepth = 128;

// Writes up to max_depth return addresses, innermost first, skipping the
// `skip` innermost frames of the caller (capture_stack itself is never
// included). Returns the number written.
std::size_t capture_stack(std::uintptr_t* out, std::size_t max_depth, std::size_t skip) noexcept;

}  // namespace fiberleak::detail

namespace fiberleak::detail {

// Like capture_stack, and also reports where on the stack each frame's
// return address is stored (slots[i] holds pcs[i]), so that a later park can
// check cheaply whether it has the same stack (see ParkStackCache). Slower
// than capture_stack (libunwind's cursor walk instead of its trace cache):
// used when the cache misses.
std::size_t capture_stack_with_slots(std::uintptr_t* pcs, std::uintptr_t* slots, std::size_t max_depth,
                                     std::size_t skip) noexcept;

}  // namespace fiberleak::detail
