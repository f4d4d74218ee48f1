// Memory for the heap sampler's tables: anonymous mappings, never malloc
// (the sampler runs inside malloc). Thread-safe (mmap is).
#pragma once

#include <cstddef>

namespace fiberleak::heap::detail {

// `bytes` of zeroed, private memory, reserved lazily (MAP_NORESERVE), or
// nullptr when the mapping fails.
void* map_zeroed_pages(std::size_t bytes) noexcept;
void unmap_pages(void* p, std::size_t bytes) noexcept;

// Writes one byte of every page, so that tables read before they are
// written (probed by hash) get their own pages now, not the zero page and
// then a copy-on-write fault with a TLB shootdown on the sampling path.
void prefault_pages(void* p, std::size_t bytes) noexcept;

}  // namespace fiberleak::heap::detail
