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

// Symbolized frames of a recorded stack: the tracking hooks' frames removed,
// then trim_to_entry().
std::vector<DumpFrame> symbolize_stack(StackId id, Symbolizer& symbolizer);

// Ends a stack (innermost first) at its outermost frame of user code: the
// entry function of a fiber, however it was launched (function, lambda,
// std::bind, member function, packaged_task, async), or main; what lies
// below is Boost's and the standard library's trampolines, as Go hides
// runtime.goexit. Cuts inside an inline chain when the entry was inlined
// into a trampoline. A stack without user code (a body that tail-called
// into Boost) keeps its library frames down to the fiber's
// worker_context<F>::run_(), whose F is all that then says what runs
// there; a thread's stack without user code (a test framework's main,
// in its header) keeps all but the C runtime's start frames.
// Every profile and dump trims with this, so all show the same frames.
void trim_to_entry(std::vector<DumpFrame>& frames);

// Code of the program, not of a library (is_library_frame()).
bool is_user_frame(const DumpFrame& f);
// The first frame of user code, or nullptr.
const DumpFrame* top_user_frame(const SharedStack& stack);

}  // namespace fiberleak::detail
