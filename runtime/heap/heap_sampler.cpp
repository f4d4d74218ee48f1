#include "runtime/heap/heap_sampler.hpp"

#include <unistd.h>

#include <cstdio>

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>

#include <fiberleak/heap.hpp>

#include "runtime/heap/bucket_table.hpp"
#include "runtime/heap/fork_guard.hpp"
#include "runtime/heap/free_filter.hpp"
#include "runtime/heap/live_table.hpp"
#include "runtime/heap/sampler_hot_path.hpp"

// The fiber-tracking runtime's entry points (runtime/current_fiber.hpp),
// weak: absent when the program does not link the runtime (then no fiber is
// ever reported), and bound by the dynamic linker when preloaded into a
// program that exports them.
extern "C" std::uint64_t fiberleak_current_fiber_id() noexcept __attribute__((weak));
extern "C" std::size_t fiberleak_current_fiber_name(char* out, std::size_t cap) noexcept __attribute__((weak));

namespace fiberleak::heap {
namespace detail {
namespace {

// With sampling off, a thread looks at the rate again after this many bytes.
constexpr std::int64_t kRecheckBytes = 1 << 20;

// Every sample reads these; they are written once (or on reconfiguration),
// so they share no cache line with the counters samples write.
// 0 not initialized, 1 initializing, 2 ready, 3 failed.
alignas(64) std::atomic<int> g_init{0};
std::atomic<std::int64_t> g_rate{524288};
std::atomic<std::uint64_t> g_seed{0};

alignas(64) std::atomic<std::uint64_t> g_thread_counter{0};

// A variable's whole number in [0, max], or `fallback` when it is unset; a
// value that is none (-1, abc, 1e20, beyond max) gets one "fiberleak:" line
// on stderr and the fallback. Runs inside the first malloc: write(2), a
// stack buffer, nothing that allocates.
std::int64_t env_number(const char* name, std::int64_t fallback, std::int64_t max) noexcept {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return fallback;
  std::int64_t v = 0;
  bool ok = true;
  for (const char* c = s; *c != '\0' && ok; ++c) {
    ok = *c >= '0' && *c <= '9' && v <= (max - (*c - '0')) / 10;
    if (ok) v = v * 10 + (*c - '0');
  }
  if (ok) return v;
  char msg[256];
  const int n =
      std::snprintf(msg, sizeof msg, "fiberleak: %s=\"%.40s\" is not a whole number from 0 to %lld; using %lld\n", name,
                    s, static_cast<long long>(max), static_cast<long long>(fallback));
  if (n > 0) (void)!write(2, msg, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof msg - 1));
  return fallback;
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

__attribute__((noinline)) void sample(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  void* raw[kMaxHeapStackDepth + 8];
  int n = 0;
  {
    const ForkGuard guard(t_state.shard);
    n = unw_backtrace(raw, static_cast<int>(kMaxHeapStackDepth + 8));
  }
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
  const std::uint32_t bucket = g_bucket_table.find_or_add(pcs, depth, fiber, name);
  if (bucket == BucketTable::kFull) return;
  g_live_table.insert(reinterpret_cast<std::uintptr_t>(p), size, bucket);
}

}  // namespace

// sampler_hot_path.hpp's thread state: zero-initialized and trivially
// destructible, so free() during a thread's TLS teardown is fine.
__thread ThreadState t_state __attribute__((tls_model("initial-exec"))) = {0, 0, false, false, 0};

#ifdef FIBERLEAK_HEAP_PRELOAD
std::atomic<bool> g_gate_open{false};
#else
std::atomic<bool> g_gate_open{true};
#endif
void open_sampling_gate() noexcept { g_gate_open.store(true, std::memory_order_release); }

void exclude_this_thread() noexcept { t_state.busy = true; }

UnsampledScope::UnsampledScope() noexcept : was_busy_(t_state.busy) { t_state.busy = true; }
UnsampledScope::~UnsampledScope() { t_state.busy = was_busy_; }

bool ensure_init() noexcept {
  int state = g_init.load(std::memory_order_acquire);
  if (state == 2) return true;
  if (state == 1) return false;
  if (!g_init.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) return state == 2;
  t_state.busy = true;
  // Rates up to 2^40 bytes (1 TiB between samples); seeds any non-negative int64.
  g_rate.store(env_number("FIBERLEAK_HEAP_RATE", 524288, std::int64_t{1} << 40), std::memory_order_relaxed);
  g_seed.store(static_cast<std::uint64_t>(env_number("FIBERLEAK_HEAP_SEED", 0, INT64_MAX)), std::memory_order_relaxed);
  const bool ok = g_bucket_table.map() && g_live_table.map();
  if (ok) ForkGuard::install();
  t_state.busy = false;
  g_init.store(ok ? 2 : 3, std::memory_order_release);
  return ok;
}

// Where on_alloc() goes when the countdown ran out (see sampler_hot_path.hpp).
__attribute__((noinline)) void alloc_slow(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  ThreadState& t = t_state;
  if (t.busy) return;  // the countdown is redrawn when the sample in progress ends
  if (__builtin_expect(!g_gate_open.load(std::memory_order_acquire), 0)) {
    t.countdown = -1;  // libraries still initializing: look again at the next allocation
    return;
  }
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

}  // namespace detail

void configure(const HeapOptions& o) noexcept {
  using namespace detail;
  ensure_init();
  g_rate.store(o.rate, std::memory_order_relaxed);
  g_seed.store(o.seed, std::memory_order_relaxed);
  // Reseed this thread so a fixed seed takes effect from here on.
  t_state.seeded = false;
  t_state.countdown = 0;
  g_thread_counter.store(0, std::memory_order_relaxed);
}

HeapOptions options() noexcept {
  detail::ensure_init();
  return {detail::g_rate.load(std::memory_order_relaxed), detail::g_seed.load(std::memory_order_relaxed)};
}

std::vector<HeapBucket> snapshot() {
  using namespace detail;
  std::vector<HeapBucket> out;
  if (!ensure_init()) return out;
  const bool was_busy = t_state.busy;
  t_state.busy = true;
  const std::uint32_t n = g_bucket_table.size();
  out.reserve(n);
  FiberleakHeapBucketRecord record{};
  for (std::uint32_t i = 0; i < n; ++i) {
    g_bucket_table.read(i, record);
    out.push_back(to_heap_bucket(record));
  }
  t_state.busy = was_busy;
  return out;
}

HeapStats stats() noexcept {
  using namespace detail;
  HeapStats s;
  s.rate = g_rate.load(std::memory_order_relaxed);
  s.sampled_allocations = g_live_table.sampled();
  s.live_samples = g_live_table.live_samples();
  s.dropped_samples = g_bucket_table.dropped() + g_live_table.dropped();
  s.buckets = g_bucket_table.size();
  if (g_init.load(std::memory_order_acquire) == 2) {
    s.own_memory_bytes = g_bucket_table.memory_bytes() + FreeFilter::kMemoryBytes + g_live_table.slots() * sizeof(Slot);
  }
  return s;
}

}  // namespace fiberleak::heap
