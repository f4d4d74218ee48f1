// FiberDump: the symbolized, source-neutral picture of a program's fibers
// that every renderer and the leak rules work on.
//
// Built from a runtime Snapshot in-process (symbolize_snapshot()), decoded
// from a fiberleak target's JSON by the daemon, or parsed from a Go
// service's goroutine?debug=2 dump, so one set of renderers and one set of
// leak rules serve all three. Plain values; not thread-safe to mutate.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <fiberleak/fiber_state.hpp>
#include <fiberleak/snapshot.hpp>

namespace fiberleak::detail {

// One frame, innermost first. Inlined functions are separate frames with the
// same pc (as in Go dumps and pprof Locations with several Lines).
struct DumpFrame {
  std::uint64_t pc = 0;  // return address (0 when unknown, e.g. parsed dumps)
  std::string function;  // demangled; "?" when unknown
  std::string file;      // empty when unknown
  int line = 0;
  bool inlined = false;  // true for all but the last entry of a pc's inline chain
};

// A symbolized stack, shared (immutable) by every fiber parked at the same
// place: a dump of 100k fibers at five sites holds five stacks, not 100k
// copies of long C++ names. Converts from a frame vector.
class SharedStack {
 public:
  SharedStack() = default;
  SharedStack(std::vector<DumpFrame> frames)  // NOLINT: implicit on purpose
      : frames_(std::make_shared<const std::vector<DumpFrame>>(std::move(frames))) {}
  const std::vector<DumpFrame>& frames() const { return frames_ ? *frames_ : no_frames(); }
  std::vector<DumpFrame>::const_iterator begin() const { return frames().begin(); }
  std::vector<DumpFrame>::const_iterator end() const { return frames().end(); }
  std::size_t size() const { return frames().size(); }
  bool empty() const { return frames().empty(); }
  const DumpFrame& operator[](std::size_t i) const { return frames()[i]; }
  const DumpFrame& front() const { return frames().front(); }
  // Equal identities mean the same stack object (equal content is not implied otherwise).
  const void* identity() const { return frames_.get(); }

 private:
  static const std::vector<DumpFrame>& no_frames() {
    static const std::vector<DumpFrame> none;
    return none;
  }
  std::shared_ptr<const std::vector<DumpFrame>> frames_;
};

// Content keys of stacks ("equal key, equal frames"), computed once per
// stack object: fibers built in-process share objects, parsed ones do not.
class StackKeys {
 public:
  const std::string& key(const SharedStack& stack) {
    if (stack.identity() != nullptr) {
      auto it = keys_.find(stack.identity());
      if (it != keys_.end()) return it->second;
    }
    std::string k;
    for (const DumpFrame& f : stack) {
      k += std::to_string(f.pc);
      if (f.pc == 0) k += f.function + ':' + std::to_string(f.line);
      k += ',';
    }
    if (stack.identity() == nullptr) return scratch_ = std::move(k);
    return keys_.emplace(stack.identity(), std::move(k)).first->second;
  }

 private:
  std::unordered_map<const void*, std::string> keys_;
  std::string scratch_;
};

struct DumpedFiber {
  FiberId id = kNoFiber;
  FiberId parent = kNoFiber;  // kNoFiber: none/unknown
  std::string name;
  std::vector<Label> labels;  // sorted by key; the name is not among them (see shown_labels())
  FiberState state = FiberState::runnable;
  WaitKind wait = WaitKind::none;
  std::string wait_reason;  // Go's words ("chan receive"); from the source for Go dumps
  // How long the current park has lasted. exact: measured (fiberleak);
  // otherwise a lower bound (Go prints whole minutes, only after a GC).
  std::int64_t blocked_ns = 0;
  bool blocked_exact = true;
  std::int64_t created_ns = 0;        // steady_clock ns; 0 unknown
  std::int64_t blocked_total_ns = 0;  // all parks so far
  std::uint64_t parks = 0;
  bool is_main = false;
  bool locked_to_thread = false;  // Go: "locked to thread"
  std::uint32_t thread = 0;
  // What the fiber costs: the stack it reserved (0 unknown: main fibers, Go)
  // and the estimated heap bytes it allocated that are still live (empty
  // unless the heap profiler runs; attach_heap_live_bytes() fills it).
  std::uint64_t stack_bytes = 0;
  std::optional<std::int64_t> heap_live_bytes;
  // What it waits on and for whom (FiberSnapshot's fields of the same
  // names; 0 / false where the source does not record them, e.g. Go).
  std::uint64_t waits_on = 0;
  FiberId waits_for = kNoFiber;
  bool owner_ended = false;
  bool rearmed = false;        // blocked_ns spans a re-armed timed wait (FiberSnapshot::rearmed)
  bool rewaits = false;        // parked again on the primitive that last woke it (FiberSnapshot::rewaits)
  SharedStack stack;           // park stack (or current stack), innermost first
  SharedStack creation_stack;  // where it was created, innermost first

  // What every renderer shows as the fiber's labels: its labels, and its
  // name as the label "fiber" (unless a label of that key was set).
  std::vector<Label> shown_labels() const {
    std::vector<Label> out = labels;
    if (!name.empty()) {
      auto at = std::lower_bound(out.begin(), out.end(), Label{"fiber", ""});
      if (at == out.end() || at->key != "fiber") out.insert(at, Label{"fiber", name});
    }
    return out;
  }

  // Parked in a wait that names another fiber (a mutex, a join).
  bool parked_wait_for_target() const {
    return (state == FiberState::blocked || state == FiberState::sleeping) &&
           (wait == WaitKind::mutex || wait == WaitKind::join);
  }
};

struct FiberDump {
  std::int64_t taken_at_ns = 0;    // steady_clock ns of the source
  bool waits_on_recorded = false;  // the source recorded waits_on/waits_for (fiberleak on Boost 1.74)
  std::vector<DumpedFiber> fibers;
};

// What decoding a dump that came from outside (a target's JSON, a Go
// dump) may cost in memory: kExpansion times the text plus kSlack (small
// documents), so that no document, however shaped, makes fiberleakd hold
// more than a few times the body it was sent (realistic ones decode to
// about their own size). Costs are estimates of heap bytes: structs, vector
// slots as the vectors grow, strings too long for the short-string buffer.
// Not thread-safe.
class DecodeBudget {
 public:
  static constexpr std::size_t kExpansion = 4;
  static constexpr std::size_t kSlack = std::size_t{1} << 20;

  explicit DecodeBudget(std::size_t text_bytes) : left_(text_bytes * kExpansion + kSlack) {}
  // Each returns false once the total spent passes the budget.
  // The fiber just appended to `fibers` (its slot when the vector grew, and
  // what it holds: strings, the frames of the stacks it holds now).
  bool spend_appended(const std::vector<DumpedFiber>& fibers) {
    const DumpedFiber& f = fibers.back();
    return spend_growth(fibers, fibers_capacity_) &&
           spend(heap_bytes(f.name) + heap_bytes(f.wait_reason) + frames_bytes(f.stack.frames()) +
                 frames_bytes(f.creation_stack.frames()));
  }
  // A stack shared by several fibers, counted once.
  bool spend(const std::vector<DumpFrame>& frames) { return spend(sizeof(SharedStack) * 2 + frames_bytes(frames)); }
  // Anything else the decoder keeps.
  bool spend(std::size_t bytes) {
    if (bytes > left_) {
      left_ = 0;
      return false;
    }
    left_ -= bytes;
    return true;
  }

 private:
  template <typename T>
  bool spend_growth(const std::vector<T>& v, std::size_t& seen) {
    if (v.capacity() <= seen) return true;
    const std::size_t grown = (v.capacity() - seen) * sizeof(T);
    seen = v.capacity();
    return spend(grown);
  }
  static std::size_t heap_bytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 17 : 0; }
  static std::size_t frames_bytes(const std::vector<DumpFrame>& frames) {
    std::size_t n = frames.capacity() * sizeof(DumpFrame);
    for (const DumpFrame& f : frames) n += heap_bytes(f.function) + heap_bytes(f.file);
    return n;
  }
  std::size_t left_;
  std::size_t fibers_capacity_ = 0;
};

}  // namespace fiberleak::detail
