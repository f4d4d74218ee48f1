#include "profiler/wait_graph.hpp"

#include <catch2/catch.hpp>

using fiberleak::FiberState;
using fiberleak::WaitKind;
using fiberleak::detail::DumpedFiber;
using fiberleak::detail::FiberDump;
using fiberleak::detail::WaitGraph;

namespace {

DumpedFiber parked(std::uint64_t id, const char* name, WaitKind wait, std::uint64_t waits_for = 0,
                   FiberState state = FiberState::blocked) {
  DumpedFiber f;
  f.id = fiberleak::FiberId{id};
  f.name = name;
  f.state = state;
  f.wait = wait;
  f.wait_reason = wait == WaitKind::mutex ? "mutex lock" : wait == WaitKind::join ? "join" : "chan send";
  f.waits_for = fiberleak::FiberId{waits_for};
  return f;
}

FiberDump dump_of(std::vector<DumpedFiber> fibers) {
  FiberDump d;
  d.waits_on_recorded = true;
  d.fibers = std::move(fibers);
  return d;
}

}  // namespace

TEST_CASE("two fibers that wait for each other's mutex are one deadlock, named", "[profiler][wait_graph]") {
  const FiberDump d = dump_of({parked(3, "a", WaitKind::mutex, 5), parked(5, "b", WaitKind::mutex, 3),
                               parked(7, "bystander", WaitKind::channel_push)});
  const WaitGraph g(d);
  REQUIRE(g.definite().size() == 2);
  const auto& a = g.definite().at(fiberleak::FiberId{3});
  CHECK(a.kind == "deadlock");
  CHECK(a.cycle == std::vector<fiberleak::FiberId>{fiberleak::FiberId{3}, fiberleak::FiberId{5}});
  CHECK(a.reason == "deadlock: fiber 3 \"a\" and fiber 5 \"b\" wait for each other (mutex lock, mutex lock)");
  CHECK(g.definite().at(fiberleak::FiberId{5}).cycle == a.cycle);
  CHECK_FALSE(g.definite().count(fiberleak::FiberId{7}));
}

TEST_CASE("a three-fiber cycle of mutexes and a join is a deadlock, and its waiters are definite too",
          "[profiler][wait_graph]") {
  // 1 joins 2; 2 waits for a mutex 3 holds; 3 waits for a mutex 1 holds. 4 waits for 3's mutex too.
  const FiberDump d = dump_of({parked(1, "", WaitKind::join, 2), parked(2, "", WaitKind::mutex, 3),
                               parked(3, "", WaitKind::mutex, 1), parked(4, "late", WaitKind::mutex, 1)});
  const WaitGraph g(d);
  REQUIRE(g.definite().size() == 4);
  CHECK(g.definite().at(fiberleak::FiberId{2}).cycle.size() == 3);
  CHECK(g.definite().at(fiberleak::FiberId{2}).reason ==
        "deadlock: fiber 1, fiber 2 and fiber 3 wait for each other (join, mutex lock, mutex lock)");
  CHECK(g.definite().at(fiberleak::FiberId{4}).kind == "waits on a leaked fiber");
  CHECK(g.definite().at(fiberleak::FiberId{4}).reason ==
        "waits in mutex lock for fiber 1, which never wakes (deadlock)");
}

TEST_CASE("a mutex whose owner ended makes its waiters definite, and theirs", "[profiler][wait_graph]") {
  DumpedFiber orphan = parked(8, "orphan", WaitKind::mutex);
  orphan.owner_ended = true;
  const FiberDump d = dump_of({orphan, parked(9, "joiner", WaitKind::join, 8)});
  const WaitGraph g(d);
  CHECK(g.definite().at(fiberleak::FiberId{8}).kind == "owner ended");
  CHECK(g.definite().at(fiberleak::FiberId{9}).reason ==
        "waits in join for fiber 8 \"orphan\", which never wakes (owner ended)");
}

TEST_CASE("timed waits and waits on live work are no edges: no verdict", "[profiler][wait_graph]") {
  // A try_lock_for loop (sleeping) in a "cycle" wakes by itself; a waiter on
  // a mutex held by a fiber that is itself waiting on a channel is not
  // provably stuck.
  const FiberDump d =
      dump_of({parked(1, "", WaitKind::mutex, 2, FiberState::sleeping), parked(2, "", WaitKind::mutex, 1),
               parked(3, "", WaitKind::mutex, 4), parked(4, "writer", WaitKind::channel_push)});
  const WaitGraph g(d);
  CHECK(g.definite().empty());
  CHECK(g.chain(fiberleak::FiberId{3}) == std::vector<fiberleak::FiberId>{fiberleak::FiberId{4}});
  CHECK(g.describe_chain(fiberleak::FiberId{3}) ==
        "waits in mutex lock for fiber 4 \"writer\", which waits in chan send");
  CHECK(g.chain(fiberleak::FiberId{4}).empty());
  CHECK(g.describe_chain(fiberleak::FiberId{4}).empty());
}
