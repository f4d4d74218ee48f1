// The one text renderer of goroutine dumps, in Go's layouts:
//  - debug=1 (runtime/pprof printCountProfile): "goroutine profile: total N",
//    then per distinct stack "N @ 0x… 0x…" and "#\t0x…\tfunc+0x…\tfile:line";
//  - debug=2 (runtime.Stack(all)): one block per fiber,
//    "goroutine 7 [chan receive, 3 minutes]:", each frame as a function line
//    and "\tfile:line +0x…", "created by … in goroutine N".
// Works on any FiberDump (fiberleak's own or parsed from Go). Pure functions.
#pragma once

#include <string>

#include "profiler/fiber_dump.hpp"
#include "profiler/symbolizer.hpp"

namespace fiberleak::detail {

// `symbolizer` gives function offsets (+0x…) for frames with a pc; nullptr
// prints +0x0 (e.g. for dumps parsed from elsewhere).
std::string render_debug1(const FiberDump& dump, Symbolizer* symbolizer);
std::string render_debug2(const FiberDump& dump, Symbolizer* symbolizer);

}  // namespace fiberleak::detail
