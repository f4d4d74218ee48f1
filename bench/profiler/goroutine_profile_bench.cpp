// Building the goroutine profile of many parked fibers, against Go doing the
// same for goroutines, in one run (bench/profiler/goroutine_profile_go.go,
// built with `go build` here). For 10k and 100k fibers, parked at 5 sites
// ("few stacks") or at recursion depths 0..299 ("distinct stacks"; both sides keep 32 frames in
// debug=0/1, so deep stacks share their top 32),
// prints the best of 3 builds of debug=0, 1 and 2, Go's time, the ratio and
// the peak RSS. Symbols are warm (one build before timing), as on a server
// that has answered once. Usage: fiberleak_bench_goroutine_profile [go-binary]
#include <boost/fiber/all.hpp>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include <fiberleak/runtime.hpp>

#include "profiler/dump_builder.hpp"
#include "profiler/goroutine_profile.hpp"
#include "profiler/goroutine_text.hpp"

namespace {

__attribute__((noinline)) void park0(boost::fibers::buffered_channel<int>& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) void park1(boost::fibers::buffered_channel<int>& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) void park2(boost::fibers::buffered_channel<int>& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) void park3(boost::fibers::buffered_channel<int>& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) void park4(boost::fibers::buffered_channel<int>& ch) {
  int v;
  ch.pop(v);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) void deep(boost::fibers::buffered_channel<int>& ch, int d) {
  if (d == 0) {
    int v;
    ch.pop(v);
  } else {
    deep(ch, d - 1);
  }
  asm volatile("" ::: "memory");
}

double best_ms(const std::function<std::size_t()>& build, std::size_t& bytes) {
  double best = 1e18;
  for (int rep = 0; rep < 3; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    bytes = build();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

std::map<std::string, double> run_go(const std::string& go_binary, int n, bool distinct) {
  std::map<std::string, double> out;
  const std::string cmd = go_binary + " " + std::to_string(n) + (distinct ? " distinct" : "");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char format[32];
  double ms;
  long bytes;
  while (std::fscanf(p, "%31s %lf %ld", format, &ms, &bytes) == 3) out[format] = ms;
  pclose(p);
  return out;
}

long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

void measure(const std::string& go_binary, int n, bool distinct) {
  // Fibers park on their own thread; this thread builds profiles, as the
  // endpoint's HTTP thread does.
  std::atomic<bool> parked{false}, stop{false};
  std::thread program([&] {
    fiberleak::install();
    boost::fibers::buffered_channel<int> ch{2};
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve(n);
    void (*sites[])(boost::fibers::buffered_channel<int>&) = {park0, park1, park2, park3, park4};
    for (int i = 0; i < n; ++i) {
      if (distinct) {
        fibers.emplace_back(boost::fibers::launch::post, std::allocator_arg, boost::fibers::fixedsize_stack(128 * 1024),
                            [&ch, i] { deep(ch, i % 300); });
      } else {
        fibers.emplace_back(boost::fibers::launch::post, std::allocator_arg, boost::fibers::fixedsize_stack(16 * 1024),
                            [&ch, f = sites[i % 5]] { f(ch); });
      }
    }
    boost::this_fiber::yield();
    parked = true;
    while (!stop) boost::this_fiber::sleep_for(std::chrono::milliseconds(5));
    ch.close();
    for (auto& f : fibers) f.join();
  });
  while (!parked) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  auto& symbolizer = fiberleak::detail::Symbolizer::instance();
  const auto mappings = fiberleak::detail::Symbolizer::mappings();
  std::size_t bytes = 0;
  fiberleak::detail::goroutine_profile(fiberleak::detail::build_dump(fiberleak::snapshot()), mappings);  // warm symbols
  const double snap_ms = best_ms([&] { return fiberleak::snapshot().fibers.size(); }, bytes);
  const double d0 = best_ms(
      [&] {
        return fiberleak::detail::goroutine_profile(fiberleak::detail::build_dump(fiberleak::snapshot()), mappings)
            .size();
      },
      bytes);
  const double d1 = best_ms(
      [&] {
        return fiberleak::detail::render_debug1(fiberleak::detail::build_dump(fiberleak::snapshot()), &symbolizer)
            .size();
      },
      bytes);
  const double d2 = best_ms(
      [&] {
        return fiberleak::detail::render_debug2(fiberleak::detail::build_dump(fiberleak::snapshot()), &symbolizer)
            .size();
      },
      bytes);
  stop = true;
  program.join();

  const auto go = run_go(go_binary, n, distinct);
  auto ratio = [&](const char* f, double ours) {
    auto it = go.find(f);
    return it == go.end() || it->second <= 0 ? 0.0 : ours / it->second;
  };
  auto go_ms = [&](const char* f) {
    auto it = go.find(f);
    return it == go.end() ? -1.0 : it->second;
  };
  const char* kind = distinct ? "distinct stacks" : "5 stacks";
  std::printf("%7d fibers, %-15s snapshot %7.1f ms (program paused per record only)\n", n, kind, snap_ms);
  std::printf("   debug=0  fiberleak %8.1f ms   Go %8.1f ms   ratio %.2f\n", d0, go_ms("debug=0"),
              ratio("debug=0", d0));
  std::printf("   debug=1  fiberleak %8.1f ms   Go %8.1f ms   ratio %.2f\n", d1, go_ms("debug=1"),
              ratio("debug=1", d1));
  std::printf("   debug=2  fiberleak %8.1f ms   Go %8.1f ms   ratio %.2f\n", d2, go_ms("debug=2"),
              ratio("debug=2", d2));
  std::printf("   peak RSS so far %ld MiB\n", peak_rss_mb());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string go_binary = argc > 1 ? argv[1] : FIBERLEAK_GO_BENCH_BINARY;
  for (bool distinct : {false, true}) {
    for (int n : {10'000, 100'000}) measure(go_binary, n, distinct);
  }
  return 0;
}
