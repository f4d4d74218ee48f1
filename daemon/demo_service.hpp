// DemoService: the service `fiberleakd demo` runs. Boost.Fiber on several
// scheduler threads (work_stealing), doing steady work and leaking fibers in
// the patterns of LEAK-PATTERNS.md, next to healthy long-lived fibers:
//
//   leaks                                         healthy
//   1 order consumer on a channel nobody feeds    ticker: sleeps and wakes
//   2 workers left sending after their caller     acceptor: waits for connections
//     timed out (a pile growing at one site)        that keep arriving
//   4 a ledger lock held across a stalled call,   worker pool idling on a job
//     and the fibers queued behind it               channel that is still fed
//   8 a cache fill waiting on a promise nobody sets
//
// start() returns at once; stop() releases every fiber and joins the threads.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace fiberleak::demo {

class DemoService {
 public:
  struct Options {
    int threads = 3;  // scheduler threads (work_stealing)
    // How often a request arrives; each one that times out leaves a sender behind.
    std::chrono::milliseconds request_interval{500};
  };
  explicit DemoService(Options options);
  ~DemoService();
  void start();
  void stop();
  std::uint64_t requests_served() const { return requests_.load(); }

  struct Shared;  // the channels and locks the demo's fibers share

 private:
  void run_thread(int index);
  void spawn_workload();

  Options options_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  std::thread network_;  // feeds the acceptor, as a poller thread would
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace fiberleak::demo
