// Writing /debug/fibers' JSON for many parked fibers, against writing the
// same fibers as goroutine debug=2 text (the same facts, one line per frame)
// in one run. For 10k and 100k fibers parked at 5 sites, prints the best of
// 3 of: debug=2, the JSON with inline stacks (what `curl /debug/fibers`
// gets), with shared stacks (what fiberleakd asks for), and with the
// dashboard's limit=10000; each with its ratio to debug=2 and its size. The
// dump is built once (symbols warm) and each writer gets the same one.
// Usage: fiberleak_bench_fibers_json
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fiberleak/runtime.hpp>

#include "bench/parked_fibers.hpp"
#include "profiler/dump_builder.hpp"
#include "profiler/goroutine_text.hpp"
#include "profiler/leak_rules.hpp"
#include "profiler/symbolizer.hpp"
#include "web/fiber_selection.hpp"

namespace {

using fiberleak::bench::best_ms;

void measure(int n) {
  fiberleak::bench::ParkedFibers parked(n, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // parked past the threshold below

  using namespace fiberleak::detail;
  using fiberleak::LeakFinding;
  using fiberleak::LeakRules;
  const FiberDump dump = build_dump(fiberleak::snapshot());
  LeakRules rules;
  rules.threshold = std::chrono::milliseconds(10);
  const std::vector<LeakFinding> findings = find_leaks(dump, rules);
  auto json = [&](FibersParams p) -> std::function<std::size_t()> {
    return [&, p] { return fibers_answer(dump, findings, p, nullptr).size(); };
  };
  FibersParams inline_stacks, shared, limited;
  shared.shared_stacks = true;
  limited.shared_stacks = true;
  limited.limit = 10'000;

  std::size_t text_bytes = 0, bytes = 0;
  const double text_ms = best_ms([&] { return render_debug2(dump, &Symbolizer::instance()).size(); }, text_bytes);
  std::printf("%7d fibers at 5 sites, %zu leak suspects\n", n, findings.size());
  std::printf("   goroutine debug=2          %8.1f ms  %6.1f MB\n", text_ms, text_bytes / 1e6);
  for (auto [name, write] :
       {std::pair{"fibers JSON, inline stacks", json(inline_stacks)},
        std::pair{"fibers JSON, stacks=shared", json(shared)}, std::pair{"  ... and limit=10000", json(limited)}}) {
    const double ms = best_ms(write, bytes);
    std::printf("   %-26s %8.1f ms  %6.1f MB   ratio to debug=2 %.2f\n", name, ms, bytes / 1e6, ms / text_ms);
  }
  std::fflush(stdout);
}

}  // namespace

int main() {
  for (int n : {10'000, 100'000}) measure(n);
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("peak RSS %ld MiB\n", u.ru_maxrss / 1024);
  return 0;
}
