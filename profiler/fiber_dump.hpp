// FiberDump: the symbolized, source-neutral picture of a program's fibers
// that every renderer and the leak rules work on.
//
// Built from a runtime Snapshot in-process (symbolize_snapshot()), decoded
// from a fiberleak target's JSON by the daemon, or parsed from a Go
// service's goroutine?debug=2 dump, so one set of renderers and one set of
// leak rules serve all three. Plain values; not thread-safe to mutate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/fiber_state.hpp"

namespace fiberleak {

// One frame, innermost first. Inlined functions are separate frames with the
// same pc (as in Go dumps and pprof Locations with several Lines).
struct DumpFrame {
  std::uint64_t pc = 0;  // return address (0 when unknown, e.g. parsed dumps)
  std::string function;  // demangled; "?" when unknown
  std::string file;      // empty when unknown
  int line = 0;
  bool inlined = false;  // true for all but the last entry of a pc's inline chain
};

struct DumpedFiber {
  std::uint64_t id = 0;
  std::uint64_t parent = 0;  // 0: none/unknown
  std::string name;
  FiberState state = FiberState::runnable;
  WaitKind wait = WaitKind::none;
  std::string wait_reason;  // Go's words ("chan receive"); from the source for Go dumps
  // How long the current park has lasted. exact: measured (fiberleak);
  // otherwise a lower bound (Go prints whole minutes, only after a GC).
  std::int64_t blocked_ns = 0;
  bool blocked_exact = true;
  std::int64_t created_ns = 0;        // steady_clock ns; 0 unknown
  std::int64_t blocked_total_ns = 0;  // all parks so far
  std::uint64_t parks = 0;
  bool is_main = false;
  bool locked_to_thread = false;  // Go: "locked to thread"
  std::uint32_t thread = 0;
  std::vector<DumpFrame> stack;           // park stack (or current stack), innermost first
  std::vector<DumpFrame> creation_stack;  // where it was created, innermost first
};

struct FiberDump {
  std::int64_t taken_at_ns = 0;  // steady_clock ns of the source
  std::vector<DumpedFiber> fibers;
};

}  // namespace fiberleak
