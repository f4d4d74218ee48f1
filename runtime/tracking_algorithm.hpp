// TrackingAlgorithm: the scheduling algorithm fiberleak::install() puts in
// place. It wraps the program's own algorithm (round_robin, shared_work,
// work_stealing, or any other) and records every fiber's transitions in the
// FiberRegistry, without patching Boost.
//
// Where each hook runs (Boost 1.74, DESIGN.md):
//  - new_properties(): lazily at a fiber's first awakened(); for
//    launch::post on the parent's stack, so the parent and the creation
//    stack are captured there.
//  - pick_next(): on the parking fiber's own stack with context::active()
//    still that fiber; the Boost function that called pick_next tells why it
//    parks (suspend: blocked, wait_until: sleeping, yield, terminate).
//  - awakened(): on every transition to ready.
// One instance per scheduler thread; its hooks run on that thread only
// (remote wake-ups reach it through Boost's remote ready queue). All hooks
// are noexcept and never log, block or allocate after warm-up.
#pragma once

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/intrusive_ptr.hpp>

#include <chrono>
#include <cstdint>

#include <fiberleak/runtime.hpp>

#include "runtime/fiber_record.hpp"
#include "runtime/park_stack_cache.hpp"

namespace fiberleak::detail {

// The base is algorithm_with_properties_base, not algorithm_with_properties
// <FiberRecord>: that template's awakened() reaches the fiber's properties
// through two out-of-line Boost calls per wake-up (about 100 of the ~570
// instructions tracking added to a ping-pong round trip); awakened() below
// does the same with context's inline accessors.
class TrackingAlgorithm final : public boost::fibers::algo::algorithm_with_properties_base {
 public:
  // hooks: how to make and read the program's own fiber properties when
  // `inner` is an algorithm_with_properties<P> (nullptr otherwise; see
  // <fiberleak/runtime.hpp>).
  TrackingAlgorithm(boost::intrusive_ptr<boost::fibers::algo::algorithm> inner, const PropertiesHooks* hooks) noexcept;

  void awakened(boost::fibers::context* ctx) noexcept override;
  boost::fibers::context* pick_next() noexcept override;
  bool has_ready_fibers() const noexcept override { return inner_->has_ready_fibers(); }
  void suspend_until(std::chrono::steady_clock::time_point const& tp) noexcept override { inner_->suspend_until(tp); }
  void notify() noexcept override { inner_->notify(); }
  // The properties of a fiber seen for the first time (its first wake-up):
  // its FiberRecord, or the program's P with the record beside it.
  boost::fibers::fiber_properties* new_properties(boost::fibers::context* ctx) noexcept;
  // FiberRecord never calls fiber_properties::notify(); a program's P
  // notifies the program's algorithm, which its awakened() names.
  void property_change_(boost::fibers::context*, boost::fibers::fiber_properties*) noexcept override {}

  // A later use_scheduling_algorithm on the thread destroys this algorithm:
  // counted (threads_uninstalled) and the main fiber's record says so.
  // Thread exit and install() again are expected ends.
  ~TrackingAlgorithm() override;

  // Makes this the calling thread's algorithm (before Boost's set_algo()
  // destroys the previous one). Installed threads: on_this_thread() != nullptr.
  void make_current() noexcept;
  static TrackingAlgorithm* on_this_thread() noexcept;

  // Gives the calling thread's main fiber (the active context) a record, and
  // marks fibers that Boost hands over during set_algo() as adopted. Called
  // by install() on the thread being installed.
  void adopt_main_fiber() noexcept;
  void set_adopting(bool on) noexcept { adopting_ = on; }

 private:
  // Which Boost scheduler function called pick_next().
  enum class Caller : std::uint8_t { unknown, suspend, wait_until, yield, terminate, dispatch };
  Caller caller_of_pick_next(const void* return_address) noexcept;
  FiberRecord* record_of(boost::fibers::context* ctx) noexcept {
    return record_from(ctx->get_properties());  // inline, unlike the base class helper
  }
  // The record of a fiber's properties object (nullptr for nullptr).
  FiberRecord* record_from(boost::fibers::fiber_properties* props) noexcept {
    if (__builtin_expect(properties_hooks_ == nullptr, 1) || props == nullptr) return static_cast<FiberRecord*>(props);
    return static_cast<FiberRecord*>(
        reinterpret_cast<RecordLink*>(reinterpret_cast<unsigned char*>(props) + properties_hooks_->link_offset)
            ->record);
  }
  FiberRecord* new_record(boost::fibers::context* ctx) noexcept;
  void awakened(boost::fibers::context* ctx, FiberRecord* record) noexcept;
  void record_park(boost::fibers::context* self, Caller caller) noexcept;
  void adopt_dispatched_child(boost::fibers::context* parent) noexcept;
  // The stack of the hook's caller: from `cache` when it recognises it at
  // `anchor` (the calling hook's CFA), else unwound, skipping `skip` frames
  // above the caller of this function.
  StackId caller_stack(ParkStackCache& cache, std::uintptr_t anchor, std::size_t skip, StackId (&hints)[2]) noexcept;

  boost::intrusive_ptr<boost::fibers::algo::algorithm> inner_;
  const PropertiesHooks* properties_hooks_;
  FiberRegistry* registry_;
  // The context this thread runs now, as the hooks have seen it: the last
  // pick_next() result (nullptr: the dispatcher). Saves a call to
  // context::active() (~140 instructions with its TLS lookup) in every
  // pick_next(). The one switch Boost makes without pick_next, launch::dispatch,
  // is caught in awakened(): the parent is made ready while it is running_.
  boost::fibers::context* running_ = nullptr;
  // The time of this thread's latest pick_next(): the park time of the fiber
  // parking there, and the time given to wake-ups until the next switch.
  // One clock read per switch instead of one per park and per wake (rdtsc is
  // ~11 ns here, most of the tracking cost); wake times, and so blocked
  // totals, are as fine as the waking thread's scheduling slices. The
  // current park's length, which the leak rules use, stays exact.
  std::uint64_t switch_ticks_ = 0;
  ParkStackCache park_stacks_;
  ParkStackCache creation_stacks_;
  StackId creation_hints_[2] = {kNoStack, kNoStack};  // the thread's latest spawn sites
  std::uint32_t thread_ordinal_;
  bool adopting_ = false;
  FiberRecord* main_record_ = nullptr;  // this thread's main fiber's, once it has one
  // Return address -> caller; Boost has a handful of call sites, learned on
  // first sight (dladdr: warm-up only).
  struct CallerEntry {
    const void* address = nullptr;
    Caller caller = Caller::unknown;
  };
  CallerEntry callers_[16];
  CallerEntry last_caller_;  // the latest lookup: parks in a loop repeat it
};

}  // namespace fiberleak::detail
