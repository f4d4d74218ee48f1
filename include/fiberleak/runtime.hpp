// fiberleak's runtime API: what a program on Boost.Fiber calls to have its
// fibers recorded. Link fiberleak::runtime (or fiberleak::fiberleak) and
// call install() on every scheduler thread before creating fibers there.
//
//   fiberleak::install();                                   // round_robin
//   fiberleak::install<boost::fibers::algo::shared_work>();
//   fiberleak::install<boost::fibers::algo::work_stealing>(threads);
//
// Threads that never call install() run untracked: their fibers are not in
// snapshots. Fibers that exist before install() on a thread are adopted when
// Boost next makes them ready: they appear with adopted=true, no parent and
// no creation stack (a fiber blocked at install time appears once it wakes).
#pragma once

#include <boost/fiber/algo/round_robin.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <string_view>
#include <utility>

#include <fiberleak/fiber_state.hpp>
#include <fiberleak/runtime_options.hpp>
#include <fiberleak/snapshot.hpp>


namespace fiberleak {

// Sets the runtime's options; call before the first install() for the
// capacities to apply (see RuntimeOptions). Returns false if some option
// could not be applied any more.
bool configure(const RuntimeOptions& options) noexcept;

namespace detail {
void install_algorithm(boost::intrusive_ptr<boost::fibers::algo::algorithm> inner);
void name_new_fiber(boost::fibers::fiber& f, std::string_view name) noexcept;
}  // namespace detail

// Puts the tracking scheduler in place on the calling thread, wrapping a new
// Algorithm(args...). Calling it again on the same thread replaces the
// wrapped algorithm (ready fibers move over, as with Boost's own
// use_scheduling_algorithm).
template <typename Algorithm = boost::fibers::algo::round_robin, typename... Args>
void install(Args&&... args) {
  detail::install_algorithm(
      boost::intrusive_ptr<boost::fibers::algo::algorithm>(new Algorithm(std::forward<Args>(args)...)));
}

// Whether install() ran on the calling thread.
bool installed() noexcept;

// Starts a fiber (launch::post) with a name set before it first runs.
template <typename Fn, typename... Args>
boost::fibers::fiber spawn(std::string_view name, Fn&& fn, Args&&... args) {
  boost::fibers::fiber f(boost::fibers::launch::post, std::forward<Fn>(fn), std::forward<Args>(args)...);
  detail::name_new_fiber(f, name);
  return f;
}

namespace this_fiber {
// Names the running fiber (truncated to 39 bytes). No effect on untracked threads.
void set_name(std::string_view name) noexcept;
// The running fiber's fiberleak id (kNoFiber on untracked threads).
FiberId id() noexcept;
}  // namespace this_fiber

// A consistent copy of all live tracked fibers. Any thread; allocates.
Snapshot snapshot();
// Counters only (cheap; no allocation).
RuntimeCounters counters() noexcept;
// Frames of a creation or park stack from a snapshot (valid forever).
StackView stack(StackId id) noexcept;

}  // namespace fiberleak
