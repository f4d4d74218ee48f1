// Parses Go's goroutine dump (/debug/pprof/goroutine?debug=2, the format of
// runtime.Stack(all)) into a FiberDump, so fiberleakd applies the same leak
// rules to Go services as to fiberleak targets.
//
// Handles Go 1.19 and newer: "created by F" with or without "in goroutine N",
// "[reason, N minutes]" (a lower bound: Go counts whole minutes, only after a
// GC saw the goroutine blocked; blocked_exact=false), "locked to thread",
// Go 1.27's "labels:{...}" (the label "fiber" is the fiber's name: fiberleak
// writes it so),
// inlined "(...)" frames, "...additional frames elided..." and
// "...N frames elided...". Numbers that do not fit saturate (minutes) or
// are errors (ids, lines); bytes that are no UTF-8 become U+FFFD.
// Stateless; thread-safe.
#pragma once

#include <stdexcept>
#include <string_view>

#include "profiler/fiber_dump.hpp"

namespace fiberleak::detail {

// The text is not a goroutine dump (or is cut short): what() says which
// line and why ("line 17: a frame without its file:line (truncated dump?)").
class GoDumpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

FiberDump parse_go_dump(std::string_view text);

// The WaitKind for a Go wait reason ("chan receive" -> channel_pop, ...).
WaitKind wait_kind_of_go_reason(std::string_view reason);

}  // namespace fiberleak::detail
