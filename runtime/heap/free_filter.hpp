// FreeFilter: a counting filter over the addresses of live samples, so that
// free() of an unsampled block (nearly every one) costs a bit test: each of
// its kFilterSize entries counts the live samples whose address hashes to
// it (filter_index(address_hash(p)), sampler_hot_path.hpp), and the bitmap
// g_filter_bits, which free() reads, says which counts are non-zero.
//
// Thread-safety: entry f and the bit word f / 64 holding its bit belong to
// one live-table stripe (LiveTable places f in stripe (f >> 6) % kStripes),
// so both are written only under that stripe's lock; free() reads the bits
// without it (relaxed: a bit it misses belongs to a block that is not
// being freed by this thread). Constant-initialized (zero before any sample).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/heap/sampler_hot_path.hpp"

namespace fiberleak::heap::detail {

// 64 Ki entries: an 8 KiB bitmap for free()'s test.
inline constexpr std::size_t kFilterSize = std::size_t{1} << kFilterBits;

class FreeFilter {
 public:
  // Maps the counts' pages in now (they are read before written).
  void prefault() noexcept;

  void add(std::uint16_t f) noexcept {
    if (counts_[f]++ != 0) return;
    std::atomic<std::uint64_t>& w = g_filter_bits[f / 64];
    w.store(w.load(std::memory_order_relaxed) | (std::uint64_t{1} << (f % 64)), std::memory_order_relaxed);
  }
  void remove(std::uint16_t f) noexcept {
    if (--counts_[f] != 0) return;
    std::atomic<std::uint64_t>& w = g_filter_bits[f / 64];
    w.store(w.load(std::memory_order_relaxed) & ~(std::uint64_t{1} << (f % 64)), std::memory_order_relaxed);
  }
  // Some live sample hashes to f (caller holds f's stripe lock).
  bool any(std::uint16_t f) const noexcept { return counts_[f] != 0; }

  // The counts and the bitmap.
  static constexpr std::size_t kMemoryBytes = sizeof(std::uint16_t) * kFilterSize + kFilterSize / 8;

 private:
  std::uint16_t counts_[kFilterSize]{};  // live samples per filter index
};

extern FreeFilter g_free_filter;

}  // namespace fiberleak::heap::detail
