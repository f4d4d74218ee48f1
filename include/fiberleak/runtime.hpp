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

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/algo/round_robin.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/properties.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
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

// Programs whose algorithm keeps fiber properties of its own
// (boost::fibers::algo::algorithm_with_properties<P>, Boost's way to do
// priorities) keep them under tracking: Boost holds one properties object
// per fiber, so fiberleak gives each fiber a PropertiesWithRecord<P>, which
// is the program's P (this_fiber::properties<P>() and the algorithm's
// static_cast find it; P::notify() reaches its property_change()) with
// fiberleak's record beside it. The record is opaque here.
struct RecordLink {
  void* record;
};
void release_record(void* record) noexcept;

template <typename P>
class PropertiesWithRecord final : public P, public RecordLink {
 public:
  PropertiesWithRecord(boost::fibers::context* ctx, void* record) : P(ctx), RecordLink{record} {}
  PropertiesWithRecord(const PropertiesWithRecord&) = delete;
  PropertiesWithRecord& operator=(const PropertiesWithRecord&) = delete;
  ~PropertiesWithRecord() override { release_record(record); }
};

// What the tracking algorithm needs to make and read such properties.
struct PropertiesHooks {
  boost::fibers::fiber_properties* (*make)(boost::fibers::context* ctx, void* record);
  // From a fiber_properties* to its RecordLink, in bytes.
  std::ptrdiff_t link_offset;
};

template <typename P>
boost::fibers::fiber_properties* make_properties(boost::fibers::context* ctx, void* record) {
  return new PropertiesWithRecord<P>(ctx, record);
}
template <typename P>
std::ptrdiff_t record_link_offset() noexcept {
  // Pointer adjustments between the bases of one (never constructed) object.
  alignas(PropertiesWithRecord<P>) static unsigned char storage[sizeof(PropertiesWithRecord<P>)];
  auto* object = reinterpret_cast<PropertiesWithRecord<P>*>(storage);
  return reinterpret_cast<unsigned char*>(static_cast<RecordLink*>(object)) -
         reinterpret_cast<unsigned char*>(static_cast<boost::fibers::fiber_properties*>(object));
}

// The P of an algorithm derived from algorithm_with_properties<P>; void otherwise.
template <typename P>
P* properties_of(boost::fibers::algo::algorithm_with_properties<P>*);
void* properties_of(...);
template <typename Algorithm>
using properties_of_t = std::remove_pointer_t<decltype(properties_of(static_cast<Algorithm*>(nullptr)))>;

void install_algorithm(boost::intrusive_ptr<boost::fibers::algo::algorithm> inner, const PropertiesHooks* hooks);
void name_new_fiber(boost::fibers::fiber& f, std::string_view name) noexcept;

}  // namespace detail

// Puts the tracking scheduler in place on the calling thread, wrapping a new
// Algorithm(args...): round_robin, shared_work, work_stealing, or the
// program's own, including one derived from algorithm_with_properties<P>
// (its fibers get their P as untracked; see detail::PropertiesWithRecord).
// Calling it again on the same thread replaces the wrapped algorithm (ready
// fibers move over, as with Boost's own use_scheduling_algorithm). Call it
// instead of use_scheduling_algorithm, before the thread's fibers start: a
// later use_scheduling_algorithm on the thread ends tracking there.
template <typename Algorithm = boost::fibers::algo::round_robin, typename... Args>
void install(Args&&... args) {
  static_assert(std::is_base_of_v<boost::fibers::algo::algorithm, Algorithm>,
                "fiberleak::install<Algorithm>: Algorithm must be a boost::fibers::algo::algorithm");
  using Properties = detail::properties_of_t<Algorithm>;
  const detail::PropertiesHooks* hooks = nullptr;
  if constexpr (!std::is_void_v<Properties>) {
    static_assert(
        std::is_same_v<decltype(&Algorithm::new_properties),
                       boost::fibers::fiber_properties* (
                           boost::fibers::algo::algorithm_with_properties<Properties>::*)(boost::fibers::context*)>,
        "fiberleak::install<Algorithm>: Algorithm overrides new_properties(); fiberleak makes each "
        "fiber's properties itself (its P and fiberleak's record in one object), so a custom "
        "new_properties() cannot be honoured. Remove the override (P is made with new P(ctx)).");
    static const detail::PropertiesHooks properties_hooks{&detail::make_properties<Properties>,
                                                          detail::record_link_offset<Properties>()};
    hooks = &properties_hooks;
  }
  detail::install_algorithm(
      boost::intrusive_ptr<boost::fibers::algo::algorithm>(new Algorithm(std::forward<Args>(args)...)), hooks);
}

// Whether the calling thread is tracked: install() ran on it and no later
// use_scheduling_algorithm replaced fiberleak's algorithm.
bool installed() noexcept;

// Starts a fiber (launch::post) with a name set before it first runs.
template <typename Fn, typename... Args>
boost::fibers::fiber spawn(std::string_view name, Fn&& fn, Args&&... args) {
  boost::fibers::fiber f(boost::fibers::launch::post, std::forward<Fn>(fn), std::forward<Args>(args)...);
  detail::name_new_fiber(f, name);
  return f;
}

// Labels the running fiber with key=value while the scope lives, as Go's
// pprof.Do: fibers it creates meanwhile (fiberleak::spawn, a plain
// boost::fibers::fiber, async, launch::dispatch) start with all its labels
// and keep them. Nested scopes add labels; one with a key already set
// replaces its value until it ends. The destructor restores the labels the
// fiber had before. Labels show in every profile and dump (pprof tags,
// debug=1/2 labels, the JSON, leak findings) and select fibers in
// /debug/fibers?label=key:value and in ignore rules.
//
//   fiberleak::label_scope request("request", id);
//   handle(request);  // fibers started here carry request=<id>
//
// A fiber holds up to 128 bytes of keys and values; a label that does not
// fit (or has an empty key or a NUL byte) is not set and is counted in
// RuntimeCounters::labels_dropped. Costs two copies of those 128 bytes; no
// allocation. Create and destroy it on the same fiber (a local variable);
// no effect on untracked threads.
class label_scope {
 public:
  label_scope(std::string_view key, std::string_view value) noexcept;
  ~label_scope();
  label_scope(const label_scope&) = delete;
  label_scope& operator=(const label_scope&) = delete;

 private:
  void* record_ = nullptr;   // the fiber's record; nullptr: nothing to restore
  std::uint64_t saved_[16];  // its labels before (detail::LabelSet's words)
};

namespace this_fiber {
// Names the running fiber (truncated to 39 bytes). No effect on untracked threads.
// The name shows as the label "fiber".
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
