#include "profiler/dump_builder.hpp"

#include <unordered_map>

#include <fiberleak/runtime.hpp>

namespace fiberleak::detail {
const DumpFrame* top_user_frame(const SharedStack& stack) {
  for (const DumpFrame& f : stack) {
    if (!is_library_function(f.function)) return &f;
  }
  return nullptr;
}

std::vector<DumpFrame> symbolize_stack(StackId id, Symbolizer& symbolizer) {
  std::vector<DumpFrame> out;
  for (std::uintptr_t pc : fiberleak::stack(id)) {
    for (const DumpFrame& f : symbolizer.frames(pc)) {
      if (!is_tracking_function(f.function)) out.push_back(f);
    }
  }
  std::size_t keep = out.size();
  while (keep > 1 && is_library_function(out[keep - 1].function)) --keep;
  // Never cut inside an inline chain: keep its real function too.
  while (keep < out.size() && keep > 0 && out[keep - 1].inlined) ++keep;
  out.resize(keep);
  return out;
}

FiberDump build_dump(const Snapshot& snapshot, Symbolizer& symbolizer) {
  // One SharedStack per distinct recorded stack.
  std::unordered_map<std::uint32_t, SharedStack> stacks;
  auto shared = [&](StackId id) -> SharedStack {
    auto it = stacks.find(static_cast<std::uint32_t>(id));
    if (it != stacks.end()) return it->second;
    return stacks.emplace(static_cast<std::uint32_t>(id), SharedStack(symbolize_stack(id, symbolizer))).first->second;
  };
  FiberDump dump;
  dump.taken_at_ns = snapshot.taken_at_ns;
  dump.waits_on_recorded = snapshot.waits_on_recorded;
  dump.fibers.reserve(snapshot.fibers.size());
  for (const FiberSnapshot& s : snapshot.fibers) {
    DumpedFiber f;
    f.id = s.id;
    f.parent = s.parent;
    f.name = s.name;
    f.state = s.state;
    f.wait = s.wait;
    if (s.state == FiberState::running) {
      f.wait_reason = "running";
    } else if (s.state == FiberState::runnable || s.state == FiberState::yielded) {
      f.wait_reason = "runnable";
    } else {
      f.wait_reason = std::string(wait_reason(s.wait));
    }
    f.blocked_ns = s.blocked_for_ns(snapshot.taken_at_ns);
    f.blocked_exact = true;
    f.created_ns = s.created_ns;
    f.blocked_total_ns = s.blocked_total_ns;
    f.parks = s.parks;
    f.stack_bytes = s.stack_bytes;
    f.waits_on = s.waits_on;
    f.waits_for = s.waits_for;
    f.owner_ended = s.owner_ended;
    f.rearmed = s.rearmed;
    f.rewaits = s.rewaits;
    f.is_main = s.is_main;
    f.thread = s.thread;
    // A running fiber's last park stack is stale: Go shows running
    // goroutines' live stacks, which only the running thread can take.
    if (s.state != FiberState::running) f.stack = shared(s.park_stack);
    f.creation_stack = shared(s.creation_stack);
    dump.fibers.push_back(std::move(f));
  }
  return dump;
}

}  // namespace fiberleak::detail
