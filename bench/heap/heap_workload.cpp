// Allocation-heavy workload for the heap profiler benchmark: each thread
// runs malloc+free pairs of mixed sizes (16 B .. 64 KiB, a few blocks kept
// alive so frees are not always of the last block) and writes the first
// up to 256 bytes of each block, as a program using its memory would. Prints its wall time in
// nanoseconds. Knows nothing about profilers: run_heap_bench.sh preloads them.
// usage: fiberleak_heap_workload [threads=4] [pairs_per_thread=2000000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 4;
  const long pairs = argc > 2 ? std::atol(argv[2]) : 2000000;
  static constexpr std::size_t kSizes[] = {16, 32, 48, 64, 96, 128, 256, 512, 1024, 4096, 16384, 65536};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([pairs, t] {
      void* ring[8] = {};
      std::uint64_t x = 88172645463325252ULL + static_cast<std::uint64_t>(t);
      for (long i = 0; i < pairs; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Mostly small sizes, as real programs.
        const std::size_t size = kSizes[(x % 100) < 90 ? x % 9 : 9 + x % 3];
        void* p = std::malloc(size);
        // Use the block as a program would: write its first bytes.
        std::memset(p, static_cast<int>(i), size < 256 ? size : 256);
        const std::size_t slot = (x >> 8) & 7;
        std::free(ring[slot]);
        ring[slot] = p;
      }
      for (void* p : ring) std::free(p);
    });
  }
  for (auto& th : ts) th.join();
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  std::printf("%lld\n", static_cast<long long>(ns));
  return 0;
}
