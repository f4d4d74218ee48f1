#include <fiberleak/heap.hpp>
#include "runtime/heap/sampler_hot_path.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

// The fiber-tracking runtime's entry points (runtime/current_fiber.hpp),
// weak: absent when the program does not link the runtime (then no fiber is
// ever reported), and bound by the dynamic linker when preloaded into a
// program that exports them.
extern "C" std::uint64_t fiberleak_current_fiber_id() noexcept __attribute__((weak));
extern "C" std::size_t fiberleak_current_fiber_name(char* out, std::size_t cap) noexcept __attribute__((weak));

namespace fiberleak::heap {

constexpr std::size_t kMaxBuckets = 1 << 14;
constexpr std::size_t kBucketIndexSize = kMaxBuckets * 2;
constexpr std::size_t kStripes = 64;
// Each stripe's live table starts small and doubles as samples stay live:
// a hash table spreads its entries over every page it has, so a large one
// would be paged in by the first few thousand samples (one fault each,
// and a TLB shootdown to every core when a read had mapped the zero page
// first), whatever the program keeps live.
constexpr std::size_t kMinSlotsPerStripe = 64;
constexpr std::size_t kMaxSlotsPerStripe = 4096;
constexpr unsigned kHomeBits = 12;  // log2(kMaxSlotsPerStripe)
// 64 Ki filter entries: an 8 KiB bitmap for free()'s test (sampler_hot_path.hpp).
constexpr std::size_t kFilterSize = std::size_t{1} << detail::kFilterBits;
static_assert(kStripes == 64 && kFilterSize / kStripes % 64 == 0 && kMaxSlotsPerStripe == std::size_t{1} << kHomeBits,
              "place_of_hash() splits the hash into filter, stripe and home bits");
// With sampling off, a thread looks at the rate again after this many bytes.
constexpr std::int64_t kRecheckBytes = 1 << 20;

// A bucket's counters come in shards, one cache line each, picked by the
// thread (ThreadState::shard): threads sampling the same stack do not
// bounce one line. Readers add them up.
constexpr std::size_t kCounterShards = 4;
struct alignas(64) CounterShard {
  std::atomic<std::uint64_t> alloc_objects, alloc_bytes, free_objects, free_bytes;
};
struct Counts {
  std::uint64_t alloc_objects = 0, alloc_bytes = 0, free_objects = 0, free_bytes = 0;
};

struct Bucket {
  std::uint64_t hash;
  std::uint64_t fiber_id;
  std::uint32_t depth;
  char name[kFiberNameCap];
  std::uintptr_t pcs[kMaxHeapStackDepth];
  CounterShard counters[kCounterShards];

  CounterShard& mine() noexcept { return counters[detail::t_state.shard % kCounterShards]; }
  Counts counts() const noexcept {
    Counts c;
    for (const CounterShard& s : counters) {
      c.alloc_objects += s.alloc_objects.load(std::memory_order_relaxed);
      c.alloc_bytes += s.alloc_bytes.load(std::memory_order_relaxed);
      c.free_objects += s.free_objects.load(std::memory_order_relaxed);
      c.free_bytes += s.free_bytes.load(std::memory_order_relaxed);
    }
    // A free counted before its allocation: never report negative live.
    c.free_objects = std::min(c.free_objects, c.alloc_objects);
    c.free_bytes = std::min(c.free_bytes, c.alloc_bytes);
    return c;
  }
};

using detail::Slot;

class SpinLock {
 public:
  void lock() noexcept {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) __builtin_ia32_pause();
    }
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }
  void reset() noexcept { flag_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
};

// One stripe of the live table: an open-addressing table of `capacity`
// slots (a power of two). Its counters sit with its lock (written under
// it, read by stats() without it): no process-wide counter bounces
// between cores.
struct alignas(64) Stripe {
  SpinLock lock;
  std::atomic<std::uint32_t> count{0};     // live samples
  std::atomic<std::uint32_t> capacity{0};  // slots
  std::atomic<std::uint64_t> sampled{0};   // samples ever inserted
  Slot* slots = nullptr;                   // under lock
};

using detail::t_state;
using detail::ThreadState;

// Every sample reads these; they are written once (or on reconfiguration),
// so they share no cache line with the counters samples write.
// 0 not initialized, 1 initializing, 2 ready.
alignas(64) std::atomic<int> g_init{0};
std::atomic<std::int64_t> g_rate{524288};
std::atomic<std::uint64_t> g_seed{0};
Bucket* g_buckets = nullptr;
std::atomic<std::uint32_t>* g_bucket_index = nullptr;  // bucket idx + 1, 0 empty; set once
Slot* g_first_slots = nullptr;  // every stripe's first kMinSlotsPerStripe slots, one mapping

alignas(64) std::atomic<std::uint64_t> g_thread_counter{0};
alignas(64) std::atomic<std::uint64_t> g_dropped{0};
alignas(64) std::atomic<std::uint32_t> g_bucket_count{0};
SpinLock g_bucket_lock;
Stripe g_stripes[kStripes];
std::uint16_t g_filter_counts[kFilterSize];  // live samples per filter index (see filter_add)

constexpr std::size_t kBucketsBytes = sizeof(Bucket) * kMaxBuckets;
constexpr std::size_t kIndexBytes = sizeof(std::atomic<std::uint32_t>) * kBucketIndexSize;
constexpr std::size_t kFirstSlotsBytes = sizeof(Slot) * kStripes * kMinSlotsPerStripe;
constexpr std::size_t kFilterBytes = sizeof(std::uint16_t) * kFilterSize + kFilterSize / 8;

void* map_zeroed(std::size_t bytes) noexcept {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// Writes one byte of every page, so that the tables read before they are
// written (probed by hash) get their own pages now, not the zero page and
// then a copy-on-write fault with a TLB shootdown on the sampling path.
void prefault(void* p, std::size_t bytes) noexcept {
  auto* c = static_cast<volatile char*>(p);
  for (std::size_t off = 0; off < bytes; off += 4096) c[off] = 0;
}

// fork() while another thread is inside unw_backtrace would leave
// libunwind's internal mutexes (its register-state cache, the loader's
// lock in dl_iterate_phdr) locked forever in the child, whose next sample
// would hang. So the prepare handler raises g_forking and waits for the
// unwinds in flight; a sample that starts meanwhile waits for the fork to
// finish (it holds nothing then; dropping it would cost rate 1 its
// exactness).
// The count of walks in flight is sharded by thread so that samples on
// different cores do not bounce one cache line.
alignas(64) std::atomic<bool> g_forking{false};
struct alignas(64) UnwindShard {
  std::atomic<int> n{0};
};
constexpr std::size_t kUnwindShards = 16;
UnwindShard g_unwinding[kUnwindShards];

bool unwinds_in_flight() noexcept {
  for (const UnwindShard& s : g_unwinding) {
    if (s.n.load(std::memory_order_seq_cst) != 0) return true;
  }
  return false;
}

void lock_all() noexcept {
  g_forking.store(true, std::memory_order_seq_cst);
  while (unwinds_in_flight()) __builtin_ia32_pause();
  g_bucket_lock.lock();
  for (auto& s : g_stripes) s.lock.lock();
}
void unlock_all() noexcept {
  for (auto& s : g_stripes) s.lock.unlock();
  g_bucket_lock.unlock();
  g_forking.store(false, std::memory_order_seq_cst);
}
void reset_all() noexcept {
  for (auto& s : g_stripes) s.lock.reset();
  g_bucket_lock.reset();
  for (UnwindShard& s : g_unwinding) s.n.store(0, std::memory_order_relaxed);  // threads that are gone
  g_forking.store(false, std::memory_order_seq_cst);
}

std::int64_t parse_int(const char* s, std::int64_t fallback) noexcept {
  if (s == nullptr || *s == '\0') return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v < 0) return fallback;
  return v;
}

// Returns true when the tables are ready.
bool ensure_init() noexcept {
  int state = g_init.load(std::memory_order_acquire);
  if (state == 2) return true;
  if (state == 1) return false;
  if (!g_init.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) return state == 2;
  t_state.busy = true;
  g_rate.store(parse_int(std::getenv("FIBERLEAK_HEAP_RATE"), 524288), std::memory_order_relaxed);
  g_seed.store(static_cast<std::uint64_t>(parse_int(std::getenv("FIBERLEAK_HEAP_SEED"), 0)),
               std::memory_order_relaxed);
  g_buckets = static_cast<Bucket*>(map_zeroed(kBucketsBytes));
  g_bucket_index = static_cast<std::atomic<std::uint32_t>*>(map_zeroed(kIndexBytes));
  g_first_slots = static_cast<Slot*>(map_zeroed(kFirstSlotsBytes));
  const bool ok = g_buckets && g_bucket_index && g_first_slots;
  if (ok) {
    prefault(g_bucket_index, kIndexBytes);
    prefault(g_first_slots, kFirstSlotsBytes);
    prefault(g_filter_counts, sizeof g_filter_counts);
    for (std::size_t i = 0; i < kStripes; ++i) {
      g_stripes[i].slots = g_first_slots + i * kMinSlotsPerStripe;
      g_stripes[i].capacity.store(kMinSlotsPerStripe, std::memory_order_relaxed);
    }
    pthread_atfork(lock_all, unlock_all, reset_all);
  }
  t_state.busy = false;
  g_init.store(ok ? 2 : 3, std::memory_order_release);
  return ok;
}

std::uint64_t next_random(ThreadState& t) noexcept {
  // xorshift64*
  std::uint64_t x = t.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t.rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

void seed_thread(ThreadState& t) noexcept {
  std::uint64_t seed = g_seed.load(std::memory_order_relaxed);
  const std::uint64_t n = g_thread_counter.fetch_add(1, std::memory_order_relaxed) + 1;
  if (seed == 0) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = static_cast<std::uint64_t>(ts.tv_nsec) ^ (static_cast<std::uint64_t>(ts.tv_sec) << 32) ^
           reinterpret_cast<std::uintptr_t>(&t);
  }
  // splitmix64 of seed and thread number: distinct, never zero.
  std::uint64_t z = seed + n * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  t.rng = z == 0 ? 0x1234567ULL : z;
  t.shard = static_cast<std::uint8_t>(n);
  t.seeded = true;
}

// Exponentially distributed bytes until the next sample, mean `rate`.
std::int64_t draw_countdown(ThreadState& t, std::int64_t rate) noexcept {
  if (rate <= 1) return 0;
  // u uniform in (0, 1]: 53 random bits.
  const double u = (static_cast<double>(next_random(t) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  const double d = -std::log(u) * static_cast<double>(rate);
  return d > 9.0e18 ? INT64_MAX : static_cast<std::int64_t>(d);
}

std::uint64_t hash_stack(const std::uintptr_t* pcs, std::size_t n, std::uint64_t fiber) noexcept {
  std::uint64_t h = 1469598103934665603ULL ^ fiber;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= pcs[i];
    h *= 1099511628211ULL;
    h ^= h >> 29;
  }
  return h | 1;
}

// The index slot of an existing (stack, fiber) bucket, or the empty slot
// where the probe chain ends. Lock-free: slots go from 0 to a bucket once.
std::uint32_t probe(std::uint64_t h, const std::uintptr_t* pcs, std::size_t n, std::uint64_t fiber, std::size_t& i) noexcept {
  for (i = h & (kBucketIndexSize - 1);; i = (i + 1) & (kBucketIndexSize - 1)) {
    const std::uint32_t v = g_bucket_index[i].load(std::memory_order_acquire);
    if (v == 0) return 0;
    const Bucket& b = g_buckets[v - 1];
    if (b.hash == h && b.fiber_id == fiber && b.depth == n && std::memcmp(b.pcs, pcs, n * sizeof(std::uintptr_t)) == 0) {
      return v;
    }
  }
}

// Finds or creates the bucket; kMaxBuckets when the array is full. Finding
// one takes no lock (the common case: a known stack); creating one does.
std::uint32_t find_bucket(const std::uintptr_t* pcs, std::size_t n, std::uint64_t fiber, const char* name) noexcept {
  const std::uint64_t h = hash_stack(pcs, n, fiber);
  std::size_t i = 0;
  if (const std::uint32_t v = probe(h, pcs, n, fiber, i); v != 0) return v - 1;
  g_bucket_lock.lock();
  if (const std::uint32_t v = probe(h, pcs, n, fiber, i); v != 0) {  // created meanwhile
    g_bucket_lock.unlock();
    return v - 1;
  }
  const std::uint32_t idx = g_bucket_count.load(std::memory_order_relaxed);
  if (idx >= kMaxBuckets) {
    g_bucket_lock.unlock();
    return kMaxBuckets;
  }
  Bucket& b = g_buckets[idx];
  b.hash = h;
  b.fiber_id = fiber;
  b.depth = static_cast<std::uint32_t>(n);
  std::memcpy(b.name, name, kFiberNameCap);
  std::memcpy(b.pcs, pcs, n * sizeof(std::uintptr_t));
  g_bucket_index[i].store(idx + 1, std::memory_order_release);  // publishes the bucket
  g_bucket_count.store(idx + 1, std::memory_order_release);
  g_bucket_lock.unlock();
  return idx;
}

struct Place {
  std::uint16_t filter;
  std::size_t stripe;
  std::size_t home;  // kHomeBits of hash; the stripe's capacity masks it
};
inline Place place_of_hash(std::uint64_t h) noexcept {
  const auto f = static_cast<std::uint16_t>(detail::filter_index(h));
  return {f, static_cast<std::size_t>((f >> 6) & (kStripes - 1)),
          static_cast<std::size_t>((h >> (64 - detail::kFilterBits - kHomeBits)) & (kMaxSlotsPerStripe - 1))};
}
inline Place place_of(std::uintptr_t addr) noexcept {
  return place_of_hash(detail::address_hash(reinterpret_cast<const void*>(addr)));
}
inline std::size_t home_of(std::uintptr_t addr, std::size_t mask) noexcept { return place_of(addr).home & mask; }

// Live samples per filter index, and the bit free() tests. Index f belongs
// to stripe (f >> 6) % 64, as does the whole bit word f >> 6 holding it
// (the stripe comes from block bits: every region uses every stripe), so
// both are written only under that stripe's lock; free() reads the bits
// without it.
void filter_add(std::uint16_t f) noexcept {
  if (g_filter_counts[f]++ != 0) return;
  std::atomic<std::uint64_t>& w = detail::g_filter_bits[f / 64];
  w.store(w.load(std::memory_order_relaxed) | (std::uint64_t{1} << (f % 64)), std::memory_order_relaxed);
}

void filter_remove(std::uint16_t f) noexcept {
  if (--g_filter_counts[f] != 0) return;
  std::atomic<std::uint64_t>& w = detail::g_filter_bits[f / 64];
  w.store(w.load(std::memory_order_relaxed) & ~(std::uint64_t{1} << (f % 64)), std::memory_order_relaxed);
}

void account_free(const Slot& s) noexcept {
  Bucket& b = g_buckets[s.bucket];
  CounterShard& c = b.mine();
  c.free_objects.fetch_add(1, std::memory_order_relaxed);
  c.free_bytes.fetch_add(s.size, std::memory_order_relaxed);
}

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
bool take_locked(std::uintptr_t addr, const Place& p, Slot& out) noexcept {
  Stripe& st = g_stripes[p.stripe];
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
  filter_remove(p.filter);
  return true;
}

// Removes addr's record and counts its free (caller holds the stripe lock).
bool remove_locked(std::uintptr_t addr, const Place& p) noexcept {
  Slot s{};
  if (!take_locked(addr, p, s)) return false;
  account_free(s);
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
  auto* slots = static_cast<Slot*>(map_zeroed(grown * sizeof(Slot)));
  if (slots == nullptr) return false;
  prefault(slots, grown * sizeof(Slot));
  for (std::size_t i = 0; i < capacity; ++i) {
    if (st.slots[i].addr != 0) place_locked(slots, grown - 1, st.slots[i]);
  }
  if (capacity != kMinSlotsPerStripe) munmap(st.slots, capacity * sizeof(Slot));
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
  filter_add(p.filter);
  return true;
}

void insert(std::uintptr_t addr, std::uint64_t size, std::uint32_t bucket) noexcept {
  const Place p = place_of(addr);
  Stripe& st = g_stripes[p.stripe];
  st.lock.lock();
  // A stale entry for the same address (freed while we were not looking,
  // e.g. through an allocator path we do not see) is retired first.
  if (g_filter_counts[p.filter] != 0) remove_locked(addr, p);
  if (!put_locked(st, p, Slot{addr, size, bucket})) {
    st.lock.unlock();
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  st.sampled.store(st.sampled.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  Bucket& b = g_buckets[bucket];
  CounterShard& c = b.mine();
  c.alloc_objects.fetch_add(1, std::memory_order_relaxed);
  c.alloc_bytes.fetch_add(size, std::memory_order_relaxed);
  st.lock.unlock();
}

__attribute__((noinline)) void sample(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  void* raw[kMaxHeapStackDepth + 8];
  std::atomic<int>& unwinding = g_unwinding[t_state.shard % kUnwindShards].n;
  for (;;) {
    unwinding.fetch_add(1, std::memory_order_seq_cst);
    if (!g_forking.load(std::memory_order_seq_cst)) break;
    unwinding.fetch_sub(1, std::memory_order_release);
    while (g_forking.load(std::memory_order_relaxed)) sched_yield();
  }
  const int n = unw_backtrace(raw, static_cast<int>(kMaxHeapStackDepth + 8));
  unwinding.fetch_sub(1, std::memory_order_release);
  // Drop the sampler's and the allocation function's own frames: start at
  // the allocation function's return address when the walk found it.
  int first = 0;
  for (int i = 0; i < n && i < 8; ++i) {
    if (reinterpret_cast<std::uintptr_t>(raw[i]) == caller) {
      first = i;
      break;
    }
  }
  const std::size_t depth = n > first ? std::min<std::size_t>(n - first, kMaxHeapStackDepth) : 0;
  std::uintptr_t pcs[kMaxHeapStackDepth];
  for (std::size_t i = 0; i < depth; ++i) pcs[i] = reinterpret_cast<std::uintptr_t>(raw[first + i]);
  std::uint64_t fiber = 0;
  char name[kFiberNameCap] = {};
  if (fiberleak_current_fiber_id != nullptr) {
    fiber = fiberleak_current_fiber_id();
    if (fiber != 0 && fiberleak_current_fiber_name != nullptr) fiberleak_current_fiber_name(name, sizeof name);
  }
  const std::uint32_t bucket = find_bucket(pcs, depth, fiber, name);
  if (bucket >= kMaxBuckets) {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  insert(reinterpret_cast<std::uintptr_t>(p), size, bucket);
}

namespace detail {

// Where on_alloc() goes when the countdown ran out (see sampler_hot_path.hpp).
__attribute__((noinline)) void alloc_slow(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  ThreadState& t = t_state;
  if (t.busy) return;  // the countdown is redrawn when the sample in progress ends
  if (__builtin_expect(g_init.load(std::memory_order_acquire) != 2, 0) && !ensure_init()) {
    t.countdown = kRecheckBytes;  // another thread is initializing (or mmap failed)
    return;
  }
  const std::int64_t rate = g_rate.load(std::memory_order_relaxed);
  if (rate == 0) {
    t.countdown = kRecheckBytes;
    return;
  }
  t.busy = true;
  if (!t.seeded) {
    seed_thread(t);
    // The first countdown of a thread is drawn fresh (not yet a sample). A
    // size beyond PTRDIFF_MAX (glibc refuses it) counts for nothing.
    const std::int64_t counted = size > static_cast<std::size_t>(INT64_MAX) ? 0 : static_cast<std::int64_t>(size);
    t.countdown = draw_countdown(t, rate) - counted;
    if (t.countdown >= 0 && rate != 1) {
      t.busy = false;
      return;
    }
  }
  if (p != nullptr) sample(p, size, caller);
  // Rate 1 keeps the countdown negative: every allocation is sampled.
  t.countdown = rate == 1 ? -1 : draw_countdown(t, rate);
  t.busy = false;
}

bool detach_sample(const void* p, Slot& out) noexcept {
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  const Place pl = place_of(addr);
  Stripe& st = g_stripes[pl.stripe];
  st.lock.lock();
  const bool found = take_locked(addr, pl, out);
  st.lock.unlock();
  return found;
}

void reattach_sample(const Slot& s) noexcept {
  const Place pl = place_of(s.addr);
  Stripe& st = g_stripes[pl.stripe];
  st.lock.lock();
  const bool put = put_locked(st, pl, s);
  st.lock.unlock();
  if (!put) {  // other samples filled the stripe meanwhile: its free can no longer be seen
    account_free(s);
    g_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

void retire_sample(const Slot& s) noexcept { account_free(s); }

__attribute__((noinline)) void free_sampled(void* p, std::uint64_t hash) noexcept {
  if (p == nullptr) return;
  const Place pl = place_of_hash(hash);
  Stripe& st = g_stripes[pl.stripe];
  st.lock.lock();
  remove_locked(reinterpret_cast<std::uintptr_t>(p), pl);
  st.lock.unlock();
}

// Definitions of sampler_hot_path.hpp's shared state. The filter is in .bss:
// no pointer to chase on free()'s fast path.
__thread ThreadState t_state __attribute__((tls_model("initial-exec"))) = {0, 0, false, false, 0};
std::atomic<std::uint64_t> g_filter_bits[kFilterSize / 64];

}  // namespace detail

void configure(const HeapOptions& o) noexcept {
  ensure_init();
  g_rate.store(o.rate, std::memory_order_relaxed);
  g_seed.store(o.seed, std::memory_order_relaxed);
  // Reseed this thread so a fixed seed takes effect from here on.
  t_state.seeded = false;
  t_state.countdown = 0;
  g_thread_counter.store(0, std::memory_order_relaxed);
}

HeapOptions options() noexcept {
  ensure_init();
  return {g_rate.load(std::memory_order_relaxed), g_seed.load(std::memory_order_relaxed)};
}

// The one place a bucket leaves the sampler: snapshot() converts the
// record (to_heap_bucket), as the profiler does.
void read_bucket(const Bucket& b, FiberleakHeapBucketRecord& out) noexcept {
  out.fiber_id = b.fiber_id;
  std::memcpy(out.fiber_name, b.name, kFiberNameCap);
  out.fiber_name[kFiberNameCap - 1] = '\0';
  out.depth = b.depth;
  std::memcpy(out.pcs, b.pcs, b.depth * sizeof(std::uintptr_t));
  const Counts c = b.counts();
  out.alloc_objects = c.alloc_objects;
  out.alloc_bytes = c.alloc_bytes;
  out.free_objects = c.free_objects;
  out.free_bytes = c.free_bytes;
}

std::vector<HeapBucket> snapshot() {
  std::vector<HeapBucket> out;
  if (!ensure_init()) return out;
  const bool was_busy = t_state.busy;
  t_state.busy = true;
  const std::uint32_t n = g_bucket_count.load(std::memory_order_acquire);
  out.reserve(n);
  FiberleakHeapBucketRecord record{};
  for (std::uint32_t i = 0; i < n; ++i) {
    read_bucket(g_buckets[i], record);
    out.push_back(to_heap_bucket(record));
  }
  t_state.busy = was_busy;
  return out;
}

HeapStats stats() noexcept {
  HeapStats s;
  s.rate = g_rate.load(std::memory_order_relaxed);
  for (const Stripe& st : g_stripes) {
    s.sampled_allocations += st.sampled.load(std::memory_order_relaxed);
    s.live_samples += st.count.load(std::memory_order_relaxed);
  }
  s.dropped_samples = g_dropped.load(std::memory_order_relaxed);
  s.buckets = g_bucket_count.load(std::memory_order_relaxed);
  if (g_init.load(std::memory_order_acquire) == 2) {
    std::uint64_t slots = 0;
    for (const Stripe& st : g_stripes) slots += st.capacity.load(std::memory_order_relaxed);
    s.own_memory_bytes = s.buckets * sizeof(Bucket) + kIndexBytes + kFilterBytes + slots * sizeof(Slot);
  }
  return s;
}

}  // namespace fiberleak::heap

extern "C" __attribute__((visibility("default"))) std::size_t fiberleak_heap_bucket_count() noexcept {
  return fiberleak::heap::ensure_init() ? fiberleak::heap::g_bucket_count.load(std::memory_order_acquire) : 0;
}

extern "C" __attribute__((visibility("default"))) int fiberleak_heap_read_bucket(
    std::size_t i, FiberleakHeapBucketRecord* out) noexcept {
  if (i >= fiberleak_heap_bucket_count()) return 0;
  fiberleak::heap::read_bucket(fiberleak::heap::g_buckets[i], *out);
  return 1;
}

extern "C" __attribute__((visibility("default"))) void fiberleak_heap_read_stats(FiberleakHeapStatsRecord* out) noexcept {
  const fiberleak::heap::HeapStats s = fiberleak::heap::stats();
  *out = {s.rate, s.sampled_allocations, s.dropped_samples, s.live_samples, s.buckets, s.own_memory_bytes};
}

extern "C" __attribute__((visibility("default"))) void fiberleak_heap_configure(std::int64_t rate,
                                                                                 std::uint64_t seed) noexcept {
  fiberleak::heap::configure({rate, seed});
}
