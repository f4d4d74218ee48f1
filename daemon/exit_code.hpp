// fiberleakd's exit status, as docs/fiberleakd.md states it: what CI
// scripts branch on, so each value is fixed.
#pragma once

namespace fiberleak::detail {

enum class ExitCode : int {
  ok = 0,     // done; `check`: no leak suspects, no growth past the baseline
  leaks = 1,  // `check` only: leak suspects, or a park site grew past the baseline
  error = 2,  // bad usage, a bad config, an unreachable or unreadable target, a port in use
};

inline int to_int(ExitCode code) { return static_cast<int>(code); }

}  // namespace fiberleak::detail
