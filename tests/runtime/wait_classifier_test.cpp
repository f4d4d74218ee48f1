// Every wait kind the runtime tells apart: a fiber parked on it shows up with
// the right state and wait kind, its park stack contains the test's own
// function, and its blocked time grows while it stays parked.
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>

#include "runtime_test_support.hpp"

using namespace std::chrono_literals;
using fiberleak::FiberState;
using fiberleak::WaitKind;
namespace ft = fiberleak::detail::testing;

namespace {

// Each parking function is noinline, and ends with an empty asm statement so
// its last call is not turned into a tail jump: the park stack keeps a frame
// we can name.
#define KEEP_FRAME() asm volatile("" ::: "memory")

__attribute__((noinline)) void park_on_mutex(boost::fibers::mutex& m) {
  m.lock();
  m.unlock();
  KEEP_FRAME();
}
__attribute__((noinline)) void park_on_condition(boost::fibers::mutex& m, boost::fibers::condition_variable& cv,
                                                 bool& ready) {
  std::unique_lock<boost::fibers::mutex> lk(m);
  cv.wait(lk, [&] { return ready; });
  KEEP_FRAME();
}
__attribute__((noinline)) void park_on_channel_pop(boost::fibers::buffered_channel<int>& ch) {
  int v = 0;
  ch.pop(v);
  KEEP_FRAME();
}
__attribute__((noinline)) void park_on_channel_push(boost::fibers::unbuffered_channel<int>& ch) {
  ch.push(42);
  KEEP_FRAME();
}
__attribute__((noinline)) void park_on_buffered_push(boost::fibers::buffered_channel<int>& ch) {
  ch.push(1);
  ch.push(2);  // capacity 2 holds one value: the second push parks
  KEEP_FRAME();
}
__attribute__((noinline)) void park_on_future(boost::fibers::future<int>& f) {
  (void)f.get();
  KEEP_FRAME();
}
__attribute__((noinline)) void park_on_join(boost::fibers::fiber& other) {
  other.join();
  KEEP_FRAME();
}
__attribute__((noinline)) void park_in_sleep() {
  boost::this_fiber::sleep_for(1500ms);  // outlasts both snapshots even on a loaded machine
  KEEP_FRAME();
}
__attribute__((noinline)) void park_on_barrier(boost::fibers::barrier& b) {
  b.wait();
  KEEP_FRAME();
}

struct Case {
  const char* function;
  FiberState state;
  WaitKind wait;
};

// Runs `body` in a named fiber, lets it park, checks its record twice (the
// blocked time must grow), then calls `release` and joins it.
void check_parked(const Case& c, std::function<void()> body, std::function<void()> release) {
  fiberleak::install();
  const auto spawned = std::chrono::steady_clock::now();
  // Nobody has been parked longer than since it was spawned (plus a tick of
  // the runtime's coarse clock).
  auto at_most = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - spawned).count() +
           10'000'000;
  };
  boost::fibers::fiber f = fiberleak::spawn("subject", std::move(body));
  boost::this_fiber::sleep_for(20ms);

  const auto first = fiberleak::snapshot();
  const auto rec = ft::find_named(first, "subject");
  REQUIRE(rec.has_value());
  INFO("park stack:\n" << ft::describe_stack(rec->park_stack));
  CHECK(rec->state == c.state);
  CHECK(rec->wait == c.wait);
  CHECK(ft::stack_contains(rec->park_stack, c.function));
  const auto blocked_first = rec->blocked_for_ns(first.taken_at_ns);
  CHECK(blocked_first >= 10'000'000);
  CHECK(blocked_first <= at_most());

  boost::this_fiber::sleep_for(20ms);
  const auto second = fiberleak::snapshot();
  const auto later = ft::find_named(second, "subject");
  REQUIRE(later.has_value());
  CHECK(later->blocked_for_ns(second.taken_at_ns) >= blocked_first + 15'000'000);
  CHECK(later->blocked_for_ns(second.taken_at_ns) <= at_most());
  CHECK(later->blocked_total_ns >= later->blocked_for_ns(second.taken_at_ns));

  release();
  f.join();
}

}  // namespace

TEST_CASE("a fiber waiting for a locked mutex is reported as mutex lock", "[runtime]") {
  boost::fibers::mutex m;
  m.lock();
  check_parked(
      {"park_on_mutex", FiberState::blocked, WaitKind::mutex}, [&] { park_on_mutex(m); }, [&] { m.unlock(); });
}

TEST_CASE("a fiber waiting on a condition variable is reported as condition wait", "[runtime]") {
  boost::fibers::mutex m;
  boost::fibers::condition_variable cv;
  bool ready = false;
  check_parked(
      {"park_on_condition", FiberState::blocked, WaitKind::condition_variable},
      [&] { park_on_condition(m, cv, ready); },
      [&] {
        {
          std::lock_guard<boost::fibers::mutex> lk(m);
          ready = true;
        }
        cv.notify_all();
      });
}

TEST_CASE("a fiber blocked on an empty channel is reported as chan receive", "[runtime]") {
  boost::fibers::buffered_channel<int> ch{2};
  check_parked(
      {"park_on_channel_pop", FiberState::blocked, WaitKind::channel_pop}, [&] { park_on_channel_pop(ch); },
      [&] { ch.push(1); });
}

TEST_CASE("a fiber pushing to an unbuffered channel nobody reads is reported as chan send", "[runtime]") {
  boost::fibers::unbuffered_channel<int> ch;
  check_parked(
      {"park_on_channel_push", FiberState::blocked, WaitKind::channel_push}, [&] { park_on_channel_push(ch); },
      [&] {
        int v = 0;
        ch.pop(v);
      });
}

TEST_CASE("a fiber pushing to a full buffered channel is reported as chan send", "[runtime]") {
  boost::fibers::buffered_channel<int> ch{2};
  check_parked(
      {"park_on_buffered_push", FiberState::blocked, WaitKind::channel_push}, [&] { park_on_buffered_push(ch); },
      [&] {
        int v = 0;
        ch.pop(v);
        ch.pop(v);
      });
}

TEST_CASE("a fiber waiting for a future is reported as future wait", "[runtime]") {
  boost::fibers::promise<int> p;
  boost::fibers::future<int> fut = p.get_future();
  check_parked(
      {"park_on_future", FiberState::blocked, WaitKind::future}, [&] { park_on_future(fut); }, [&] { p.set_value(7); });
}

TEST_CASE("a fiber joining a fiber that has not ended is reported as join", "[runtime]") {
  boost::fibers::mutex gate;
  gate.lock();
  boost::fibers::fiber worker;
  check_parked(
      {"park_on_join", FiberState::blocked, WaitKind::join},
      [&] {
        worker = boost::fibers::fiber([&] { park_on_mutex(gate); });
        park_on_join(worker);
      },
      [&] { gate.unlock(); });
}

TEST_CASE("a sleeping fiber is reported as sleeping in sleep", "[runtime]") {
  check_parked(
      {"park_in_sleep", FiberState::sleeping, WaitKind::sleep}, [] { park_in_sleep(); }, [] {});
}

TEST_CASE("a fiber waiting at a barrier is reported as barrier wait", "[runtime]") {
  boost::fibers::barrier b{2};
  check_parked(
      {"park_on_barrier", FiberState::blocked, WaitKind::barrier}, [&] { park_on_barrier(b); }, [&] { b.wait(); });
}

TEST_CASE("a fiber in a timed channel wait keeps the channel's wait kind and sleeps", "[runtime]") {
  boost::fibers::buffered_channel<int> ch{2};
  check_parked(
      {"pop_wait_for", FiberState::sleeping, WaitKind::channel_pop},
      [&] {
        int v = 0;
        (void)ch.pop_wait_for(v, 10s);
      },
      [&] { ch.push(1); });
}

namespace {
// Different bodies, so the compiler cannot fold the two into one (-fipa-icf).
volatile int g_site_a_visits = 0;
volatile int g_site_b_visits = 0;
__attribute__((noinline)) void park_at_site_a(boost::fibers::buffered_channel<int>& ch) {
  int v = 0;
  ch.pop(v);
  g_site_a_visits = g_site_a_visits + v;
}
__attribute__((noinline)) void park_at_site_b(boost::fibers::buffered_channel<int>& ch) {
  int v = 0;
  ch.pop(v);
  g_site_b_visits = g_site_b_visits - v;
}
}  // namespace

TEST_CASE("a fiber alternating between two park sites gets the right stack at each park", "[runtime]") {
  // Both sites park at the same depth through the same Boost frames: only
  // the caller differs, which the park stack cache must notice.
  fiberleak::install();
  boost::fibers::buffered_channel<int> ch{2};
  boost::fibers::fiber f = fiberleak::spawn("alternating", [&] {
    for (int i = 0; i < 10; ++i) {
      if (i % 2 == 0) {
        park_at_site_a(ch);
      } else {
        park_at_site_b(ch);
      }
    }
  });
  for (int i = 0; i < 10; ++i) {
    boost::this_fiber::yield();
    const auto rec = ft::find_named(fiberleak::snapshot(), "alternating");
    REQUIRE(rec.has_value());
    const bool a = ft::stack_contains(rec->park_stack, "park_at_site_a");
    const bool b = ft::stack_contains(rec->park_stack, "park_at_site_b");
    INFO("park " << i << ":\n" << ft::describe_stack(rec->park_stack));
    CHECK(a == (i % 2 == 0));
    CHECK(b == (i % 2 == 1));
    ch.push(i);
  }
  f.join();
}
