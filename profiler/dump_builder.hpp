// Builds a FiberDump from a runtime Snapshot: symbolizes park and creation
// stacks (cached in the Symbolizer) and drops the frames of fiberleak's own
// tracking machinery. Call from any thread except inside a scheduler hook.
#pragma once

#include <string_view>
#include <vector>

#include <fiberleak/snapshot.hpp>

#include "profiler/fiber_dump.hpp"
#include "profiler/symbolizer.hpp"
#include "runtime/frame_info.hpp"

namespace fiberleak::detail {

FiberDump build_dump(const Snapshot& snapshot, Symbolizer& symbolizer = Symbolizer::instance());

// Symbolized frames of a recorded stack: the tracking hooks' frames and the
// trailing run of library frames (the fiber's or thread's entry trampolines,
// as Go hides runtime.goexit) removed; at least one frame is kept.
std::vector<DumpFrame> symbolize_stack(StackId id, Symbolizer& symbolizer);

// The first frame of user code (not is_library_function), or nullptr.
const DumpFrame* top_user_frame(const SharedStack& stack);

}  // namespace fiberleak::detail
