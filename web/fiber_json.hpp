// The one JSON codec for fiber dumps and leak findings, shared by the
// embedded endpoint (/debug/fibers, /debug/leaks) and fiberleakd, which
// decodes fiberleak targets with it (as Tracy shares one protocol header
// between client and server).
//
// Schema "fiberleak.fibers/v1" (docs/http.md):
//   {"schema": "fiberleak.fibers/v1", "taken_at_ns": int, "fibers": [Fiber], "counters": {...}}
//   Fiber: id, parent, name, state, wait, wait_reason, site (park_site(); "" unless
//          parked), created_by (Frame: the creation stack's top user frame, or null), blocked_ns, blocked_exact,
//          created_ns, blocked_total_ns, parks, is_main, locked_to_thread, thread, leak,
//          stack_bytes (reserved stack; null unknown), heap_live_bytes (estimated
//          live heap it allocated; null unless the heap profiler runs),
//          stack: [Frame], creation_stack: [Frame]
//   Frame: pc ("0x…"), function, file, line, inlined
// Unknown fields are ignored (newer producers); any schema but exactly this
// one is rejected (web/json_schemas.hpp). Stateless functions: thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <fiberleak/snapshot.hpp>

#include "profiler/fiber_dump.hpp"
#include "profiler/leak_rules.hpp"
#include "web/json_fields.hpp"  // JsonSchemaError: what the decoders throw
#include "web/json_schemas.hpp"

namespace fiberleak::detail {

// The fibers/v1 document as text (indent as json_text()), written fiber by
// fiber with JsonWriter (web/json_text.hpp), never as a DOM: the same bytes
// a DOM of it would dump to, keys sorted.
// shared_stacks (`/debug/fibers?stacks=shared`, what fiberleakd asks for):
// each distinct stack is written once in a top-level "stacks" array and
// fibers refer to it by index ("stack_ref", "creation_stack_ref"; -1 for
// none) instead of carrying "stack"/"creation_stack" arrays. A pile of 10k
// fibers at one site then costs one stack, not 10k copies. Additive to v1:
// decoders read both forms.
// leaked: the fibers that are findings, each written with its verdict and
// reason ("leak": true); the findings must outlive the call.
// totals (`/debug/fibers?limit=N`): "total" and "groups" of all the fibers
// selected, of which `dump` holds the first N.
using LeakedFibers = std::map<FiberId, const LeakFinding*>;
struct FiberTotals {
  std::size_t total = 0;
  nlohmann::json groups;  // fiber_groups_to_json()
};
std::string fibers_json_text(const FiberDump& dump, const LeakedFibers& leaked,
                             const RuntimeCounters* counters = nullptr, bool shared_stacks = false, int indent = -1,
                             const FiberTotals* totals = nullptr);
// The fibers of `dump` by (state, wait_reason, site) with how many, how many
// leaked and the longest blocked, most first: "groups" of /debug/fibers?limit=N,
// [{"state", "wait_reason", "site", "fibers", "leaks", "oldest_blocked_ns"}].
nlohmann::json fiber_groups_to_json(const FiberDump& dump, const LeakedFibers& leaked);
// Throws JsonSchemaError.
FiberDump fibers_from_json(const nlohmann::json& doc);
// Parses text then decodes; throws JsonSchemaError for bad JSON too. Reads
// the text one fiber (one stack) at a time (web/json_stream.hpp), never
// holding a DOM of the whole, and rejects a document that would decode to
// more than DecodeBudget allows (what fiberleakd reads from targets).
FiberDump fibers_from_json_text(std::string_view text);

// Schema "fiberleak.leaks/v1": {"schema", "leaks": [LeakFinding], "growing_sites": [GrowingSite]}
// with the fields of profiler/leak_rules.hpp under the same names.
// limit > 0: at most that many "leaks" (definite first, then the longest
// blocked); "sites" and "total" count them all.
nlohmann::json findings_to_json(const std::vector<LeakFinding>& findings, const std::vector<GrowingSite>& growing,
                                std::size_t limit = 0);
// One entry of "leaks" (also what fiberleakd's /api/findings and webhook extend).
nlohmann::json finding_to_json(const LeakFinding& finding);

// A decoded /debug/leaks document.
struct Findings {
  std::vector<LeakFinding> leaks;
  std::vector<GrowingSite> growing;
};
// Throws JsonSchemaError (the JSON path of the problem), as fibers_from_json.
Findings findings_from_json(const nlohmann::json& doc);
Findings findings_from_json_text(const std::string& text);

}  // namespace fiberleak::detail
