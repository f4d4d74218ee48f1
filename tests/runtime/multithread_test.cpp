// shared_work and work_stealing on several threads: thousands of fibers
// migrate between threads while another thread takes snapshots in a loop.
// Run under TSan by the sanitizer build (scripts/test).
#include <boost/fiber/algo/shared_work.hpp>
#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "runtime_test_support.hpp"

using namespace std::chrono_literals;
using fiberleak::FiberState;
using fiberleak::WaitKind;

namespace {

constexpr int kThreads = 3;  // this thread and two more
constexpr int kFibers = 3000;

struct SnapshotLoop {
  std::atomic<bool> stop{false};
  std::atomic<int> snapshots{0};
  std::atomic<int> bad{0};
  std::thread thread;

  void start() {
    thread = std::thread([this] {
      while (!stop.load()) {
        const auto snap = fiberleak::snapshot();
        std::set<fiberleak::FiberId> ids;
        for (const auto& f : snap.fibers) {
          if (!ids.insert(f.id).second || f.state == FiberState::done || f.id == fiberleak::kNoFiber) ++bad;
        }
        if (snap.counters.fibers_live != snap.counters.fibers_created - snap.counters.fibers_destroyed) ++bad;
        ++snapshots;
      }
    });
  }
  void finish() {
    stop = true;
    thread.join();
  }
};

template <typename Install>
void run_migrating_fibers(Install install) {
  boost::fibers::mutex done_mutex;
  boost::fibers::condition_variable_any done_cv;
  bool done = false;
  std::vector<std::thread> workers;
  for (int t = 1; t < kThreads; ++t) {
    workers.emplace_back([&] {
      install();
      std::unique_lock<boost::fibers::mutex> lk(done_mutex);
      done_cv.wait(lk, [&] { return done; });
    });
  }
  install();
  SnapshotLoop loop;
  loop.start();

  // Phase 1: every fiber yields and sleeps (migrating), then parks on a
  // mutex held here: the snapshot must show all of them parked there.
  boost::fibers::mutex gate;
  gate.lock();
  std::atomic<int> arrived{0};
  std::vector<boost::fibers::fiber> fibers;
  fibers.reserve(kFibers);
  for (int i = 0; i < kFibers; ++i) {
    fibers.emplace_back([&] {
      for (int k = 0; k < 3; ++k) boost::this_fiber::yield();
      boost::this_fiber::sleep_for(1ms);
      ++arrived;
      gate.lock();
      gate.unlock();
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (arrived.load() < kFibers && std::chrono::steady_clock::now() < deadline) boost::this_fiber::sleep_for(1ms);
  REQUIRE(arrived.load() == kFibers);
  boost::this_fiber::sleep_for(50ms);  // the last arrivals reach lock()

  const auto snap = fiberleak::snapshot();
  int on_gate = 0;
  std::set<std::uint32_t> threads;
  for (const auto& f : snap.fibers) {
    if (f.state == FiberState::blocked && f.wait == WaitKind::mutex) {
      ++on_gate;
      threads.insert(f.thread);
    }
  }
  CHECK(on_gate == kFibers);
  CHECK(threads.size() >= 2);  // fibers really ran on more than one thread

  gate.unlock();
  for (auto& f : fibers) f.join();
  {
    std::lock_guard<boost::fibers::mutex> lk(done_mutex);
    done = true;
  }
  done_cv.notify_all();
  for (auto& w : workers) w.join();
  loop.finish();

  CHECK(loop.bad.load() == 0);
  CHECK(loop.snapshots.load() > 0);
  const auto after = fiberleak::snapshot();
  for (const auto& f : after.fibers) CHECK(f.is_main);  // every worker fiber is gone
  CHECK(after.counters.records_dropped == 0);
}

}  // namespace

TEST_CASE("work_stealing on three threads: migrating fibers are all accounted for while snapshots run", "[runtime][threads]") {
  run_migrating_fibers([] { fiberleak::install<boost::fibers::algo::work_stealing>(kThreads); });
}

TEST_CASE("shared_work on three threads: migrating fibers are all accounted for while snapshots run", "[runtime][threads]") {
  run_migrating_fibers([] { fiberleak::install<boost::fibers::algo::shared_work>(); });
}
