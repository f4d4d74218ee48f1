// Query strings of the endpoint's routes, parsed into structs. Each parser
// returns an empty string on success or a one-line usage message for a 400
// (unknown parameters are errors too: a typo must not be silently ignored).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <fiberleak/fiber_state.hpp>

namespace fiberleak::detail {

// /debug/pprof/goroutine
struct GoroutineParams {
  int debug = 0;    // 0: gzipped profile.proto; 1: grouped text; 2: one block per fiber
  int seconds = 0;  // >0: delta profile over this many seconds (debug=0 only)
};
inline constexpr const char* kGoroutineUsage =
    "usage: /debug/pprof/goroutine?debug=0|1|2 or ?seconds=N (1..max, debug=0 only)";
std::string parse_goroutine_params(const httplib::Params& params, int max_seconds, GoroutineParams& out);

// /debug/fibers
struct FibersParams {
  std::set<FiberState> states;      // empty: all
  std::int64_t min_blocked_ns = 0;  // only fibers parked at least this long
  std::string name;                 // exact name, or prefix ending in '*'
  // label=key:value (repeatable; all must hold): fibers with that label
  // (the name is the label "fiber"); the value may be a prefix ending in '*'.
  std::vector<std::string> labels;  // label_matches() patterns
  bool leaks_only = false;
  bool shared_stacks = false;  // stacks=shared: each distinct stack written once (fiber_json.hpp)
  // limit=N (1..10^7): at most N fibers written (leak suspects first), with
  // "total" and "groups" of every selected one (fiber_json.hpp); 0: all.
  std::size_t limit = 0;
};
inline constexpr const char* kFibersUsage =
    "usage: /debug/fibers?state=blocked,sleeping&min_blocked=30s&name=conn-*&label=request:42&leaks=1&"
    "stacks=inline|shared&limit=N";
std::string parse_fibers_params(const httplib::Params& params, FibersParams& out);

// /debug/leaks?limit=N: at most N findings written (definite first, then
// the longest blocked), "sites" and "total" over all; 0 (none given): all.
inline constexpr const char* kLeaksUsage = "usage: /debug/leaks or /debug/leaks?limit=N (1..10000000)";
std::string parse_leaks_params(const httplib::Params& params, std::size_t& limit);

// Routes that take no parameters.
std::string parse_no_params(const httplib::Params& params, const char* route);

// The 400 answer for a query a parser above refused: its message, as text.
void bad_request(httplib::Response& res, const std::string& message);

}  // namespace fiberleak::detail
