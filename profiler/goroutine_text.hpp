// The one text renderer of goroutine dumps, in Go's layouts:
//  - debug=1 (runtime/pprof printCountProfile): "goroutine profile: total N",
//    then per distinct stack and labels "N @ 0x… 0x…", "# labels: {…}" (as
//    Go prints pprof labels) and "#\t0x…\tfunc+0x…\tfile:line";
//  - debug=2 (runtime.Stack(all)): one block per fiber,
//    "goroutine 7 [chan receive, 3 minutes, labels:{"fiber":"w"}]:" (labels
//    where Go 1.27 prints them), each frame as a function line
//    and "\tfile:line +0x…", "created by … in goroutine N".
// Works on any FiberDump (fiberleak's own or parsed from Go). Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "profiler/fiber_dump.hpp"
#include "profiler/symbolizer.hpp"

namespace fiberleak::detail {

// `symbolizer` gives function offsets (+0x…) for frames with a pc; nullptr
// prints +0x0 (e.g. for dumps parsed from elsewhere).
std::string render_debug1(const FiberDump& dump, Symbolizer* symbolizer);
// Labels as Go prints them ({"key":"value", ...}, each quoted as Go's %q
// would for printable text), in debug=1's "# labels:" lines and debug=2's
// headers.
std::string labels_text(const std::vector<Label>& labels);
void append_go_quoted(std::string& out, std::string_view s);
std::string render_debug2(const FiberDump& dump, Symbolizer* symbolizer);
// One stack's frames as debug=2 prints them (a function line, then
// "\tfile:line +0x…"), for reports that show a stack on its own.
std::string render_stack(const SharedStack& stack, Symbolizer* symbolizer);

}  // namespace fiberleak::detail
