// Helpers shared by the runtime tests: find a fiber in a snapshot, ask
// whether a recorded stack passes through a function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <fiberleak/runtime.hpp>

#include "runtime/frame_info.hpp"

namespace fiberleak::detail::testing {

inline std::optional<FiberSnapshot> find_fiber(const Snapshot& snap, FiberId id) {
  for (const auto& f : snap.fibers) {
    if (f.id == id) return f;
  }
  return std::nullopt;
}

inline std::optional<FiberSnapshot> find_named(const Snapshot& snap, std::string_view name) {
  for (const auto& f : snap.fibers) {
    if (f.name == name) return f;
  }
  return std::nullopt;
}

// True when any frame (inlined ones included) of the stack is in a function
// whose demangled name contains `function`.
inline bool stack_contains(StackId id, std::string_view function) {
  for (std::uintptr_t pc : fiberleak::stack(id)) {
    for (const FrameInfo& f : describe_pc(pc - 1)) {
      if (f.function.find(function) != std::string::npos) return true;
    }
  }
  return false;
}

inline std::string describe_stack(StackId id) {
  std::string out;
  for (std::uintptr_t pc : fiberleak::stack(id)) {
    for (const FrameInfo& f : describe_pc(pc - 1)) out += "  " + f.function + "\n";
  }
  return out;
}

}  // namespace fiberleak::detail::testing
