// What a parked fiber waits on (the primitive's address) and for whom (a
// mutex's owner, a joined fiber), recorded at park time and resolved in
// snapshots.
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <chrono>

#include <fiberleak/runtime.hpp>

#include "runtime_test_support.hpp"

using namespace std::chrono_literals;
namespace ft = fiberleak::detail::testing;

namespace {

fiberleak::FiberSnapshot named(const fiberleak::Snapshot& snap, const char* name) {
  auto f = ft::find_named(snap, name);
  REQUIRE(f);
  return *f;
}

}  // namespace

TEST_CASE("fibers parked on one channel record one primitive, on another channel another", "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::buffered_channel<int> a(2), b(2);
  auto pop = [](boost::fibers::buffered_channel<int>& ch) {
    int v;
    ch.pop(v);
  };
  auto a1 = fiberleak::spawn("a1", pop, std::ref(a));
  auto a2 = fiberleak::spawn("a2", pop, std::ref(a));
  auto b1 = fiberleak::spawn("b1", pop, std::ref(b));
  auto sleeper = fiberleak::spawn("sleeper", [] { boost::this_fiber::sleep_for(50ms); });
  boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  CHECK(snap.waits_on_recorded);
  const auto fa1 = named(snap, "a1"), fa2 = named(snap, "a2"), fb1 = named(snap, "b1");
  CHECK(fa1.waits_on != 0);
  CHECK(fa1.waits_on == fa2.waits_on);
  CHECK(fb1.waits_on != 0);
  CHECK(fb1.waits_on != fa1.waits_on);
  // The queue header lives inside the channel object.
  CHECK(fa1.waits_on >= reinterpret_cast<std::uint64_t>(&a));
  CHECK(fa1.waits_on < reinterpret_cast<std::uint64_t>(&a) + sizeof a);
  CHECK(named(snap, "sleeper").waits_on == 0);  // a plain sleep waits on nothing
  CHECK(fa1.waits_for == fiberleak::kNoFiber);
  a.push(1);
  a.push(2);
  b.push(3);
  a1.join();
  a2.join();
  b1.join();
  sleeper.join();
}

TEST_CASE("a fiber waiting for a mutex names the fiber that owns it", "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::mutex m;
  boost::fibers::condition_variable_any release;
  bool go = false;
  auto owner = fiberleak::spawn("owner", [&] {
    std::unique_lock<boost::fibers::mutex> lock(m);
    boost::fibers::mutex cvm;
    std::unique_lock<boost::fibers::mutex> wait_lock(cvm);
    release.wait(wait_lock, [&] { return go; });
  });
  boost::this_fiber::yield();  // the owner takes m and waits
  auto waiter = fiberleak::spawn("waiter", [&] { std::lock_guard<boost::fibers::mutex> lock(m); });
  boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  const auto w = named(snap, "waiter");
  CHECK(w.wait == fiberleak::WaitKind::mutex);
  CHECK(w.waits_on != 0);
  CHECK(w.waits_for == named(snap, "owner").id);
  CHECK_FALSE(w.owner_ended);
  go = true;
  release.notify_all();
  owner.join();
  waiter.join();
}

TEST_CASE("a fiber waiting for a mutex whose owner ended holding it says the owner ended", "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::timed_mutex m;
  fiberleak::spawn("careless", [&] { m.lock(); }).join();  // returns with m locked
  auto waiter = fiberleak::spawn("waiter", [&] {
    if (m.try_lock_for(2s)) m.unlock();
  });
  boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  const auto w = named(snap, "waiter");
  CHECK(w.wait == fiberleak::WaitKind::mutex);
  CHECK(w.waits_for == fiberleak::kNoFiber);
  CHECK(w.owner_ended);
  waiter.join();
}

TEST_CASE("an ended owner's context reused by a new fiber is not taken for the owner", "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::timed_mutex m;
  boost::fibers::buffered_channel<int> go(2), never(2);
  // careless takes m, lets the waiter queue up, then returns holding it.
  auto careless = fiberleak::spawn("careless", [&] {
    m.lock();
    int v;
    go.pop(v);
  });
  boost::this_fiber::yield();
  auto waiter = fiberleak::spawn("waiter", [&] {
    if (m.try_lock_for(2s)) m.unlock();
  });
  boost::this_fiber::yield();
  CHECK(named(fiberleak::snapshot(), "waiter").waits_for == named(fiberleak::snapshot(), "careless").id);
  go.push(1);
  careless.join();
  // Boost's allocator hands the ended fiber's context to the next fiber,
  // which the mutex now names as its owner.
  auto bystander = fiberleak::spawn("bystander", [&] {
    int v;
    never.pop(v);
  });
  boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  const auto w = named(snap, "waiter");
  CHECK(w.waits_for == fiberleak::kNoFiber);
  CHECK(w.owner_ended);
  waiter.join();
  never.push(1);
  bystander.join();
}

TEST_CASE("two fibers taking two mutexes in opposite orders name each other", "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::timed_mutex m1, m2;
  auto take = [](boost::fibers::timed_mutex& first, boost::fibers::timed_mutex& second) {
    std::lock_guard<boost::fibers::timed_mutex> hold(first);
    boost::this_fiber::yield();
    if (second.try_lock_for(2s)) second.unlock();  // times out (2 s, generous for a loaded machine): the test ends
  };
  auto a = fiberleak::spawn("a", take, std::ref(m1), std::ref(m2));
  auto b = fiberleak::spawn("b", take, std::ref(m2), std::ref(m1));
  boost::this_fiber::yield();
  boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  const auto fa = named(snap, "a"), fb = named(snap, "b");
  CHECK(fa.waits_for == fb.id);
  CHECK(fb.waits_for == fa.id);
  CHECK(fa.waits_on != fb.waits_on);
  a.join();
  b.join();
}

TEST_CASE("a fiber joining another names the fiber it joins", "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::buffered_channel<int> ch(2);
  auto worker = fiberleak::spawn("worker", [&] {
    int v;
    ch.pop(v);
  });
  auto joiner = fiberleak::spawn("joiner", [&] { worker.join(); });
  boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  const auto j = named(snap, "joiner");
  CHECK(j.wait == fiberleak::WaitKind::join);
  CHECK(j.waits_for == named(snap, "worker").id);
  ch.push(1);
  joiner.join();
}

TEST_CASE("a timed wait re-armed in a loop parks on the same primitive every time", "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::mutex m;
  boost::fibers::condition_variable cv;
  bool flag = false;
  auto poller = fiberleak::spawn("poller", [&] {
    std::unique_lock<boost::fibers::mutex> lock(m);
    while (!flag) cv.wait_for(lock, 2ms);
  });
  std::uint64_t first = 0;
  std::uint64_t parks_seen = 0;
  bool same = true;
  for (int i = 0; i < 10; ++i) {
    boost::this_fiber::sleep_for(3ms);
    const auto p = named(fiberleak::snapshot(), "poller");
    if (!p.parked()) continue;
    if (first == 0) first = p.waits_on;
    same = same && p.waits_on == first;
    parks_seen = p.parks;
  }
  CHECK(first != 0);
  CHECK(same);
  CHECK(parks_seen > 2);
  {
    std::lock_guard<boost::fibers::mutex> lock(m);
    flag = true;
  }
  poller.join();
}

TEST_CASE("a timed wait re-armed after its timeout is one continuous park; a sleep loop is not",
          "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::mutex m;
  boost::fibers::condition_variable cv;
  boost::fibers::timed_mutex tm;
  boost::fibers::buffered_channel<int> ch(2);
  bool stop = false;
  tm.lock();
  auto cv_loop = fiberleak::spawn("cv-loop", [&] {
    std::unique_lock<boost::fibers::mutex> lk(m);
    while (!stop) cv.wait_for(lk, 2ms);
  });
  auto lock_loop = fiberleak::spawn("lock-loop", [&] {
    while (!stop && !tm.try_lock_for(2ms)) {
    }
  });
  auto pop_loop = fiberleak::spawn("pop-loop", [&] {
    int v;
    while (!stop && ch.pop_wait_for(v, 2ms) == boost::fibers::channel_op_status::timeout) {
    }
  });
  auto ticker = fiberleak::spawn("ticker", [&] {
    while (!stop) boost::this_fiber::sleep_for(2ms);
  });
  const auto started = std::chrono::steady_clock::now();
  boost::this_fiber::sleep_for(60ms);
  const auto snap = fiberleak::snapshot();
  const std::int64_t lived =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count();
  for (const char* name : {"cv-loop", "lock-loop", "pop-loop"}) {
    INFO(name);
    const auto f = named(snap, name);
    CHECK(f.rearmed);
    CHECK(f.parks > 5);  // it did time out and wait again, many times
    // Parked since its first wait, not since the latest timeout (2 ms).
    CHECK(f.blocked_for_ns(snap.taken_at_ns) > 40'000'000);
    CHECK(f.blocked_for_ns(snap.taken_at_ns) <= lived);
    // Its total is the one wait, not the one wait plus every re-armed piece.
    CHECK(f.blocked_total_ns <= lived);
    CHECK(f.blocked_total_ns >= f.blocked_for_ns(snap.taken_at_ns));
  }
  const auto t = named(snap, "ticker");
  CHECK_FALSE(t.rearmed);
  CHECK(t.blocked_for_ns(snap.taken_at_ns) < 40'000'000);
  stop = true;
  tm.unlock();
  cv.notify_all();
  cv_loop.join();
  lock_loop.join();
  pop_loop.join();
  ticker.join();
}

TEST_CASE("a timed wait woken by its primitive starts a new park and marks the primitive in use",
          "[runtime][waits_on]") {
  fiberleak::install();
  boost::fibers::buffered_channel<int> jobs(4), never(2);
  int handled = 0;
  auto worker = fiberleak::spawn("worker", [&] {
    int v;
    for (;;) {
      const auto status = jobs.pop_wait_for(v, 200ms);
      if (status == boost::fibers::channel_op_status::closed) return;
      if (status == boost::fibers::channel_op_status::success) ++handled;
    }
  });
  auto idle = fiberleak::spawn("idle", [&] {
    int v;
    never.pop(v);  // never fed (closed at the end)
  });
  boost::this_fiber::yield();
  auto first = named(fiberleak::snapshot(), "worker");
  CHECK_FALSE(first.rewaits);  // its first wait: nothing woke it yet
  for (int i = 0; i < 5; ++i) {
    boost::this_fiber::sleep_for(10ms);
    jobs.push(i);
  }
  boost::this_fiber::sleep_for(5ms);
  const auto snap = fiberleak::snapshot();
  const auto w = named(snap, "worker");
  CHECK(handled >= 1);
  CHECK(w.rewaits);
  CHECK_FALSE(w.rearmed);
  CHECK(w.blocked_for_ns(snap.taken_at_ns) < 30'000'000);  // since the latest job, not since it started
  CHECK_FALSE(named(snap, "idle").rewaits);
  jobs.close();
  never.close();
  worker.join();
  idle.join();
}
