// shared_work and work_stealing on several threads: thousands of fibers
// migrate between threads while another thread takes snapshots in a loop.
// Run under TSan by the sanitizer build (scripts/test).
#include <unistd.h>

#include <boost/fiber/algo/shared_work.hpp>
#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "runtime/current_fiber.hpp"
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

// The calling OS thread. Not std::this_thread::get_id(): glibc declares
// pthread_self() const, so the compiler may keep the value a fiber read
// before it moved to another thread.
long os_thread() { return syscall(SYS_gettid); }

template <typename Install>
void run_migrating_fibers(Install install) {
  boost::fibers::mutex done_mutex;
  boost::fibers::condition_variable_any done_cv;
  bool done = false;
  std::atomic<int> installed{0};
  std::vector<std::thread> workers;
  for (int t = 1; t < kThreads; ++t) {
    workers.emplace_back([&] {
      install();
      ++installed;
      std::unique_lock<boost::fibers::mutex> lk(done_mutex);
      done_cv.wait(lk, [&] { return done; });
    });
  }
  install();
  // Fibers spawned before the workers joined the pool would all run here.
  while (installed.load() < kThreads - 1) std::this_thread::yield();
  SnapshotLoop loop;
  loop.start();

  // Phase 1: every fiber yields and sleeps until fibers have been seen
  // changing threads (a loaded machine may not run the workers for a while,
  // hence a deadline instead of a fixed count), then parks on a mutex held
  // here: the snapshot must show all of them parked there, each on the
  // thread it really parked on.
  boost::fibers::mutex gate;
  gate.lock();
  std::atomic<int> arrived{0};
  std::atomic<int> migrated{0};
  std::mutex parked_mutex;
  std::map<fiberleak::FiberId, long> parked_on;
  const auto migrate_deadline = std::chrono::steady_clock::now() + 20s;
  std::vector<boost::fibers::fiber> fibers;
  fibers.reserve(kFibers);
  for (int i = 0; i < kFibers; ++i) {
    fibers.emplace_back([&] {
      const auto first = os_thread();
      for (int k = 0; k < 3; ++k) boost::this_fiber::yield();
      // Sleeping, not yielding: work_stealing's workers steal little from
      // a queue that a storm of yields keeps full.
      do {
        boost::this_fiber::sleep_for(1ms);
        if (os_thread() != first) ++migrated;
      } while (migrated.load() == 0 && std::chrono::steady_clock::now() < migrate_deadline);
      {
        std::lock_guard<std::mutex> lk(parked_mutex);
        parked_on[fiberleak::FiberId{fiberleak_current_fiber_id()}] = os_thread();
      }
      ++arrived;
      gate.lock();
      gate.unlock();
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (arrived.load() < kFibers && std::chrono::steady_clock::now() < deadline) boost::this_fiber::sleep_for(1ms);
  REQUIRE(arrived.load() == kFibers);
  CHECK(migrated.load() > 0);          // fibers really changed threads
  boost::this_fiber::sleep_for(50ms);  // the last arrivals reach lock()

  const auto snap = fiberleak::snapshot();
  int on_gate = 0;
  // The snapshot's thread ordinals and the OS threads must correspond one to one.
  std::map<std::uint32_t, std::set<long>> os_threads_of_ordinal;
  std::map<long, std::set<std::uint32_t>> ordinals_of_os_thread;
  for (const auto& f : snap.fibers) {
    if (f.state == FiberState::blocked && f.wait == WaitKind::mutex) {
      ++on_gate;
      REQUIRE(parked_on.count(f.id) == 1);
      os_threads_of_ordinal[f.thread].insert(parked_on[f.id]);
      ordinals_of_os_thread[parked_on[f.id]].insert(f.thread);
    }
  }
  CHECK(on_gate == kFibers);
  for (const auto& [ordinal, os] : os_threads_of_ordinal) CHECK(os.size() == 1);
  for (const auto& [os, ordinals] : ordinals_of_os_thread) CHECK(ordinals.size() == 1);

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

TEST_CASE("work_stealing on three threads: migrating fibers are all accounted for while snapshots run",
          "[runtime][threads]") {
  run_migrating_fibers([] { fiberleak::install<boost::fibers::algo::work_stealing>(kThreads); });
}

TEST_CASE("shared_work on three threads: migrating fibers are all accounted for while snapshots run",
          "[runtime][threads]") {
  run_migrating_fibers([] { fiberleak::install<boost::fibers::algo::shared_work>(); });
}
