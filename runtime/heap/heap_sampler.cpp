#include "runtime/heap/heap_sampler.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

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
constexpr std::size_t kSlotsPerStripe = 4096;
// 16 KiB: four pages, so that free() of an unsampled block (the common
// case) costs an L1/L2 hit without TLB misses.
constexpr std::size_t kFilterSize = 1 << 13;

struct Bucket {
  std::uint64_t hash;
  std::uint64_t fiber_id;
  std::uint32_t depth;
  char name[kFiberNameCap];
  std::uintptr_t pcs[kMaxHeapStackDepth];
  std::atomic<std::uint64_t> alloc_objects, alloc_bytes, free_objects, free_bytes;
};

struct Slot {
  std::uintptr_t addr;  // 0: empty
  std::uint64_t size;
  std::uint32_t bucket;
};

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

struct alignas(64) Stripe {
  SpinLock lock;
  std::uint32_t count = 0;
};

struct ThreadState {
  std::int64_t countdown;
  std::uint64_t rng;
  bool seeded;
  bool busy;  // re-entrancy guard
};
__attribute__((tls_model("initial-exec"))) thread_local ThreadState t_state = {0, 0, false, false};

// 0 not initialized, 1 initializing, 2 ready.
std::atomic<int> g_init{0};
std::atomic<std::int64_t> g_rate{524288};
std::atomic<std::uint64_t> g_seed{0};
std::atomic<std::uint64_t> g_thread_counter{0};
std::atomic<std::uint64_t> g_sampled{0}, g_dropped{0}, g_live{0};

Bucket* g_buckets = nullptr;
std::atomic<std::uint32_t> g_bucket_count{0};
std::uint32_t* g_bucket_index = nullptr;  // bucket idx + 1, 0 empty
SpinLock g_bucket_lock;
Slot* g_slots = nullptr;
Stripe g_stripes[kStripes];
// In .bss: no pointer to chase on free()'s fast path.
std::atomic<std::uint16_t> g_filter[kFilterSize];

constexpr std::size_t kBucketsBytes = sizeof(Bucket) * kMaxBuckets;
constexpr std::size_t kIndexBytes = sizeof(std::uint32_t) * kBucketIndexSize;
constexpr std::size_t kSlotsBytes = sizeof(Slot) * kStripes * kSlotsPerStripe;
constexpr std::size_t kFilterBytes = sizeof(std::uint16_t) * kFilterSize;

void* map_zeroed(std::size_t bytes) noexcept {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// fork() while another thread is inside unw_backtrace would leave
// libunwind's internal mutexes (its register-state cache, the loader's
// lock in dl_iterate_phdr) locked forever in the child, whose next sample
// would hang. So the prepare handler raises g_forking and waits for the
// unwinds in flight; a sample that starts meanwhile waits for the fork to
// finish (it holds nothing then; dropping it would cost rate 1 its
// exactness).
std::atomic<bool> g_forking{false};
std::atomic<int> g_unwinding{0};

void lock_all() noexcept {
  g_forking.store(true, std::memory_order_seq_cst);
  while (g_unwinding.load(std::memory_order_seq_cst) != 0) __builtin_ia32_pause();
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
  g_unwinding.store(0, std::memory_order_relaxed);  // threads that are gone
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
  g_bucket_index = static_cast<std::uint32_t*>(map_zeroed(kIndexBytes));
  g_slots = static_cast<Slot*>(map_zeroed(kSlotsBytes));
  const bool ok = g_buckets && g_bucket_index && g_slots;
  if (ok) pthread_atfork(lock_all, unlock_all, reset_all);
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

inline std::uint64_t mix_address(std::uintptr_t a) noexcept {
  std::uint64_t x = static_cast<std::uint64_t>(a);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
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

// Finds or creates the bucket; kMaxBuckets when the array is full.
std::uint32_t find_bucket(const std::uintptr_t* pcs, std::size_t n, std::uint64_t fiber, const char* name) noexcept {
  const std::uint64_t h = hash_stack(pcs, n, fiber);
  g_bucket_lock.lock();
  std::size_t i = h & (kBucketIndexSize - 1);
  for (;;) {
    const std::uint32_t v = g_bucket_index[i];
    if (v == 0) break;
    Bucket& b = g_buckets[v - 1];
    if (b.hash == h && b.fiber_id == fiber && b.depth == n &&
        std::memcmp(b.pcs, pcs, n * sizeof(std::uintptr_t)) == 0) {
      g_bucket_lock.unlock();
      return v - 1;
    }
    i = (i + 1) & (kBucketIndexSize - 1);
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
  g_bucket_index[i] = idx + 1;
  g_bucket_count.store(idx + 1, std::memory_order_release);
  g_bucket_lock.unlock();
  return idx;
}

struct Place {
  std::uint16_t filter;
  std::size_t stripe;
  std::size_t home;
};
inline Place place_of(std::uintptr_t addr) noexcept {
  const std::uint64_t m = mix_address(addr);
  const auto f = static_cast<std::uint16_t>(m & (kFilterSize - 1));
  return {f, static_cast<std::size_t>(f >> 7), static_cast<std::size_t>((m >> 20) & (kSlotsPerStripe - 1))};
}

void account_free(const Slot& s) noexcept {
  Bucket& b = g_buckets[s.bucket];
  b.free_objects.fetch_add(1, std::memory_order_relaxed);
  b.free_bytes.fetch_add(s.size, std::memory_order_relaxed);
  g_live.fetch_sub(1, std::memory_order_relaxed);
}

// Removes addr from the live table (caller holds the stripe lock).
bool remove_locked(std::uintptr_t addr, const Place& p) noexcept {
  Slot* base = g_slots + p.stripe * kSlotsPerStripe;
  std::size_t i = p.home;
  for (std::size_t probes = 0; probes < kSlotsPerStripe; ++probes) {
    Slot& s = base[i];
    if (s.addr == 0) return false;
    if (s.addr == addr) {
      account_free(s);
      // Backward-shift deletion keeps every probe chain unbroken.
      std::size_t hole = i;
      std::size_t j = (i + 1) & (kSlotsPerStripe - 1);
      while (base[j].addr != 0) {
        const std::size_t home = place_of(base[j].addr).home;
        // Move j into the hole unless its home lies cyclically in (hole, j].
        const bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
          base[hole] = base[j];
          hole = j;
        }
        j = (j + 1) & (kSlotsPerStripe - 1);
      }
      base[hole].addr = 0;
      g_stripes[p.stripe].count--;
      g_filter[p.filter].fetch_sub(1, std::memory_order_relaxed);
      return true;
    }
    i = (i + 1) & (kSlotsPerStripe - 1);
  }
  return false;
}

void insert(std::uintptr_t addr, std::uint64_t size, std::uint32_t bucket) noexcept {
  const Place p = place_of(addr);
  Stripe& st = g_stripes[p.stripe];
  st.lock.lock();
  // A stale entry for the same address (freed while we were not looking,
  // e.g. through an allocator path we do not see) is retired first.
  if (g_filter[p.filter].load(std::memory_order_relaxed) != 0) remove_locked(addr, p);
  if (st.count + 1 >= kSlotsPerStripe * 7 / 8) {
    st.lock.unlock();
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Slot* base = g_slots + p.stripe * kSlotsPerStripe;
  std::size_t i = p.home;
  while (base[i].addr != 0) i = (i + 1) & (kSlotsPerStripe - 1);
  base[i] = Slot{addr, size, bucket};
  st.count++;
  g_filter[p.filter].fetch_add(1, std::memory_order_relaxed);
  Bucket& b = g_buckets[bucket];
  b.alloc_objects.fetch_add(1, std::memory_order_relaxed);
  b.alloc_bytes.fetch_add(size, std::memory_order_relaxed);
  g_live.fetch_add(1, std::memory_order_relaxed);
  g_sampled.fetch_add(1, std::memory_order_relaxed);
  st.lock.unlock();
}

__attribute__((noinline)) void sample(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  void* raw[kMaxHeapStackDepth + 8];
  for (;;) {
    g_unwinding.fetch_add(1, std::memory_order_seq_cst);
    if (!g_forking.load(std::memory_order_seq_cst)) break;
    g_unwinding.fetch_sub(1, std::memory_order_release);
    while (g_forking.load(std::memory_order_relaxed)) sched_yield();
  }
  const int n = unw_backtrace(raw, static_cast<int>(kMaxHeapStackDepth + 8));
  g_unwinding.fetch_sub(1, std::memory_order_release);
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

void on_alloc_from(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  if (p == nullptr) return;
  ThreadState& t = t_state;
  if (t.busy) return;
  if (__builtin_expect(g_init.load(std::memory_order_relaxed) != 2, 0)) {
    if (!ensure_init()) return;
  }
  const std::int64_t rate = g_rate.load(std::memory_order_relaxed);
  if (rate == 0) return;
  t.countdown -= static_cast<std::int64_t>(size);
  if (__builtin_expect(t.countdown >= 0, 1) && rate != 1) return;
  t.busy = true;
  if (!t.seeded) {
    seed_thread(t);
    // The first countdown of a thread is drawn fresh (not yet a sample).
    t.countdown = draw_countdown(t, rate) - static_cast<std::int64_t>(size);
    if (t.countdown >= 0 && rate != 1) {
      t.busy = false;
      return;
    }
  }
  sample(p, size, caller);
  t.countdown = draw_countdown(t, rate);
  t.busy = false;
}

void on_free(void* p) noexcept {
  if (p == nullptr || g_init.load(std::memory_order_acquire) != 2) return;
  const Place pl = place_of(reinterpret_cast<std::uintptr_t>(p));
  if (__builtin_expect(g_filter[pl.filter].load(std::memory_order_relaxed) == 0, 1)) return;
  Stripe& st = g_stripes[pl.stripe];
  st.lock.lock();
  remove_locked(reinterpret_cast<std::uintptr_t>(p), pl);
  st.lock.unlock();
}

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

std::vector<HeapBucket> snapshot() {
  std::vector<HeapBucket> out;
  if (!ensure_init()) return out;
  const bool was_busy = t_state.busy;
  t_state.busy = true;
  const std::uint32_t n = g_bucket_count.load(std::memory_order_acquire);
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const Bucket& b = g_buckets[i];
    HeapBucket hb;
    hb.stack.assign(b.pcs, b.pcs + b.depth);
    hb.fiber_id = b.fiber_id;
    hb.fiber_name.assign(b.name, strnlen(b.name, kFiberNameCap));
    hb.alloc_objects = b.alloc_objects.load(std::memory_order_relaxed);
    hb.alloc_bytes = b.alloc_bytes.load(std::memory_order_relaxed);
    hb.free_objects = b.free_objects.load(std::memory_order_relaxed);
    hb.free_bytes = b.free_bytes.load(std::memory_order_relaxed);
    // A free racing with its alloc's counters: never report negative live.
    if (hb.free_objects > hb.alloc_objects) hb.free_objects = hb.alloc_objects;
    if (hb.free_bytes > hb.alloc_bytes) hb.free_bytes = hb.alloc_bytes;
    out.push_back(std::move(hb));
  }
  t_state.busy = was_busy;
  return out;
}

HeapStats stats() noexcept {
  HeapStats s;
  s.rate = g_rate.load(std::memory_order_relaxed);
  s.sampled_allocations = g_sampled.load(std::memory_order_relaxed);
  s.dropped_samples = g_dropped.load(std::memory_order_relaxed);
  s.live_samples = g_live.load(std::memory_order_relaxed);
  s.buckets = g_bucket_count.load(std::memory_order_relaxed);
  s.own_memory_bytes = g_init.load(std::memory_order_relaxed) == 2
                           ? kBucketsBytes + kIndexBytes + kSlotsBytes + kFilterBytes
                           : 0;
  return s;
}

}  // namespace fiberleak::heap

static_assert(fiberleak::heap::kMaxHeapStackDepth == 48 && fiberleak::heap::kFiberNameCap == 32,
              "FiberleakHeapBucketRecord mirrors these");

extern "C" __attribute__((visibility("default"))) std::size_t fiberleak_heap_bucket_count() noexcept {
  return fiberleak::heap::ensure_init() ? fiberleak::heap::g_bucket_count.load(std::memory_order_acquire) : 0;
}

extern "C" __attribute__((visibility("default"))) int fiberleak_heap_read_bucket(
    std::size_t i, FiberleakHeapBucketRecord* out) noexcept {
  using namespace fiberleak::heap;
  if (i >= fiberleak_heap_bucket_count()) return 0;
  const Bucket& b = g_buckets[i];
  out->fiber_id = b.fiber_id;
  std::memcpy(out->fiber_name, b.name, kFiberNameCap);
  out->fiber_name[kFiberNameCap - 1] = '\0';
  out->depth = b.depth;
  std::memcpy(out->pcs, b.pcs, b.depth * sizeof(std::uintptr_t));
  out->alloc_objects = b.alloc_objects.load(std::memory_order_relaxed);
  out->alloc_bytes = b.alloc_bytes.load(std::memory_order_relaxed);
  out->free_objects = b.free_objects.load(std::memory_order_relaxed);
  out->free_bytes = b.free_bytes.load(std::memory_order_relaxed);
  if (out->free_objects > out->alloc_objects) out->free_objects = out->alloc_objects;
  if (out->free_bytes > out->alloc_bytes) out->free_bytes = out->alloc_bytes;
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
