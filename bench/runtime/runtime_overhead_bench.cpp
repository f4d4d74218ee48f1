// What tracking costs a program: plain Boost.Fiber against tracked fibers,
// measured side by side in one run (interleaved repetitions, medians).
//
//   ping-pong: two fibers exchange a value over two unbuffered channels;
//              cost per round trip (each round trip parks twice per fiber).
//   spawn+join: create a fiber (launch::post), join it; cost per pair.
//
// Variants: plain round_robin; fiberleak::install() with a park stack
// captured at every park (the default); with park stacks off; with every
// stack unwound (RuntimeOptions::cache_stacks off); tracked with two labels
// on the measuring fiber (label_scope: every fiber it starts inherits them,
// and spawn+join then copies them at each creation). Also the cost of one
// label_scope (set and restore) on a tracked fiber. Each
// measurement runs on a fresh thread so every variant starts from the same
// scheduler state. Usage: fiberleak_bench_runtime [repetitions] [iterations]
#include <boost/fiber/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include <fiberleak/runtime.hpp>

namespace {

enum class Variant { plain, tracked_stacks, tracked_no_stacks, tracked_exact, tracked_labelled };
constexpr int kVariants = 5;
constexpr const char* kVariantNames[] = {"plain Boost.Fiber", "tracked, park stacks", "tracked, no park stacks",
                                         "tracked, stacks uncached", "tracked, two labels"};

double ping_pong_ns(int iterations) {
  boost::fibers::unbuffered_channel<int> ping, pong;
  boost::fibers::fiber echo([&] {
    int v;
    while (ping.pop(v) == boost::fibers::channel_op_status::success) pong.push(v);
  });
  int v = 0;
  for (int i = 0; i < 1000; ++i) {  // warm-up: stack table and caches
    ping.push(i);
    pong.pop(v);
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    ping.push(i);
    pong.pop(v);
  }
  const auto end = std::chrono::steady_clock::now();
  ping.close();
  echo.join();
  return std::chrono::duration<double, std::nano>(end - start).count() / iterations;
}

double spawn_join_ns(int iterations) {
  int sink = 0;
  for (int i = 0; i < 1000; ++i) boost::fibers::fiber([&] { ++sink; }).join();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) boost::fibers::fiber([&] { ++sink; }).join();
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() / iterations;
}

// One label_scope set and restored (the body is plain work for the plain
// variant: the figure is then the loop itself).
double label_scope_ns(int iterations) {
  volatile int sink = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    fiberleak::label_scope s("request", "r42");
    sink = sink + 1;
  }
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() / iterations;
}

double measure(Variant variant, const std::function<double(int)>& body, int iterations) {
  fiberleak::RuntimeOptions options;
  options.capture_park_stacks = variant != Variant::tracked_no_stacks;
  options.cache_stacks = variant != Variant::tracked_exact;
  fiberleak::configure(options);
  double result = 0;
  std::thread t([&] {
    if (variant != Variant::plain) fiberleak::install();
    if (variant == Variant::tracked_labelled) {
      fiberleak::label_scope handler("handler", "bench");
      fiberleak::label_scope request("request", "r42");
      result = body(iterations);
    } else {
      result = body(iterations);
    }
  });
  t.join();
  return result;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void run(const char* title, const std::function<double(int)>& body, int reps, int iterations) {
  std::vector<double> samples[kVariants];
  for (int r = 0; r < reps; ++r) {
    for (int v = 0; v < kVariants; ++v) samples[v].push_back(measure(static_cast<Variant>(v), body, iterations));
  }
  const double plain = median(samples[0]);
  std::printf(
      "%s (%d iterations x %d repetitions, median ns per operation; paired: median of each\n"
      "repetition's ratio to the plain run just before it, the steadier figure on a noisy machine)\n",
      title, iterations, reps);
  for (int v = 0; v < kVariants; ++v) {
    const double m = median(samples[v]);
    std::vector<double> paired;
    for (int r = 0; r < reps; ++r) paired.push_back(samples[v][r] / samples[0][r]);
    std::printf("  %-26s %8.1f ns   ratio %.2f   paired %.2f\n", kVariantNames[v], m, m / plain, median(paired));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const int iterations = argc > 2 ? std::max(1000, std::atoi(argv[2])) : 200000;
  run("ping-pong round trip over unbuffered channels", ping_pong_ns, reps, iterations);
  run("spawn+join", spawn_join_ns, reps, iterations);
  run("label_scope set+restore (plain: untracked, does nothing)", label_scope_ns, reps, iterations);
  return 0;
}
