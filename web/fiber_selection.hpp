// The answer to /debug/fibers's query (FibersParams, web/query_params.hpp),
// shared by the endpoint and fiberleakd's /api/targets/T/fibers, so that a
// target's page asks its sidecar what it asks the endpoint: the selected
// fibers, definite leaks first, then the other suspects, then the rest
// (each by id); with a limit at most that many, plus "total" and "groups"
// (fiber_groups_to_json) of every selected fiber. Stateless: thread-safe.
#pragma once

#include <string>
#include <vector>

#include <fiberleak/snapshot.hpp>

#include "profiler/fiber_dump.hpp"
#include "profiler/leak_rules.hpp"
#include "web/query_params.hpp"

namespace fiberleak::detail {

// The fibers/v1 document as served (pretty-printed unless stacks=shared).
// `findings` are find_leaks() of `all`; counters may be null (not known).
std::string fibers_answer(FiberDump all, const std::vector<LeakFinding>& findings, const FibersParams& p,
                          const RuntimeCounters* counters);

}  // namespace fiberleak::detail
