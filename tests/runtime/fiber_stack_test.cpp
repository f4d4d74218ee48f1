// The stack each fiber reserved, read at creation whatever allocator made
// it (runtime/fiber_stack.hpp); unknown (0) for a thread's main fiber.
#include <boost/context/pooled_fixedsize_stack.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <array>

#include "runtime_test_support.hpp"

namespace ft = fiberleak::detail::testing;

namespace {
// Runs fn in a fiber made with the allocator and returns the size the
// snapshot reports for it while it runs.
template <typename Alloc, typename Fn>
std::uint64_t recorded_stack(Alloc alloc, Fn fn) {
  std::uint64_t bytes = ~std::uint64_t{0};
  boost::fibers::fiber(std::allocator_arg, alloc,
                       [&bytes, fn] {  // fn by value: it lives in Boost's control block
                         fn();
                         const auto me = ft::find_fiber(fiberleak::snapshot(), fiberleak::this_fiber::id());
                         if (me) bytes = me->stack_bytes;
                       })
      .join();
  return bytes;
}
}  // namespace

TEST_CASE("a fiber's reserved stack size is recorded for every stack allocator", "[runtime]") {
  fiberleak::install();
  auto nothing = [] {};
  CHECK(recorded_stack(boost::fibers::default_stack(), nothing) == boost::context::stack_traits::default_size());
  CHECK(recorded_stack(boost::fibers::fixedsize_stack(64 * 1024), nothing) == 64 * 1024);
  CHECK(recorded_stack(boost::context::pooled_fixedsize_stack(32 * 1024), nothing) == 32 * 1024);
  // protected_fixedsize_stack adds its guard page.
  const std::uint64_t page = static_cast<std::uint64_t>(boost::context::stack_traits::page_size());
  CHECK(recorded_stack(boost::context::protected_fixedsize_stack(256 * 1024), nothing) == 256 * 1024 + page);
  // A big capture makes Boost's control block (on the stack's top) larger.
  std::array<char, 3000> big{};
  big[0] = 1;
  CHECK(recorded_stack(boost::fibers::fixedsize_stack(128 * 1024), [big] { (void)big[0]; }) == 128 * 1024);

  const auto me = ft::find_fiber(fiberleak::snapshot(), fiberleak::this_fiber::id());
  REQUIRE(me);
  CHECK(me->is_main);
  CHECK(me->stack_bytes == 0);
}

// Symbolization (libdw reading DWARF, the demangler) recurses deeply; it runs
// on a stack of its own, so a fiber with a small stack may take a process's
// first snapshot. Each test case runs in a process of its own: this one is
// the first to symbolize.
TEST_CASE("a fiber with a small stack can take the first snapshot of a process", "[runtime]") {
  fiberleak::install();
  boost::fibers::unbuffered_channel<int> never;
  fiberleak::FiberId parked_id = fiberleak::kNoFiber;
  boost::fibers::fiber parked([&never, &parked_id] {
    parked_id = fiberleak::this_fiber::id();
    int v = 0;
    never.pop(v);
  });
  bool classified = false;
  boost::fibers::fiber(std::allocator_arg, boost::context::protected_fixedsize_stack(48 * 1024), [&] {
    const auto snap = fiberleak::snapshot();  // classifies the parked fiber's wait
    const auto f = ft::find_fiber(snap, parked_id);
    classified =
        f && f->wait == fiberleak::WaitKind::channel_pop && ft::stack_contains(f->park_stack, "unbuffered_channel");
  }).join();
  CHECK(classified);
  never.close();
  parked.join();
}
