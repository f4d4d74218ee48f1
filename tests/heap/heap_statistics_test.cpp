// The default rate (512 KiB between samples on average): the unsampled
// estimate of a known heap lands within 10%. A fixed seed makes the sampled
// set, and so this test, deterministic.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <vector>

#include <fiberleak/heap.hpp>

#include "profiler/heap_profile.hpp"

namespace {
void* volatile g_escape;
}

TEST_CASE("at the default rate with a fixed seed the live and allocated estimates are within 10 percent", "[heap]") {
  fiberleak::heap::configure({524288, 20261122});
  const fiberleak::detail::HeapTotals before = fiberleak::detail::heap_totals(fiberleak::detail::collect_heap());
  constexpr std::size_t kSizes[] = {96, 1000, 8000, 64000, 300000};
  std::vector<void*> live;
  live.reserve(20000);
  std::int64_t live_bytes = 0, alloc_bytes = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::size_t size = kSizes[i % 5] + static_cast<std::size_t>(i % 7) * 8;
    live.push_back(std::malloc(size));
    live_bytes += static_cast<std::int64_t>(size);
    alloc_bytes += static_cast<std::int64_t>(size);
    // As much again allocated and freed at once: only in the allocs totals.
    g_escape = std::malloc(size);
    std::free(g_escape);
    alloc_bytes += static_cast<std::int64_t>(size);
  }
  const fiberleak::detail::HeapData data = fiberleak::detail::collect_heap();
  CHECK(data.rate == 524288);
  CHECK(data.dropped_samples == 0);
  const fiberleak::detail::HeapTotals after = fiberleak::detail::heap_totals(data);
  const double inuse = static_cast<double>(after.inuse_bytes - before.inuse_bytes);
  const double allocs = static_cast<double>(after.alloc_bytes - before.alloc_bytes);
  INFO("known live " << live_bytes << " estimated " << inuse << "; known allocated " << alloc_bytes << " estimated "
                     << allocs << "; samples " << data.sampled_allocations);
  // Fewer samples than allocations: it really sampled.
  CHECK(data.sampled_allocations < 1000);
  CHECK(inuse == Approx(static_cast<double>(live_bytes)).epsilon(0.10));
  CHECK(allocs == Approx(static_cast<double>(alloc_bytes)).epsilon(0.10));
  for (void* p : live) std::free(p);
  const fiberleak::detail::HeapTotals freed = fiberleak::detail::heap_totals(fiberleak::detail::collect_heap());
  // Everything sampled by this test is freed again.
  CHECK(freed.inuse_bytes - before.inuse_bytes < static_cast<std::int64_t>(live_bytes / 100));
}

TEST_CASE("rate 0 turns sampling off and the hooks are the ones in use", "[heap]") {
  CHECK(fiberleak::heap::active());
  fiberleak::heap::configure({0, 0});
  const auto before = fiberleak::heap::stats().sampled_allocations;
  for (int i = 0; i < 1000; ++i) {
    g_escape = std::malloc(1 << 20);
    std::free(g_escape);
  }
  CHECK(fiberleak::heap::stats().sampled_allocations == before);
  fiberleak::heap::configure({1, 0});
  g_escape = std::malloc(10);
  std::free(g_escape);
  CHECK(fiberleak::heap::stats().sampled_allocations == before + 1);
}

// Live objects of the stacks whose every allocation had `size` bytes.
std::int64_t live_objects_of_size(const fiberleak::detail::HeapData& data, std::int64_t size) {
  std::int64_t n = 0;
  for (const fiberleak::heap::HeapBucket& r : data.records) {
    const auto objects = static_cast<std::int64_t>(r.alloc_objects);
    if (objects > 0 && static_cast<std::int64_t>(r.alloc_bytes) == objects * size) {
      n += objects - static_cast<std::int64_t>(r.free_objects);
    }
  }
  return n;
}

TEST_CASE("at rate 1 150k live blocks of four threads, freed by other threads, are all accounted", "[heap]") {
  // An odd size no one else here allocates.
  constexpr std::size_t kThreads = 4, kPerThread = 37500, kSize = 4040;
  constexpr auto kBlocks = static_cast<std::int64_t>(kThreads * kPerThread);
  std::vector<std::vector<void*>> blocks(kThreads);
  for (auto& b : blocks) b.reserve(kPerThread);
  fiberleak::heap::configure({1, 0});
  const fiberleak::detail::HeapData before = fiberleak::detail::collect_heap();
  auto run = [&](auto&& body) {
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kThreads; ++t) threads.emplace_back([&, t] { body(blocks[t]); });
    for (auto& th : threads) th.join();
  };
  run([](std::vector<void*>& mine) {
    for (std::size_t i = 0; i < kPerThread; ++i) mine.push_back(std::malloc(kSize));
  });
  const fiberleak::detail::HeapData full = fiberleak::detail::collect_heap();
  CHECK(full.dropped_samples == 0);
  CHECK(live_objects_of_size(full, kSize) - live_objects_of_size(before, kSize) == kBlocks);
  CHECK(full.live_samples - before.live_samples >= static_cast<std::uint64_t>(kBlocks));
  // The profiler's own memory counts their 16-byte headers.
  CHECK(full.own_memory_bytes - before.own_memory_bytes >= static_cast<std::uint64_t>(kBlocks) * 16);
  // Frees from other threads than the allocating ones find every block.
  std::reverse(blocks.begin(), blocks.end());
  run([](std::vector<void*>& mine) {
    for (void* p : mine) std::free(p);
  });
  const fiberleak::detail::HeapData empty = fiberleak::detail::collect_heap();
  CHECK(live_objects_of_size(empty, kSize) == live_objects_of_size(before, kSize));
  CHECK(empty.live_samples < full.live_samples - static_cast<std::uint64_t>(kBlocks) + 100);
  fiberleak::heap::configure({524288, 0});
}
