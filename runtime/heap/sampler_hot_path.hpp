// The sampler's per-allocation work, inlined into the interposed malloc and
// free (runtime/heap/malloc_hooks.cpp); everything else is out of line:
// alloc_slow in heap_sampler.cpp, the realloc and free_sampled steps in
// live_table.cpp, the filter's bitmap in free_filter.cpp. Internal to the
// heap library.
//
// malloc: one thread-local subtraction and a sign test. Every state that
// needs attention (first allocation of a thread, not initialized yet,
// sampling off, rate 1, re-entry while sampling) is encoded in the
// countdown going negative, so the slow path sorts it out.
// free: two multiplies and one bit test in an 8 KiB filter, set only near
// sampled addresses (the .bss filter is zero before initialization); a
// thread's frees read only its region's 512 bytes of it (address_hash).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace fiberleak::heap::detail {

struct ThreadState {
  std::int64_t countdown;  // bytes until the next sample; < 0: take the slow path
  std::uint64_t rng;
  bool seeded;
  bool busy;           // re-entrancy guard: allocations while sampling pass through
  std::uint8_t shard;  // which of the sampler's sharded counters this thread uses
};
// __thread, not thread_local: no TLS wrapper calls across translation units.
// Zero-initialized and trivially destructible, so free() during a thread's
// TLS teardown is fine.
extern __thread ThreadState t_state __attribute__((tls_model("initial-exec")));

// Bit f: some live sample's address hashes to filter index f. The top 4
// bits of f come from the address's 64 MiB region (glibc gives each
// thread's arena its own 64 MiB heaps), the other 12 from the block: a
// thread's frees read the 512 bytes of its own group, which samples of
// threads in other groups never write, so the lines a free reads are not
// invalidated by other cores' samples.
inline constexpr unsigned kFilterBits = 16;
inline constexpr unsigned kRegionBits = 4;
extern std::atomic<std::uint64_t> g_filter_bits[(std::size_t{1} << kFilterBits) / 64];

// The filter index is the top kFilterBits of this hash, a live-table home
// the next 12: the region's group, then Fibonacci hashing of the (16-byte
// aligned) block address.
inline std::uint64_t address_hash(const void* p) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uint64_t region = (a >> 26) * 0xD6E8FEB86659FD93ULL;
  const std::uint64_t block = (a >> 4) * 0x9E3779B97F4A7C15ULL;
  return (region >> (64 - kRegionBits) << (64 - kRegionBits)) | (block >> kRegionBits);
}
inline std::size_t filter_index(std::uint64_t hash) noexcept {
  return static_cast<std::size_t>(hash >> (64 - kFilterBits));
}

// A live sample's record: the block, its requested size, its stack bucket.
struct Slot {
  std::uintptr_t addr;  // 0: empty
  std::uint64_t size;
  std::uint32_t bucket;
};

void alloc_slow(void* p, std::size_t size, std::uintptr_t caller) noexcept;
void free_sampled(void* p, std::uint64_t hash) noexcept;

// realloc of a sampled block, which glibc may resize in place (programs
// such as bash keep pointers into a block they shrink, so it must stay
// glibc's realloc): detach_sample() takes p's record out of the table
// (false: p is not a live sample), then after __libc_realloc either
// reattach_sample() (it failed: p is still live, still sampled) or
// retire_sample() (it succeeded: the old block counts as freed). No lock is
// held across glibc's realloc, and no other thread can be handed p while
// it is detached: it is still allocated.
bool detach_sample(const void* p, Slot& out) noexcept;
void reattach_sample(const Slot& s) noexcept;
void retire_sample(const Slot& s) noexcept;

}  // namespace fiberleak::heap::detail

namespace fiberleak::heap {

// Counts an allocation of `size` bytes; true when the slow path must see it
// (then call on_sampled_alloc with the block), also for a size beyond
// PTRDIFF_MAX, which glibc refuses anyway and which would have moved the
// countdown the wrong way (the slow path redraws it).
inline bool sample_due(std::size_t size) noexcept {
  detail::ThreadState& t = detail::t_state;
  const auto signed_size = static_cast<std::int64_t>(size);
  t.countdown -= signed_size;
  return __builtin_expect((t.countdown | signed_size) < 0, 0);
}
inline void on_sampled_alloc(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  detail::alloc_slow(p, size, caller);
}
inline void on_alloc(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  if (sample_due(size)) on_sampled_alloc(p, size, caller);
}

// False for most blocks that are not live samples; true for every one that is.
inline bool maybe_sampled(const void* p) noexcept {
  const std::size_t f = detail::filter_index(detail::address_hash(p));
  return __builtin_expect(((detail::g_filter_bits[f / 64].load(std::memory_order_relaxed) >> (f % 64)) & 1) != 0, 0);
}

inline void on_free(void* p) noexcept {
  if (maybe_sampled(p)) detail::free_sampled(p, detail::address_hash(p));
}

}  // namespace fiberleak::heap
