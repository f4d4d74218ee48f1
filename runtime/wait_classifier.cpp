#include "runtime/wait_classifier.hpp"

#include "runtime/frame_info.hpp"

namespace fiberleak::detail {
namespace {

bool contains(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

}  // namespace

WaitKind WaitClassifier::kind_of_function(const std::string& name) {
  if (!contains(name, "boost::fibers::")) return WaitKind::none;
  if (contains(name, "boost::fibers::barrier::")) return WaitKind::barrier;
  if (contains(name, "_channel<")) {
    // push(), push_wait_for(), try_push() ... / pop(), value_pop(), pop_wait_until() ...
    if (contains(name, ">::push") || contains(name, ">::try_push")) return WaitKind::channel_push;
    if (contains(name, ">::pop") || contains(name, ">::value_pop") || contains(name, ">::try_pop") ||
        contains(name, "::iterator::increment_")) {
      return WaitKind::channel_pop;
    }
    return WaitKind::none;
  }
  if (contains(name, "mutex::lock") || contains(name, "mutex::try_lock_until") ||
      contains(name, "mutex::try_lock_for")) {
    return WaitKind::mutex;
  }
  if (contains(name, "condition_variable")) return WaitKind::condition_variable;
  if (contains(name, "future<") || contains(name, "future_base") || contains(name, "shared_state"))
    return WaitKind::future;
  if (contains(name, "boost::fibers::fiber::join") || contains(name, "boost::fibers::context::join"))
    return WaitKind::join;
  if (contains(name, "this_fiber::sleep_") || name == "boost::fibers::context::wait_until") {
    return WaitKind::sleep;
  }
  return WaitKind::none;
}

WaitKind WaitClassifier::classify(StackId park_stack, FiberState state) const {
  const std::uint8_t cached = stacks_.annotation(park_stack);
  if (cached != 0) return static_cast<WaitKind>(cached - 1);
  const StackView frames = stacks_.frames(park_stack);
  if (frames.empty()) return WaitKind::unknown;

  WaitKind kind = WaitKind::none;
  bool in_user_code = false;
  for (std::uintptr_t pc : frames) {
    // Inlined functions first: at -O2 a channel's pop() is usually inlined
    // into its caller, so its name is only in the DWARF inline records.
    for (const FrameInfo& f : describe_pc(pc - 1)) {
      if (f.function.empty()) {
        in_user_code = true;  // an unnamed frame: treat as user code
        break;
      }
      const WaitKind k = kind_of_function(f.function);
      if (k != WaitKind::none) {
        kind = k;  // keep looking outward: future::get waits in a condition variable
      } else if (!is_library_frame(f.function, f.file)) {
        in_user_code = true;  // first frame of user code
        break;
      }
    }
    if (in_user_code) break;
  }
  if (kind == WaitKind::none) kind = state == FiberState::sleeping ? WaitKind::sleep : WaitKind::unknown;
  // A timed wait on a primitive (pop_wait_for, wait_for) keeps the
  // primitive's kind; a bare wait_until with no primitive is a sleep.
  stacks_.set_annotation(park_stack, static_cast<std::uint8_t>(kind) + 1);
  return kind;
}

}  // namespace fiberleak::detail
