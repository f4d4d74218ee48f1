#include "profiler/dump_builder.hpp"

#include <unordered_map>

#include <fiberleak/runtime.hpp>

namespace fiberleak::detail {
bool is_user_frame(const DumpFrame& f) { return !is_library_frame(f.function, f.file); }

const DumpFrame* top_user_frame(const SharedStack& stack) {
  for (const DumpFrame& f : stack) {
    if (is_user_frame(f)) return &f;
  }
  return nullptr;
}

void trim_to_entry(std::vector<DumpFrame>& frames) {
  std::size_t keep = frames.size();
  while (keep > 0 && !is_user_frame(frames[keep - 1])) --keep;
  if (keep == 0) {
    // No user code: keep down to the fiber's run_(), whose template
    // arguments name the callable's type; below it is only trampolines.
    for (std::size_t i = frames.size(); i-- > 0 && keep == 0;) {
      if (frames[i].function.rfind("boost::fibers::worker_context<", 0) == 0) keep = i + 1;
    }
  }
  if (keep == 0) {
    // A thread's stack of library code alone (a test framework's main in
    // its header): everything but the process's and the thread's start.
    keep = frames.size();
    while (keep > 1 && is_start_function(frames[keep - 1].function)) --keep;
  }
  frames.resize(keep);
}

std::vector<DumpFrame> symbolize_stack(StackId id, Symbolizer& symbolizer) {
  std::vector<DumpFrame> out;
  for (std::uintptr_t pc : fiberleak::stack(id)) {
    for (const DumpFrame& f : symbolizer.frames(pc)) {
      if (!is_tracking_function(f.function)) out.push_back(f);
    }
  }
  trim_to_entry(out);
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
    f.labels = s.labels;
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
