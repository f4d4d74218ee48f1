#include "runtime/tracking_algorithm.hpp"

#include <dlfcn.h>

#include <boost/fiber/context.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "runtime/current_fiber.hpp"
#include "runtime/fiber_stack.hpp"
#include "runtime/stack_capture.hpp"
#include "runtime/tick_clock.hpp"
#include "runtime/waits_on.hpp"

namespace fiberleak::detail {
namespace {

using boost::fibers::context;
using boost::fibers::type;

std::atomic<std::uint32_t> g_thread_ordinals{0};

// This thread's TrackingAlgorithm, and whether the thread is exiting. Both
// trivially destructible, so they stay readable while the thread's TLS is
// torn down (Boost destroys the scheduler, and with it the algorithm, from
// a TLS destructor of its own).
thread_local TrackingAlgorithm* t_current = nullptr;
thread_local bool t_exiting = false;
// Constructed on install(), after Boost's own thread-local scheduler, so
// destroyed before it: by the time the algorithm dies, t_exiting is set.
struct ExitSentinel {
  ~ExitSentinel() { t_exiting = true; }
};
thread_local ExitSentinel t_exit_sentinel;

void set_state(FiberSlot& s, FiberState state) noexcept {
  s.state.store(static_cast<std::uint8_t>(state), std::memory_order_relaxed);
}
FiberState state_of(const FiberSlot& s) noexcept {
  return static_cast<FiberState>(s.state.load(std::memory_order_relaxed));
}

// A new fiber starts with its creator's labels (as a goroutine does). The
// creator is the running fiber, whose labels only its own thread writes:
// no seqlock read needed. Sixteen word copies, no allocation.
void inherit_labels(FiberSlot& child, const FiberSlot& parent) noexcept {
  for (std::size_t w = 0; w < LabelSet::kWords; ++w) {
    child.label_words[w].store(parent.label_words[w].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
}

}  // namespace

TrackingAlgorithm::TrackingAlgorithm(boost::intrusive_ptr<boost::fibers::algo::algorithm> inner,
                                     const PropertiesHooks* hooks) noexcept
    : inner_(std::move(inner)),
      properties_hooks_(hooks),
      registry_(&FiberRegistry::instance()),
      park_stacks_(registry_->stack_depth()),
      creation_stacks_(registry_->stack_depth()),
      thread_ordinal_(g_thread_ordinals.fetch_add(1, std::memory_order_relaxed) + 1) {}

TrackingAlgorithm::~TrackingAlgorithm() {
  if (t_current != this || t_exiting) return;
  // Replaced by someone else's use_scheduling_algorithm: this thread's
  // fibers run untracked from now on and their records stop changing.
  t_current = nullptr;
  current_fiber::publish(nullptr);
  registry_->count_uninstalled_thread();
  if (main_record_ != nullptr && main_record_->tracked()) {
    FiberSlot& s = main_record_->slot();
    s.begin_write();
    s.flags.store(s.flags.load(std::memory_order_relaxed) | FiberSlot::kFlagTrackingEnded, std::memory_order_relaxed);
    s.end_write();
  }
}

void TrackingAlgorithm::make_current() noexcept {
  (void)&t_exit_sentinel;  // constructed now, after Boost's scheduler
  t_current = this;
}

TrackingAlgorithm* TrackingAlgorithm::on_this_thread() noexcept { return t_current; }

__attribute__((always_inline)) inline StackId TrackingAlgorithm::caller_stack(ParkStackCache& cache,
                                                                              std::uintptr_t anchor, std::size_t skip,
                                                                              StackId (&hints)[2]) noexcept {
  const bool use_cache = registry_->cache_stacks();
  if (use_cache) {
    const StackId hit = cache.find(registry_->stacks(), anchor, hints);
    if (hit != kNoStack) {
      if (hit != hints[0]) {
        hints[1] = hints[0];
        hints[0] = hit;
      }
      return hit;
    }
  }
  std::uintptr_t pcs[kMaxStackDepth];
  // Inlined into its caller, so the frames counted by `skip` start there.
  const std::size_t n = capture_stack(pcs, registry_->stack_depth(), skip);
  bool inserted = false;
  const StackId id = registry_->stacks().insert(pcs, n, &inserted);
  // A stack seen before (here or on another thread) is likely to come back:
  // walk it once more, slowly, to learn where its return addresses live.
  if (use_cache && !inserted && id != kNoStack) {
    std::uintptr_t again[kMaxStackDepth];
    std::uintptr_t slots[kMaxStackDepth];
    const std::size_t m = capture_stack_with_slots(again, slots, registry_->stack_depth(), skip);
    if (m == n && std::equal(pcs, pcs + n, again)) cache.remember(id, anchor, slots, n);
  }
  hints[1] = hints[0];
  hints[0] = id;
  return id;
}

__attribute__((noinline)) boost::fibers::fiber_properties* TrackingAlgorithm::new_properties(context* ctx) noexcept {
  FiberRecord* record = new_record(ctx);
  if (properties_hooks_ == nullptr) return record;
  // The program's P, made as its algorithm would (a throwing P ends the
  // program, as it does untracked: Boost calls new_properties() from noexcept
  // hooks). Its record may be nullptr (heap exhausted): the fiber is untracked.
  return properties_hooks_->make(ctx, record);
}

inline FiberRecord* TrackingAlgorithm::new_record(context* ctx) noexcept {
  if (ctx->is_context(type::dispatcher_context)) return new (FiberRecord::Untracked{}) FiberRecord(ctx);
  auto* record = new FiberRecord(ctx);
  if (record == nullptr || !record->tracked()) return record;
  FiberSlot& s = record->slot();
  s.begin_write();
  s.thread.store(thread_ordinal_, std::memory_order_relaxed);
  s.stack_bytes.store(reserved_stack_bytes(ctx), std::memory_order_relaxed);
  if (ctx->is_context(type::main_context)) {
    s.flags.store(FiberSlot::kFlagMain, std::memory_order_relaxed);
    main_record_ = record;
  } else if (adopting_) {
    s.flags.store(FiberSlot::kFlagAdopted, std::memory_order_relaxed);
  } else {
    context* parent = context::active();
    if (parent != ctx && !parent->is_context(type::dispatcher_context)) {
      if (FiberRecord* p = record_of(parent); p != nullptr && p->tracked()) {
        s.parent.store(static_cast<std::uint64_t>(p->id()), std::memory_order_relaxed);
        inherit_labels(s, p->slot());
      }
    }
    // Frames skipped: new_properties and awakened.
    if (parent != ctx && registry_->capture_creation_stacks()) {
      const auto anchor = reinterpret_cast<std::uintptr_t>(__builtin_dwarf_cfa());
      s.creation_stack.store(static_cast<std::uint32_t>(caller_stack(creation_stacks_, anchor, 2, creation_hints_)),
                             std::memory_order_relaxed);
    }
  }
  s.end_write();
  return record;
}

void TrackingAlgorithm::adopt_main_fiber() noexcept {
  context* self = context::active();
  running_ = self;
  if (self->get_properties() == nullptr) self->set_properties(new_properties(self));
  if (FiberRecord* r = record_of(self); r != nullptr && r->tracked()) {
    if (self->is_context(type::main_context)) main_record_ = r;  // made by an earlier install() too
    FiberSlot& s = r->slot();
    s.begin_write();
    set_state(s, FiberState::running);
    s.thread.store(thread_ordinal_, std::memory_order_relaxed);
    s.end_write();
    current_fiber::publish(&s);
  }
}

void TrackingAlgorithm::adopt_dispatched_child(context* parent) noexcept {
  context* active = context::active();
  running_ = active;
  if (!active->is_context(type::worker_context)) return;
  if (active->get_properties() == nullptr) active->set_properties(new_properties(active));
  FiberRecord* child = record_of(active);
  if (child == nullptr || !child->tracked()) {
    current_fiber::publish(nullptr);
    return;
  }
  FiberSlot& s = child->slot();
  s.begin_write();
  if (FiberRecord* p = record_of(parent); p != nullptr && p->tracked()) {
    s.parent.store(static_cast<std::uint64_t>(p->id()), std::memory_order_relaxed);
    inherit_labels(s, p->slot());
  }
  set_state(s, FiberState::running);
  s.end_write();
  current_fiber::publish(&s);
}

void TrackingAlgorithm::awakened(context* ctx) noexcept {
  boost::fibers::fiber_properties* props = ctx->get_properties();
  if (__builtin_expect(props == nullptr, 0)) {
    props = new_properties(ctx);
    if (props == nullptr) {  // heap exhausted: the fiber runs untracked
      inner_->awakened(ctx);
      return;
    }
    ctx->set_properties(props);
  }
  // As algorithm_with_properties does: the algorithm a migrated fiber's
  // properties would notify is this thread's (a program's P is pointed at
  // the program's algorithm by its own awakened(), below).
  props->set_algorithm(this);
  awakened(ctx, record_from(props));
}

__attribute__((always_inline)) inline void TrackingAlgorithm::awakened(context* ctx, FiberRecord* record) noexcept {
  if (record != nullptr && !ctx->is_context(type::dispatcher_context) && record->tracked()) {
    FiberSlot& s = record->slot();
    // The wake is stamped with this thread's latest switch (see switch_ticks_).
    const std::uint64_t now = switch_ticks_ != 0 ? switch_ticks_ : TickClock::now();
    const FiberState before = state_of(s);
    s.begin_write();
    if (before == FiberState::blocked || before == FiberState::sleeping) {
      const std::uint64_t parked = s.parked_ticks.load(std::memory_order_relaxed);
      if (now > parked)
        s.blocked_ticks.store(s.blocked_ticks.load(std::memory_order_relaxed) + (now - parked),
                              std::memory_order_relaxed);
      // Boost's timer marks a timed wait it ends with -2 (scheduler::
      // sleep2ready_); a notify leaves -1 or 0 (see record_park()).
      if (const std::uint64_t waits_on = s.waits_on.load(std::memory_order_relaxed); waits_on != 0) {
        if (ctx->twstatus.load(std::memory_order_relaxed) == -2) {
          record->timed_out_at = now > parked ? now : parked;
        } else {
          record->last_woken_from = waits_on;
        }
      }
    }
    if (before != FiberState::yielded) set_state(s, FiberState::runnable);
    s.end_write();
  }
  // launch::dispatch runs a new fiber before any hook has seen it; the first
  // thing it does is make its parent ready, here, while the parent is still
  // running_ as far as pick_next() knows. Record the child now.
  if (ctx == running_) adopt_dispatched_child(ctx);
  inner_->awakened(ctx);
}

TrackingAlgorithm::Caller TrackingAlgorithm::caller_of_pick_next(const void* address) noexcept {
  for (const CallerEntry& e : callers_) {
    if (e.address == address) {
      last_caller_ = e;
      return e.caller;
    }
    if (e.address == nullptr) break;
  }
  // First sight of this call site: name it (warm-up only).
  Caller caller = Caller::unknown;
  Dl_info info{};
  if (dladdr(address, &info) != 0 && info.dli_sname != nullptr) {
    const char* name = info.dli_sname;
    constexpr const char* kPrefix = "_ZN5boost6fibers9scheduler";
    if (std::strncmp(name, kPrefix, std::strlen(kPrefix)) == 0) {
      const char* member = name + std::strlen(kPrefix);
      if (std::strncmp(member, "7suspend", 8) == 0)
        caller = Caller::suspend;
      else if (std::strncmp(member, "10wait_until", 12) == 0)
        caller = Caller::wait_until;
      else if (std::strncmp(member, "5yield", 6) == 0)
        caller = Caller::yield;
      else if (std::strncmp(member, "9terminate", 10) == 0)
        caller = Caller::terminate;
      else if (std::strncmp(member, "8dispatch", 9) == 0)
        caller = Caller::dispatch;
    }
  }
  for (CallerEntry& e : callers_) {
    if (e.address == nullptr) {
      e.address = address;
      e.caller = caller;
      break;
    }
  }
  return caller;
}

__attribute__((noinline)) void TrackingAlgorithm::record_park(context* self, Caller caller) noexcept {
  if (self->get_properties() == nullptr) {
    // A main fiber parking for the first time on a thread installed late.
    boost::fibers::fiber_properties* props = new_properties(self);
    if (props == nullptr) return;
    self->set_properties(props);
  }
  FiberRecord* record = record_of(self);
  if (record == nullptr || !record->tracked()) return;
  FiberSlot& s = record->slot();
  if (caller == Caller::terminate) {
    s.begin_write();
    set_state(s, FiberState::done);
    s.end_write();
    return;
  }
  FiberState state = FiberState::blocked;  // unknown callers are taken as blocked
  if (caller == Caller::wait_until) state = FiberState::sleeping;
  if (caller == Caller::yield) state = FiberState::yielded;
  // Frames skipped: record_park and pick_next.
  const StackId stack =
      registry_->capture_park_stacks()
          ? caller_stack(park_stacks_, reinterpret_cast<std::uintptr_t>(__builtin_dwarf_cfa()), 2, record->recent_parks)
          : kNoStack;
  const std::uint64_t now = switch_ticks_;
  const std::uint64_t waits_on = caller == Caller::yield ? 0 : wait_queue_of(self);
  // Back on the primitive its latest park was on, which ended by the
  // wait's timeout, at the same site: the fiber re-arms one continuous
  // wait. Back on a primitive whose notify woke it before: it is in use.
  const std::uint64_t timed_out_at = record->timed_out_at;  // set by awakened() only, reset here
  record->timed_out_at = 0;
  const bool rearmed = waits_on != 0 && timed_out_at != 0 && waits_on == s.waits_on.load(std::memory_order_relaxed) &&
                       stack == static_cast<StackId>(s.park_stack.load(std::memory_order_relaxed));
  const std::uint8_t old_flags = s.flags.load(std::memory_order_relaxed);
  std::uint8_t flags = old_flags & ~FiberSlot::kParkFlags;
  if (rearmed) flags |= FiberSlot::kFlagRearmed | (old_flags & FiberSlot::kFlagRewaits);  // the wait goes on
  if (!rearmed && waits_on != 0 && waits_on == record->last_woken_from) flags |= FiberSlot::kFlagRewaits;
  s.begin_write();
  set_state(s, state);
  if (rearmed) {
    // The park that timed out is not closed after all: awakened() counted it.
    const std::uint64_t parked = s.parked_ticks.load(std::memory_order_relaxed);
    if (timed_out_at > parked)
      s.blocked_ticks.store(s.blocked_ticks.load(std::memory_order_relaxed) - (timed_out_at - parked),
                            std::memory_order_relaxed);
  } else {
    s.parked_ticks.store(now, std::memory_order_relaxed);
  }
  s.flags.store(flags, std::memory_order_relaxed);
  s.parks.store(s.parks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.park_stack.store(static_cast<std::uint32_t>(stack), std::memory_order_relaxed);
  s.waits_on.store(waits_on, std::memory_order_relaxed);
  s.end_write();
}

context* TrackingAlgorithm::pick_next() noexcept {
  switch_ticks_ = TickClock::now();
  context* self = running_;
  if (self != nullptr && !self->is_context(type::dispatcher_context)) {
    const void* from = __builtin_return_address(0);
    record_park(self, from == last_caller_.address ? last_caller_.caller : caller_of_pick_next(from));
  }
  context* next = inner_->pick_next();
  running_ = next;
  if (next != nullptr && !next->is_context(type::dispatcher_context)) {
    FiberRecord* record = record_of(next);
    if (record != nullptr && record->tracked()) {
      FiberSlot& s = record->slot();
      s.begin_write();
      set_state(s, FiberState::running);
      s.thread.store(thread_ordinal_, std::memory_order_relaxed);
      s.switches.store(s.switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      s.end_write();
      current_fiber::publish(&s);
      return next;
    }
  }
  current_fiber::publish(nullptr);
  return next;
}

}  // namespace fiberleak::detail
