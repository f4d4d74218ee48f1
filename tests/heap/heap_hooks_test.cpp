// Every interposed allocation function keeps its C contract (and glibc's
// in-place shrinking) whether or not the block is sampled (rate 1: all are; rate 0: none is), and each sampled
// block is counted live until freed, also across a realloc that failed.
// The calls run without Catch between them (its macros allocate, and at
// rate 1 those would be counted live too); the checks come after.
#include <errno.h>
#include <malloc.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include <fiberleak/heap.hpp>

namespace {
bool aligned_to(const void* p, std::size_t align) { return reinterpret_cast<std::uintptr_t>(p) % align == 0; }
std::uint64_t live() { return fiberleak::heap::stats().live_samples; }
volatile std::size_t g_huge = SIZE_MAX - 4096;  // volatile: the compiler would warn about constants

struct Outcome {
  // Named facts, all true when every function keeps its contract.
  bool facts[64] = {};
  const char* names[64] = {};
  int n = 0;
  void fact(const char* name, bool value) {
    names[n] = name;
    facts[n++] = value;
  }
  std::uint64_t live_after_malloc, live_after_failed_realloc, live_after_reallocs, live_after_aligned, live_after_free,
      live_after_new, live_after_delete;
};

// A failed realloc leaves its block valid; GCC cannot know it failed.
#pragma GCC diagnostic ignored "-Wuse-after-free"
__attribute__((noinline)) void run(Outcome& o) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  auto* m = static_cast<unsigned char*>(std::malloc(100));
  o.live_after_malloc = live();
  o.fact("malloc aligned", m != nullptr && aligned_to(m, alignof(std::max_align_t)));
  o.fact("malloc usable size", malloc_usable_size(m) >= 100);
  std::memset(m, 0xAB, malloc_usable_size(m));  // the whole usable size is the program's

  auto* c = static_cast<unsigned char*>(std::calloc(50, 3));
  bool zero = c != nullptr;
  for (int i = 0; zero && i < 150; ++i) zero = c[i] == 0;
  o.fact("calloc zeroed", zero);

  for (int i = 0; i < 100; ++i) m[i] = static_cast<unsigned char>(i);
  m = static_cast<unsigned char*>(std::realloc(m, 100000));
  bool kept = m != nullptr;
  for (int i = 0; kept && i < 100; ++i) kept = m[i] == i;
  o.fact("realloc grows keeping content", kept);
  // glibc shrinks a (non-mmapped) block in place; programs such as bash
  // keep pointers into a block across the shrink.
  unsigned char* before_shrink = m;
  m = static_cast<unsigned char*>(std::realloc(m, 10));
  o.fact("realloc shrinks in place, as glibc does", m == before_shrink);
  kept = m != nullptr;
  for (int i = 0; kept && i < 10; ++i) kept = m[i] == i;
  o.fact("realloc shrinks keeping content", kept);
  errno = 0;
  o.fact("realloc too large fails with ENOMEM", std::realloc(m, g_huge) == nullptr && errno == ENOMEM);
  o.fact("failed realloc leaves the block", m[9] == 9);
  o.live_after_failed_realloc = live();
  o.fact("reallocarray overflow fails", reallocarray(m, g_huge / 2, 4) == nullptr);
  m = static_cast<unsigned char*>(reallocarray(m, 20, 5));
  kept = m != nullptr;
  for (int i = 0; kept && i < 10; ++i) kept = m[i] == i;
  o.fact("reallocarray keeps content", kept);
  o.live_after_reallocs = live();
  o.fact("calloc overflow fails", std::calloc(g_huge / 2, 4) == nullptr);
  o.fact("malloc too large fails", std::malloc(g_huge) == nullptr);

  void* a1 = memalign(64, 1000);
  void* a2 = aligned_alloc(4096, 8192);
  void* a3 = nullptr;
  o.fact("posix_memalign", posix_memalign(&a3, 256, 300) == 0);
  void* a4 = valloc(10);
  void* a5 = pvalloc(page + 1);
  void* a6 = memalign(48, 10);  // not a power of two: glibc rounds it up to 64
  void* bad = nullptr;
  o.fact("posix_memalign rejects 24", posix_memalign(&bad, 24, 8) == EINVAL);
  o.fact("aligned_alloc rejects 3", aligned_alloc(3, 8) == nullptr);
  o.fact("memalign 64", aligned_to(a1, 64));
  o.fact("aligned_alloc 4096", aligned_to(a2, 4096));
  o.fact("posix_memalign 256", aligned_to(a3, 256));
  o.fact("valloc page", aligned_to(a4, page));
  o.fact("pvalloc page", aligned_to(a5, page));
  o.fact("memalign 48 -> 64", aligned_to(a6, 64));
  o.fact("aligned usable size", malloc_usable_size(a2) >= 8192);
  o.fact("pvalloc whole pages", malloc_usable_size(a5) >= 2 * page);
  std::memset(a2, 1, 8192);
  std::memset(a5, 1, 2 * page);
  o.live_after_aligned = live();
  std::memset(a1, 7, 1000);
  a1 = std::realloc(a1, 5000);
  o.fact("realloc of an aligned block keeps content", a1 != nullptr && static_cast<unsigned char*>(a1)[999] == 7);

  for (void* p : {a1, a2, a3, a4, a5, a6}) std::free(p);
  std::free(c);
  o.fact("realloc(p, 0) frees", std::realloc(m, 0) == nullptr);
  std::free(nullptr);
  o.live_after_free = live();

  auto* n = new int[1000];
  n[999] = 1;
  o.live_after_new = live();
  delete[] n;
  o.live_after_delete = live();
}
}  // namespace

TEST_CASE("the allocation functions keep their contracts, sampled or not", "[heap]") {
  const std::int64_t rate = GENERATE(1, 0);
  static Outcome o;  // not on the heap
  o = Outcome{};
  fiberleak::heap::configure({rate, 0});
  const std::uint64_t live0 = live();
  run(o);
  fiberleak::heap::configure({524288, 0});
  INFO("rate " << rate);
  for (int i = 0; i < o.n; ++i) {
    INFO(o.names[i]);
    CHECK(o.facts[i]);
  }
  const std::uint64_t one = rate == 1 ? 1 : 0;
  CHECK(o.live_after_malloc == live0 + one);
  CHECK(o.live_after_failed_realloc == live0 + 2 * one);  // m (still sampled) and c
  CHECK(o.live_after_reallocs == live0 + 2 * one);
  CHECK(o.live_after_aligned == live0 + 8 * one);  // and a1..a6
  CHECK(o.live_after_free == live0);
  CHECK(o.live_after_new == live0 + one);
  CHECK(o.live_after_delete == live0);
}

TEST_CASE("a thread whose first allocation is impossibly large still samples afterwards", "[heap]") {
  fiberleak::heap::configure({4096, 1});
  const std::uint64_t before = fiberleak::heap::stats().sampled_allocations;
  bool refused = false;
  std::thread t([&] {
    // The thread's first allocation: beyond PTRDIFF_MAX, refused by glibc.
    refused = std::malloc(g_huge / 2 + 4096) == nullptr;
    for (int i = 0; i < 1000; ++i) {
      void* volatile p = std::malloc(1024);
      std::free(p);
    }
  });
  t.join();
  const std::uint64_t sampled = fiberleak::heap::stats().sampled_allocations - before;
  fiberleak::heap::configure({524288, 0});
  CHECK(refused);
  // 1 MiB at one sample per 4 KiB: ~250 expected.
  CHECK(sampled > 150);
  CHECK(sampled < 400);
}
