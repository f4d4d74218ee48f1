// The sampler's per-allocation work, inlined into the interposed malloc and
// free (runtime/heap/malloc_hooks.cpp); everything else is out of line in
// heap_sampler.cpp. Internal to the heap library.
//
// malloc: one thread-local subtraction and a sign test. Every state that
// needs attention (first allocation of a thread, not initialized yet,
// sampling off, rate 1, re-entry while sampling) is encoded in the
// countdown going negative, so the slow path sorts it out.
// free: one multiply and one bit test in a 1 KiB filter, set only near
// sampled addresses (the .bss filter is zero before initialization).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace fiberleak::heap::detail {

struct ThreadState {
  std::int64_t countdown;  // bytes until the next sample; < 0: take the slow path
  std::uint64_t rng;
  bool seeded;
  bool busy;            // re-entrancy guard: allocations while sampling pass through
  std::uint8_t shard;   // which of the sampler's sharded counters this thread uses
};
// __thread, not thread_local: no TLS wrapper calls across translation units.
// Zero-initialized and trivially destructible, so free() during a thread's
// TLS teardown is fine.
extern __thread ThreadState t_state __attribute__((tls_model("initial-exec")));

inline constexpr unsigned kFilterBits = 13;
// Bit f: some live sample's address hashes to filter index f. Small enough
// to stay in L1 next to the program's own data.
extern std::atomic<std::uint64_t> g_filter_bits[(std::size_t{1} << kFilterBits) / 64];

// Fibonacci hashing of a (16-byte aligned) block address: the filter takes
// the top 13 bits (and so the stripe the top 6), a live-table home the next 12.
inline std::uint64_t address_hash(const void* p) noexcept {
  return (reinterpret_cast<std::uintptr_t>(p) >> 4) * 0x9E3779B97F4A7C15ULL;
}
inline std::size_t filter_index(std::uint64_t hash) noexcept { return static_cast<std::size_t>(hash >> (64 - kFilterBits)); }

void alloc_slow(void* p, std::size_t size, std::uintptr_t caller) noexcept;
void free_sampled(void* p, std::uint64_t hash) noexcept;

}  // namespace fiberleak::heap::detail

namespace fiberleak::heap {

// Counts an allocation of `size` bytes; true when the slow path must see it
// (then call on_sampled_alloc with the block).
inline bool sample_due(std::size_t size) noexcept {
  detail::ThreadState& t = detail::t_state;
  t.countdown -= static_cast<std::int64_t>(size);
  return __builtin_expect(t.countdown < 0, 0);
}
inline void on_sampled_alloc(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  detail::alloc_slow(p, size, caller);
}
inline void on_alloc(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  if (sample_due(size)) on_sampled_alloc(p, size, caller);
}

inline void on_free(void* p) noexcept {
  const std::uint64_t h = detail::address_hash(p);
  const std::size_t f = detail::filter_index(h);
  if (__builtin_expect(((detail::g_filter_bits[f / 64].load(std::memory_order_relaxed) >> (f % 64)) & 1) == 0, 1)) return;
  detail::free_sampled(p, h);
}

}  // namespace fiberleak::heap
