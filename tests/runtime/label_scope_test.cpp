// label_scope: what the running fiber carries, what the fibers it starts
// inherit (however they are started), and what is restored and counted.
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <fiberleak/runtime.hpp>

#include "runtime_test_support.hpp"

using fiberleak::Label;
namespace ft = fiberleak::detail::testing;

namespace {
std::vector<Label> labels_of(fiberleak::FiberId id) {
  const auto f = ft::find_fiber(fiberleak::snapshot(), id);
  REQUIRE(f.has_value());
  return f->labels;
}
}  // namespace

TEST_CASE("a label scope labels the running fiber and restores its labels when it ends", "[runtime]") {
  fiberleak::install();
  boost::fibers::fiber([] {
    const auto me = fiberleak::this_fiber::id();
    CHECK(labels_of(me).empty());
    {
      fiberleak::label_scope outer("handler", "users");
      CHECK(labels_of(me) == std::vector<Label>{{"handler", "users"}});
      {
        fiberleak::label_scope inner("handler", "admin");
        fiberleak::label_scope request("request", "7");
        CHECK(labels_of(me) == std::vector<Label>{{"handler", "admin"}, {"request", "7"}});
      }
      CHECK(labels_of(me) == std::vector<Label>{{"handler", "users"}});
    }
    CHECK(labels_of(me).empty());
  }).join();
}

TEST_CASE("fibers started inside a label scope inherit its labels, however they are started", "[runtime]") {
  fiberleak::install();
  boost::fibers::unbuffered_channel<int> hold;
  std::vector<fiberleak::FiberId> ids;
  std::vector<boost::fibers::fiber> fibers;
  fiberleak::FiberId grandchild = fiberleak::kNoFiber;
  boost::fibers::future<void> done;
  auto wait = [&] {
    ids.push_back(fiberleak::this_fiber::id());
    int v;
    hold.pop(v);
  };
  boost::fibers::fiber parent([&] {
    fiberleak::label_scope test("test", "inherits");
    fibers.emplace_back(wait);                                   // plain fiber, launch::post
    fibers.push_back(fiberleak::spawn("spawned", wait));         // fiberleak::spawn
    fibers.emplace_back(boost::fibers::launch::dispatch, wait);  // runs before any hook saw it
    done = boost::fibers::async(wait);                           // async
    fibers.emplace_back([&] {                                    // a grandchild, after the scope ends
      fibers.emplace_back([&] {
        grandchild = fiberleak::this_fiber::id();
        int v;
        hold.pop(v);
      });
    });
  });
  parent.join();
  while (ids.size() < 4 || grandchild == fiberleak::kNoFiber) boost::this_fiber::yield();
  const std::vector<Label> expected{{"test", "inherits"}};
  for (const auto id : ids) CHECK(labels_of(id) == expected);
  CHECK(labels_of(grandchild) == expected);
  CHECK(labels_of(fiberleak::this_fiber::id()).empty());  // main never had it
  for (int i = 0; i < 5; ++i) hold.push(i);
  for (auto& f : fibers) f.join();
  done.get();
}

TEST_CASE("a label that does not fit is not set and is counted", "[runtime]") {
  fiberleak::install();
  boost::fibers::fiber([] {
    const auto dropped = fiberleak::counters().labels_dropped;
    fiberleak::label_scope fits("k", std::string(100, 'v'));
    fiberleak::label_scope too_big("other", std::string(100, 'w'));
    fiberleak::label_scope empty_key("", "v");
    CHECK(fiberleak::counters().labels_dropped == dropped + 2);
    CHECK(labels_of(fiberleak::this_fiber::id()) == std::vector<Label>{{"k", std::string(100, 'v')}});
  }).join();
}

TEST_CASE("a label scope on an untracked thread does nothing", "[runtime]") {
  std::thread([] {
    fiberleak::label_scope s("k", "v");
    CHECK(fiberleak::this_fiber::id() == fiberleak::kNoFiber);
  }).join();
}
