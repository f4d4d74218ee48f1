#include "runtime/heap/free_filter.hpp"

#include "runtime/heap/zeroed_pages.hpp"

namespace fiberleak::heap::detail {

__constinit FreeFilter g_free_filter;
// sampler_hot_path.hpp's bitmap, in .bss: no pointer to chase on free()'s
// fast path. Line-aligned, so that each region's 512-byte group has cache
// lines of its own (no line shared with a neighbouring group or a variable).
alignas(64) std::atomic<std::uint64_t> g_filter_bits[kFilterSize / 64];

void FreeFilter::prefault() noexcept { prefault_pages(counts_, sizeof counts_); }

}  // namespace fiberleak::heap::detail
