// What tracking costs a service a user would recognise: an in-process
// request/response loop on Boost.Fiber, plain and tracked side by side in
// one run (interleaved repetitions; medians and paired ratios).
//
// Two scheduler threads (one per core here) share work (shared_work). 64 client fibers each
// send a request and wait for its reply (a future: one park); 16 handler
// fibers take requests from a bounded channel (a park when it is empty),
// do a few microseconds of work, update a shared table under a fiber mutex
// (a park when it is contended) and fulfil the promise. Reported:
// throughput (requests per second) and p99 latency (send to reply).
// Target: tracked throughput >= 0.98x plain.
//
// Usage: fiberleak_bench_service [repetitions] [milliseconds per run]
//        fiberleak_bench_service --one plain|tracked MILLISECONDS
//          one run of one variant, printing its request count (for
//          `valgrind --tool=callgrind`: instructions per request, which no
//          noise moves)
#include <boost/fiber/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fiberleak/runtime.hpp>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kThreads = 2;
constexpr int kClients = 64;
constexpr int kHandlers = 16;

struct Request {
  std::uint64_t key = 0;
  boost::fibers::promise<std::uint64_t> reply;
};

// About 3 microseconds of arithmetic on this machine.
__attribute__((noinline)) std::uint64_t work(std::uint64_t x) {
  for (int i = 0; i < 1500; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

struct Result {
  std::uint64_t requests = 0;
  double requests_per_second = 0;
  double p99_us = 0;
};

Result run_service(bool tracked, int millis) {
  boost::fibers::buffered_channel<Request*> inbox(256);
  boost::fibers::mutex table_mutex;
  std::uint64_t table[64] = {};
  std::atomic<bool> stop{false};
  std::atomic<int> clients_done{0};
  std::vector<std::vector<std::uint32_t>> latencies_ns(kClients);
  boost::fibers::barrier started(kThreads);

  auto handler = [&] {
    Request* r = nullptr;
    while (inbox.pop(r) == boost::fibers::channel_op_status::success) {
      const std::uint64_t v = work(r->key);
      {
        std::lock_guard<boost::fibers::mutex> lock(table_mutex);
        table[v % 64] += v;
      }
      r->reply.set_value(v);
    }
  };
  auto client = [&](int id) {
    auto& lat = latencies_ns[id];
    lat.reserve(1 << 16);
    std::uint64_t key = id;
    while (!stop) {
      Request r;
      r.key = key++;
      auto reply = r.reply.get_future();
      const auto sent = Clock::now();
      inbox.push(&r);
      reply.get();
      lat.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sent).count()));
    }
    if (++clients_done == kClients) inbox.close();
  };

  auto start_time = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      if (tracked) {
        fiberleak::install<boost::fibers::algo::shared_work>();
      } else {
        boost::fibers::use_scheduling_algorithm<boost::fibers::algo::shared_work>();
      }
      std::vector<boost::fibers::fiber> fibers;
      if (t == 0) {
        for (int i = 0; i < kHandlers; ++i) fibers.emplace_back(handler);
        for (int i = 0; i < kClients; ++i) fibers.emplace_back(client, i);
      }
      started.wait();
      if (t == 0) {
        start_time = Clock::now();
        boost::this_fiber::sleep_for(std::chrono::milliseconds(millis));
        stop = true;
      }
      for (auto& f : fibers) f.join();
      // Keep this thread's scheduler serving shared fibers until all are done.
      while (clients_done < kClients || !inbox.is_closed()) boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start_time).count();
  std::vector<std::uint32_t> all;
  for (auto& l : latencies_ns) all.insert(all.end(), l.begin(), l.end());
  Result r;
  r.requests = all.size();
  r.requests_per_second = all.size() / seconds;
  if (!all.empty()) {
    const std::size_t at = all.size() * 99 / 100;
    std::nth_element(all.begin(), all.begin() + at, all.end());
    r.p99_us = all[at] / 1000.0;
  }
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--one") {
    const bool tracked = std::string(argv[2]) == "tracked";
    const int millis = std::max(10, std::atoi(argv[3]));
    const Result r = run_service(tracked, millis);
    std::printf("%s: %.0f requests/s over %d ms, %llu requests\n", tracked ? "tracked" : "plain", r.requests_per_second,
                millis, static_cast<unsigned long long>(r.requests));
    return 0;
  }
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 9;
  const int millis = argc > 2 ? std::max(100, std::atoi(argv[2])) : 500;
  run_service(false, 200);  // warm-up: page faults, the shared_work queue, the stack table
  run_service(true, 200);
  std::vector<double> rps[2], p99[2], rps_paired, p99_paired;
  for (int r = 0; r < reps; ++r) {
    const Result plain = run_service(false, millis);
    const Result tracked = run_service(true, millis);
    rps[0].push_back(plain.requests_per_second);
    rps[1].push_back(tracked.requests_per_second);
    p99[0].push_back(plain.p99_us);
    p99[1].push_back(tracked.p99_us);
    rps_paired.push_back(tracked.requests_per_second / plain.requests_per_second);
    p99_paired.push_back(tracked.p99_us / plain.p99_us);
  }
  std::printf(
      "request/response service: %d shared_work threads, %d clients, %d handlers, ~3 us of work and\n"
      "2-3 parks per request; %d repetitions of %d ms, plain and tracked interleaved (medians;\n"
      "paired: median of each repetition's tracked/plain ratio)\n",
      kThreads, kClients, kHandlers, reps, millis);
  std::printf("  %-20s %14s %10s\n", "", "requests/s", "p99");
  std::printf("  %-20s %14.0f %8.1f us\n", "plain Boost.Fiber", median(rps[0]), median(p99[0]));
  std::printf("  %-20s %14.0f %8.1f us\n", "tracked (default)", median(rps[1]), median(p99[1]));
  std::printf("  throughput ratio %.3f (paired %.3f; target >= 0.98), p99 ratio %.3f (paired %.3f)\n",
              median(rps[1]) / median(rps[0]), median(rps_paired), median(p99[1]) / median(p99[0]), median(p99_paired));
  return 0;
}
