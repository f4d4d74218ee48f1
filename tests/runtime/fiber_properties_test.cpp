// Programs whose scheduling algorithm keeps fiber properties of its own
// (algorithm_with_properties<P>, Boost's way to do priorities) behave the
// same tracked and untracked, and fiberleak still records every fiber.
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fiberleak/runtime.hpp>

#include "runtime_test_support.hpp"

namespace {

using boost::fibers::context;

class Priority : public boost::fibers::fiber_properties {
 public:
  explicit Priority(context* ctx) : fiber_properties(ctx) {}
  int value() const { return value_; }
  void set(int value) {
    if (value == value_) return;
    value_ = value;
    notify();  // reaches PriorityScheduler::property_change
  }

 private:
  int value_ = 0;
};

// Highest priority first; equal priorities in arrival order.
class PriorityScheduler : public boost::fibers::algo::algorithm_with_properties<Priority> {
 public:
  static inline std::atomic<int> property_changes{0};

  void awakened(context* ctx, Priority& props) noexcept override {
    const int p = props.value();
    auto at = std::find_if(ready_.begin(), ready_.end(), [&](context& c) { return properties(&c).value() < p; });
    ready_.insert(at, *ctx);
  }
  context* pick_next() noexcept override {
    if (ready_.empty()) return nullptr;
    context* next = &ready_.front();
    ready_.pop_front();
    return next;
  }
  bool has_ready_fibers() const noexcept override { return !ready_.empty(); }
  void property_change(context* ctx, Priority& props) noexcept override {
    ++property_changes;
    if (!ctx->ready_is_linked()) return;  // not queued: awakened() will place it
    ctx->ready_unlink();
    awakened(ctx, props);
  }
  void suspend_until(std::chrono::steady_clock::time_point const& until) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (until == std::chrono::steady_clock::time_point::max()) {
      wake_.wait(lock, [this] { return notified_; });
    } else {
      wake_.wait_until(lock, until, [this] { return notified_; });
    }
    notified_ = false;
  }
  void notify() noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    notified_ = true;
    wake_.notify_all();
  }

 private:
  boost::fibers::scheduler::ready_queue_type ready_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
};

// Fibers of different priorities take turns; one raises its own priority
// while running, the main fiber raises another's while it is queued. The
// order in which they run is the log.
std::vector<std::string> run_priority_workload(bool tracked, bool* every_fiber_recorded) {
  if (tracked) {
    fiberleak::install<PriorityScheduler>();
  } else {
    boost::fibers::use_scheduling_algorithm<PriorityScheduler>();
  }
  std::vector<std::string> log;
  std::vector<boost::fibers::fiber> fibers;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "prio-" + std::to_string(i);
    auto body = [&log, name, i] {
      Priority& mine = boost::this_fiber::properties<Priority>();
      mine.set(i % 3);
      for (int round = 0; round < 4; ++round) {
        log.push_back(name + "@" + std::to_string(mine.value()));
        if (i == 1 && round == 1) mine.set(5);  // raised while running
        boost::this_fiber::yield();
      }
    };
    fibers.push_back(tracked ? fiberleak::spawn(name, body) : boost::fibers::fiber(boost::fibers::launch::post, body));
  }
  bool recorded = true;
  if (tracked) {
    const fiberleak::Snapshot snap = fiberleak::snapshot();
    for (int i = 0; i < 6; ++i) {
      if (!fiberleak::detail::testing::find_named(snap, "prio-" + std::to_string(i))) recorded = false;
    }
  }
  boost::this_fiber::yield();
  // Back here once the higher priorities are through; prio-3 (priority 0)
  // still has rounds to go and waits in the ready queue.
  fibers[3].properties<Priority>().set(4);
  for (auto& f : fibers) f.join();
  if (every_fiber_recorded != nullptr) *every_fiber_recorded = recorded;
  return log;
}

}  // namespace

TEST_CASE("a priority scheduler with its own fiber properties runs in the same order tracked and untracked",
          "[runtime][properties]") {
  std::vector<std::string> untracked, tracked;
  bool recorded = false;
  PriorityScheduler::property_changes = 0;
  std::thread([&] { untracked = run_priority_workload(false, nullptr); }).join();
  const int untracked_changes = PriorityScheduler::property_changes.exchange(0);
  std::thread([&] { tracked = run_priority_workload(true, &recorded); }).join();
  const int tracked_changes = PriorityScheduler::property_changes.load();

  REQUIRE(untracked.size() == 24);
  CHECK(tracked == untracked);
  CHECK(untracked_changes > 0);
  CHECK(tracked_changes == untracked_changes);  // P::notify() reached the program's algorithm
  CHECK(recorded);                              // and fiberleak saw every fiber
}

TEST_CASE("a tracked priority scheduler runs beside shared_work and work_stealing threads", "[runtime][properties]") {
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  // Two shared_work threads and two work_stealing threads, all tracked.
  boost::fibers::barrier installed(4);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      fiberleak::install<boost::fibers::algo::shared_work>();
      installed.wait();
      std::vector<boost::fibers::fiber> fs;
      for (int i = 0; i < 20; ++i) {
        fs.push_back(fiberleak::spawn("shared", [&] {
          boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
          ++done;
        }));
      }
      for (auto& f : fs) f.join();
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      fiberleak::install<boost::fibers::algo::work_stealing>(2);
      installed.wait();
      std::vector<boost::fibers::fiber> fs;
      for (int i = 0; i < 20; ++i) {
        fs.push_back(fiberleak::spawn("stealing", [&] {
          boost::this_fiber::yield();
          ++done;
        }));
      }
      for (auto& f : fs) f.join();
    });
  }
  std::vector<std::string> tracked, untracked;
  bool recorded = false;
  std::thread([&] { tracked = run_priority_workload(true, &recorded); }).join();
  for (auto& t : threads) t.join();
  std::thread([&] { untracked = run_priority_workload(false, nullptr); }).join();
  CHECK(done == 80);
  CHECK(tracked == untracked);
  CHECK(recorded);
}
