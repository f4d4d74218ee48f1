// Creation, names, ids, counters and the life cycle of records.
#include "runtime/fiber_registry.hpp"

#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "runtime/current_fiber.hpp"
#include "runtime_test_support.hpp"

using namespace std::chrono_literals;
using fiberleak::FiberId;
using fiberleak::FiberState;
namespace ft = fiberleak::detail::testing;

namespace {

__attribute__((noinline)) boost::fibers::fiber spawn_child_from_here(boost::fibers::buffered_channel<int>& ch) {
  return boost::fibers::fiber([&ch] {
    int v;
    ch.pop(v);
  });
}

}  // namespace

TEST_CASE("a fiber records its parent and a creation stack through the spawning function", "[runtime]") {
  fiberleak::install();
  boost::fibers::buffered_channel<int> ch{2};
  FiberId parent_id{};
  boost::fibers::fiber child;
  boost::fibers::fiber parent = fiberleak::spawn("parent", [&] {
    parent_id = fiberleak::this_fiber::id();
    child = spawn_child_from_here(ch);
    fiberleak::spawn("named-at-creation", [&] {
      int v;
      ch.pop(v);
    }).detach();
  });
  parent.join();
  // The child has not run yet (launch::post) or is parked on the channel.
  const auto snap = fiberleak::snapshot();
  const fiberleak::FiberSnapshot* found = nullptr;
  for (const auto& f : snap.fibers) {
    if (f.parent == parent_id && f.name.empty()) found = &f;
  }
  REQUIRE(found != nullptr);
  INFO("creation stack:\n" << ft::describe_stack(found->creation_stack));
  CHECK(ft::stack_contains(found->creation_stack, "spawn_child_from_here"));
  CHECK(found->created_ns > 0);
  CHECK(found->created_ns <= snap.taken_at_ns);
  const auto named = ft::find_named(snap, "named-at-creation");
  REQUIRE(named.has_value());
  CHECK(named->parent == parent_id);
  ch.close();
  child.join();
  boost::this_fiber::yield();  // the detached fiber sees the close and ends
}

TEST_CASE("the main fiber of an installed thread is tracked and can be named", "[runtime]") {
  fiberleak::install();
  fiberleak::this_fiber::set_name("test-main");
  const auto snap = fiberleak::snapshot();
  const auto main_fiber = ft::find_named(snap, "test-main");
  REQUIRE(main_fiber.has_value());
  CHECK(main_fiber->is_main);
  CHECK(main_fiber->state == FiberState::running);
  CHECK(main_fiber->id == fiberleak::this_fiber::id());
}

TEST_CASE("names longer than the record holds are truncated, not overflowed", "[runtime]") {
  fiberleak::install();
  const std::string long_name(100, 'x');
  boost::fibers::fiber f = fiberleak::spawn(long_name, [] { boost::this_fiber::sleep_for(20ms); });
  const auto snap = fiberleak::snapshot();
  bool seen = false;
  for (const auto& rec : snap.fibers) {
    if (!rec.name.empty() && rec.name[0] == 'x') {
      seen = true;
      CHECK(rec.name == std::string(fiberleak::detail::kMaxNameBytes - 1, 'x'));
    }
  }
  CHECK(seen);
  f.join();
}

TEST_CASE("a name is cut at the limit on a character boundary, never inside a UTF-8 character", "[runtime]") {
  fiberleak::install();
  // 37 + 3 + 3 bytes: the limit (39) falls inside the second byte of 日.
  const std::string name = std::string(37, 'y') + "日本";
  boost::fibers::fiber f = fiberleak::spawn(name, [] { boost::this_fiber::sleep_for(20ms); });
  const auto snap = fiberleak::snapshot();
  const auto rec = std::find_if(snap.fibers.begin(), snap.fibers.end(),
                                [](const auto& r) { return !r.name.empty() && r.name[0] == 'y'; });
  REQUIRE(rec != snap.fibers.end());
  CHECK(rec->name == std::string(37, 'y'));
  // A name that fits is kept whole, multi-byte characters and all.
  fiberleak::this_fiber::set_name("日本-main");
  char out[64];
  fiberleak_current_fiber_name(out, sizeof out);
  CHECK(std::string(out) == "日本-main");
  fiberleak_current_fiber_name(out, 5);  // 4 bytes: 日 and one byte of 本
  CHECK(std::string(out) == "日");
  f.join();
}

TEST_CASE("ids stay unique across a million sequential fibers and done fibers leave the snapshot", "[runtime][slow]") {
  fiberleak::install();
  const auto before = fiberleak::counters();
  std::set<std::uint64_t> ids;
  FiberId last{};
  constexpr int kFibers = 1'000'000;
  for (int i = 0; i < kFibers; ++i) {
    boost::fibers::fiber([&] { last = fiberleak::this_fiber::id(); }).join();
    const auto id = static_cast<std::uint64_t>(last);
    // Sequential fibers reuse the same context address; their ids must not repeat.
    REQUIRE(ids.insert(id).second);
  }
  const auto after = fiberleak::counters();
  CHECK(after.fibers_created - before.fibers_created == kFibers);
  CHECK(after.fibers_destroyed - before.fibers_destroyed == kFibers);
  CHECK(after.fibers_live == before.fibers_live);
  CHECK(after.records_dropped == 0);
  const auto snap = fiberleak::snapshot();
  for (const auto& f : snap.fibers) CHECK(ids.count(static_cast<std::uint64_t>(f.id)) == 0);
}

TEST_CASE("counters add up: live equals created minus destroyed and matches the snapshot", "[runtime]") {
  fiberleak::install();
  boost::fibers::mutex m;
  m.lock();
  std::vector<boost::fibers::fiber> parked;
  for (int i = 0; i < 50; ++i)
    parked.emplace_back([&] {
      m.lock();
      m.unlock();
    });
  boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  CHECK(snap.counters.fibers_live == snap.counters.fibers_created - snap.counters.fibers_destroyed);
  std::size_t blocked = 0;
  for (const auto& f : snap.fibers) blocked += f.state == FiberState::blocked ? 1 : 0;
  CHECK(blocked == 50);
  // Every live record but the ones in state done is in the snapshot.
  CHECK(snap.fibers.size() <= snap.counters.fibers_live);
  CHECK(snap.fibers.size() >= 51);  // 50 parked + main
  CHECK(snap.counters.stack_table_size >= 1);
  m.unlock();
  for (auto& f : parked) f.join();
  boost::this_fiber::yield();  // Boost frees the last joined context on the next switch
  const auto after = fiberleak::counters();
  CHECK(after.fibers_destroyed - snap.counters.fibers_destroyed == 50);
}

TEST_CASE("a yielding fiber is recorded as yielded and counts parks and switches", "[runtime]") {
  fiberleak::install();
  bool stop = false;
  boost::fibers::fiber f = fiberleak::spawn("yielder", [&] {
    while (!stop) boost::this_fiber::yield();
  });
  for (int i = 0; i < 10; ++i) boost::this_fiber::yield();
  const auto snap = fiberleak::snapshot();
  const auto rec = ft::find_named(snap, "yielder");
  REQUIRE(rec.has_value());
  CHECK(rec->state == FiberState::yielded);
  CHECK(rec->wait == fiberleak::WaitKind::yield);
  // Main yielded 10 times to it, so it ran and yielded back about as often.
  CHECK(rec->parks >= 5);
  CHECK(rec->parks <= 11);
  CHECK(rec->switches >= 5);
  CHECK(rec->switches <= 12);
  stop = true;
  f.join();
}

TEST_CASE("turning park stack capture off keeps states and drops park stacks", "[runtime]") {
  fiberleak::RuntimeOptions options;
  options.capture_park_stacks = false;
  fiberleak::configure(options);
  fiberleak::install();
  boost::fibers::mutex m;
  m.lock();
  boost::fibers::fiber f = fiberleak::spawn("no-stack", [&] {
    m.lock();
    m.unlock();
  });
  boost::this_fiber::yield();
  const auto rec = ft::find_named(fiberleak::snapshot(), "no-stack");
  REQUIRE(rec.has_value());
  CHECK(rec->state == FiberState::blocked);
  CHECK(rec->park_stack == fiberleak::kNoStack);
  CHECK(rec->wait == fiberleak::WaitKind::unknown);
  m.unlock();
  f.join();
  options.capture_park_stacks = true;
  fiberleak::configure(options);
}

TEST_CASE("no fiber in a snapshot was created or parked after the snapshot's time", "[runtime][threads]") {
  std::atomic<bool> stop{false}, ready{false};
  std::thread churn([&] {
    fiberleak::install();
    // A population that makes each snapshot's walk take milliseconds...
    boost::fibers::mutex m;
    boost::fibers::condition_variable cv;
    std::vector<boost::fibers::fiber> parked;
    for (int i = 0; i < 20000; ++i) {
      parked.push_back(fiberleak::spawn("parked", [&] {
        std::unique_lock<boost::fibers::mutex> lock(m);
        cv.wait(lock, [&] { return stop.load(); });
      }));
    }
    boost::this_fiber::yield();
    ready = true;
    // ... while fibers are created and park during it.
    while (!stop) {
      std::vector<boost::fibers::fiber> fibers;
      for (int i = 0; i < 50; ++i) {
        fibers.push_back(
            fiberleak::spawn("churn", [] { boost::this_fiber::sleep_for(std::chrono::microseconds(50)); }));
      }
      for (auto& f : fibers) f.join();
    }
    cv.notify_all();
    for (auto& f : parked) f.join();
  });
  while (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::size_t churned = 0, violations = 0;
  for (int i = 0; i < 100; ++i) {
    const fiberleak::Snapshot snap = fiberleak::snapshot();
    for (const auto& f : snap.fibers) {
      if (f.name == "churn") ++churned;
      if (f.created_ns > snap.taken_at_ns || f.parked_ns > snap.taken_at_ns) ++violations;
    }
  }
  stop = true;
  churn.join();
  CHECK(churned > 100);
  CHECK(violations == 0);
}
