#include "runtime/heap/live_table.hpp"

#include "runtime/heap/bucket_table.hpp"
#include "runtime/heap/free_filter.hpp"
#include "runtime/heap/zeroed_pages.hpp"

namespace fiberleak::heap::detail {
namespace {

constexpr unsigned kHomeBits = 12;  // log2(kMaxSlotsPerStripe)
constexpr std::size_t kFirstSlotsBytes = sizeof(Slot) * kStripes * kMinSlotsPerStripe;
static_assert(kStripes == 64 && kFilterSize / kStripes % 64 == 0 && kMaxSlotsPerStripe == std::size_t{1} << kHomeBits,
              "place_of_hash() splits the hash into filter, stripe and home bits");

// Where an address's record lives: its filter index, its stripe (from the
// filter index, so that the filter entry is written under the stripe's
// lock) and its home slot.
struct Place {
  std::uint16_t filter;
  std::size_t stripe;
  std::size_t home;  // kHomeBits of hash; the stripe's capacity masks it
};
inline Place place_of_hash(std::uint64_t h) noexcept {
  const auto f = static_cast<std::uint16_t>(filter_index(h));
  return {f, static_cast<std::size_t>((f >> 6) & (kStripes - 1)),
          static_cast<std::size_t>((h >> (64 - kFilterBits - kHomeBits)) & (kMaxSlotsPerStripe - 1))};
}
inline Place place_of(std::uintptr_t addr) noexcept {
  return place_of_hash(address_hash(reinterpret_cast<const void*>(addr)));
}
inline std::size_t home_of(std::uintptr_t addr, std::size_t mask) noexcept { return place_of(addr).home & mask; }

// The slot index of addr in its stripe's table, or kNotFound (caller
// holds the stripe lock).
constexpr std::size_t kNotFound = ~std::size_t{0};
std::size_t find_locked(const Stripe& st, std::uintptr_t addr, const Place& p) noexcept {
  const std::size_t mask = st.capacity.load(std::memory_order_relaxed) - 1;
  std::size_t i = p.home & mask;
  for (std::size_t probes = 0; probes <= mask && st.slots[i].addr != 0; ++probes, i = (i + 1) & mask) {
    if (st.slots[i].addr == addr) return i;
  }
  return kNotFound;
}

// Takes addr's record out of its stripe's table into `out` without counting
// a free (caller holds the stripe lock); false when addr has none.
bool take_locked(Stripe& st, std::uintptr_t addr, const Place& p, Slot& out) noexcept {
  const std::size_t i = find_locked(st, addr, p);
  if (i == kNotFound) return false;
  Slot* const base = st.slots;
  const std::size_t mask = st.capacity.load(std::memory_order_relaxed) - 1;
  out = base[i];
  // Backward-shift deletion keeps every probe chain unbroken.
  std::size_t hole = i;
  std::size_t j = (i + 1) & mask;
  while (base[j].addr != 0) {
    const std::size_t home = home_of(base[j].addr, mask);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!in_range) {
      base[hole] = base[j];
      hole = j;
    }
    j = (j + 1) & mask;
  }
  base[hole].addr = 0;
  st.count.store(st.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  g_free_filter.remove(p.filter);
  return true;
}

// Removes addr's record and counts its free (caller holds the stripe lock).
bool remove_locked(Stripe& st, std::uintptr_t addr, const Place& p) noexcept {
  Slot s{};
  if (!take_locked(st, addr, p, s)) return false;
  g_bucket_table.count_free(s.bucket, s.size);
  return true;
}

void place_locked(Slot* base, std::size_t mask, const Slot& s) noexcept {
  std::size_t i = home_of(s.addr, mask);
  while (base[i].addr != 0) i = (i + 1) & mask;
  base[i] = s;
}

// Doubles a stripe's table (caller holds its lock); false when it is at
// its maximum or the mapping fails. The first tables share one mapping and
// are never unmapped; later ones are.
bool grow_locked(Stripe& st) noexcept {
  const std::size_t capacity = st.capacity.load(std::memory_order_relaxed);
  if (capacity >= kMaxSlotsPerStripe) return false;
  const std::size_t grown = capacity * 2;
  auto* slots = static_cast<Slot*>(map_zeroed_pages(grown * sizeof(Slot)));
  if (slots == nullptr) return false;
  prefault_pages(slots, grown * sizeof(Slot));
  for (std::size_t i = 0; i < capacity; ++i) {
    if (st.slots[i].addr != 0) place_locked(slots, grown - 1, st.slots[i]);
  }
  if (capacity != kMinSlotsPerStripe) unmap_pages(st.slots, capacity * sizeof(Slot));
  st.slots = slots;
  st.capacity.store(static_cast<std::uint32_t>(grown), std::memory_order_relaxed);
  return true;
}

// Adds a record to its stripe's table, growing it when needed (caller
// holds the stripe lock); false when the table is full.
bool put_locked(Stripe& st, const Place& p, const Slot& s) noexcept {
  const std::uint32_t live = st.count.load(std::memory_order_relaxed);
  // At most 7/8 full, so probe chains stay short.
  if ((live + 1) * 8 > st.capacity.load(std::memory_order_relaxed) * 7 && !grow_locked(st)) return false;
  place_locked(st.slots, st.capacity.load(std::memory_order_relaxed) - 1, s);
  st.count.store(live + 1, std::memory_order_relaxed);
  g_free_filter.add(p.filter);
  return true;
}

}  // namespace

__constinit LiveTable g_live_table;

bool LiveTable::map() noexcept {
  first_slots_ = static_cast<Slot*>(map_zeroed_pages(kFirstSlotsBytes));
  if (first_slots_ == nullptr) return false;
  prefault_pages(first_slots_, kFirstSlotsBytes);
  g_free_filter.prefault();
  for (std::size_t i = 0; i < kStripes; ++i) {
    stripes_[i].slots = first_slots_ + i * kMinSlotsPerStripe;
    stripes_[i].capacity.store(kMinSlotsPerStripe, std::memory_order_relaxed);
  }
  return true;
}

bool LiveTable::insert(std::uintptr_t addr, std::uint64_t size, std::uint32_t bucket) noexcept {
  const Place p = place_of(addr);
  Stripe& st = stripes_[p.stripe];
  st.lock.lock();
  // A stale entry for the same address (freed while we were not looking,
  // e.g. through an allocator path we do not see) is retired first.
  if (g_free_filter.any(p.filter)) remove_locked(st, addr, p);
  if (!put_locked(st, p, Slot{addr, size, bucket})) {
    st.lock.unlock();
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  st.sampled.store(st.sampled.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  g_bucket_table.count_alloc(bucket, size);
  st.lock.unlock();
  return true;
}

void LiveTable::erase(std::uintptr_t addr, std::uint64_t hash) noexcept {
  const Place p = place_of_hash(hash);
  Stripe& st = stripes_[p.stripe];
  st.lock.lock();
  remove_locked(st, addr, p);
  st.lock.unlock();
}

bool LiveTable::detach(std::uintptr_t addr, Slot& out) noexcept {
  const Place p = place_of(addr);
  Stripe& st = stripes_[p.stripe];
  st.lock.lock();
  const bool found = take_locked(st, addr, p, out);
  st.lock.unlock();
  return found;
}

void LiveTable::reattach(const Slot& s) noexcept {
  const Place p = place_of(s.addr);
  Stripe& st = stripes_[p.stripe];
  st.lock.lock();
  const bool put = put_locked(st, p, s);
  st.lock.unlock();
  if (!put) {  // other samples filled the stripe meanwhile: its free can no longer be seen
    g_bucket_table.count_free(s.bucket, s.size);
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::uint64_t LiveTable::live_samples() const noexcept {
  std::uint64_t n = 0;
  for (const Stripe& st : stripes_) n += st.count.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t LiveTable::sampled() const noexcept {
  std::uint64_t n = 0;
  for (const Stripe& st : stripes_) n += st.sampled.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t LiveTable::slots() const noexcept {
  std::uint64_t n = 0;
  for (const Stripe& st : stripes_) n += st.capacity.load(std::memory_order_relaxed);
  return n;
}

void LiveTable::lock_all() noexcept {
  for (Stripe& s : stripes_) s.lock.lock();
}
void LiveTable::unlock_all() noexcept {
  for (Stripe& s : stripes_) s.lock.unlock();
}
void LiveTable::reset_after_fork() noexcept {
  for (Stripe& s : stripes_) s.lock.reset();
}

// sampler_hot_path.hpp's entry points into the table.
__attribute__((noinline)) void free_sampled(void* p, std::uint64_t hash) noexcept {
  if (p == nullptr) return;
  g_live_table.erase(reinterpret_cast<std::uintptr_t>(p), hash);
}
bool detach_sample(const void* p, Slot& out) noexcept {
  return g_live_table.detach(reinterpret_cast<std::uintptr_t>(p), out);
}
void reattach_sample(const Slot& s) noexcept { g_live_table.reattach(s); }
void retire_sample(const Slot& s) noexcept { g_bucket_table.count_free(s.bucket, s.size); }

}  // namespace fiberleak::heap::detail
