// Go's goroutine profile (/debug/pprof/goroutine?debug=0) of a FiberDump:
// sample type goroutine/count, one sample per distinct (stack, labels),
// labels state, wait and fiber (the name, when set). Returned gzipped, as
// net/http/pprof serves it.
#pragma once

#include <string>
#include <vector>

#include "profiler/fiber_dump.hpp"
#include "profiler/symbolizer.hpp"

namespace fiberleak::detail {

std::string goroutine_profile(const FiberDump& dump, const std::vector<Mapping>& mappings);

// What changed between two dumps (`?seconds=N`), as Go's delta profiles:
// per (stack, labels), the count in `after` minus the count in `before`;
// unchanged groups are left out. duration_ns is after - before.
std::string goroutine_delta_profile(const FiberDump& before, const FiberDump& after,
                                    const std::vector<Mapping>& mappings);

}  // namespace fiberleak::detail
