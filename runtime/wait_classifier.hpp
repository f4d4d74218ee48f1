// WaitClassifier: tells what a parked fiber waits on (mutex, channel, ...)
// from its park stack, at snapshot time, never in a scheduler hook.
//
// Boost.Fiber's primitives all park through scheduler::suspend/wait_until,
// so the hook sees only "blocked" or "sleeping"; which primitive it was is
// written in the frames above. The classifier names each frame (libunwind's
// ELF symbol lookup: .symtab when present, else .dynsym), demangles it and
// takes the outermost boost::fibers primitive before the first frame of user
// code. The result is cached in the stack table, so each distinct park stack
// is classified once. Not thread-safe by itself: one instance per snapshot.
#pragma once

#include <string>

#include <fiberleak/fiber_state.hpp>

#include "runtime/stack_table.hpp"

namespace fiberleak::detail {

class WaitClassifier {
 public:
  explicit WaitClassifier(const StackTable& stacks) noexcept : stacks_(stacks) {}
  WaitKind classify(StackId park_stack, FiberState state) const;

  // The kind a demangled function name stands for, or WaitKind::none when
  // it is not a Boost.Fiber primitive. Exposed for tests.
  static WaitKind kind_of_function(const std::string& demangled);

 private:
  const StackTable& stacks_;
};

}  // namespace fiberleak::detail
