// How fast fiberleakd reads Go goroutine dumps: a real debug=2 dump of 100k
// goroutines (written by bench/profiler/goroutine_profile_go.go), parsed
// best of 5. Prints MB/s and goroutines/s. Target: a 100k dump under 1 s.
// Usage: fiberleak_bench_go_dump_parse [go-binary] [goroutines]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "daemon/go_dump_parser.hpp"

int main(int argc, char** argv) {
  const std::string go = argc > 1 ? argv[1] : FIBERLEAK_GO_BENCH_BINARY;
  const int n = argc > 2 ? std::atoi(argv[2]) : 100000;
  std::string dump;
  FILE* p = popen((go + " " + std::to_string(n) + " sites dump").c_str(), "r");
  if (p == nullptr) return 2;
  char buf[1 << 16];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) dump.append(buf, got);
  pclose(p);
  double best = 1e18;
  std::size_t goroutines = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    goroutines = fiberleak::detail::parse_go_dump(dump).fibers.size();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::printf("parsed a %.1f MB dump of %zu goroutines in %.3f s: %.0f MB/s, %.0f goroutines/s (target: < 1 s)\n",
              dump.size() / 1e6, goroutines, best, dump.size() / 1e6 / best, goroutines / best);
  return 0;
}
