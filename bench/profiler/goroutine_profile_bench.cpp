// Building the goroutine profile of many parked fibers, against Go doing the
// same for goroutines, in one run (bench/profiler/goroutine_profile_go.go,
// built with `go build` here). For 10k and 100k fibers, parked at 5 sites
// ("few stacks") or at recursion depths 0..299 ("distinct stacks"; both sides keep 32 frames in
// debug=0/1, so deep stacks share their top 32),
// prints the best of 3 builds of debug=0, 1 and 2, Go's time, the ratio and
// the peak RSS. Symbols are warm (one build before timing), as on a server
// that has answered once. Usage: fiberleak_bench_goroutine_profile [go-binary]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <fiberleak/runtime.hpp>

#include "bench/parked_fibers.hpp"
#include "profiler/dump_builder.hpp"
#include "profiler/goroutine_profile.hpp"
#include "profiler/goroutine_text.hpp"

namespace {

using fiberleak::bench::best_ms;

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
  std::optional<fiberleak::bench::ParkedFibers> parked(std::in_place, n, distinct);
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
  parked.reset();

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
