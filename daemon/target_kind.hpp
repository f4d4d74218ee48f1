// TargetKind: what fiberleakd expects to find at a target's URL, as the
// config's "kind" and check's --kind spell it. Thread-safe (stateless).
#pragma once

#include <string_view>

namespace fiberleak::detail {

enum class TargetKind {
  auto_detect,  // "auto": /debug/fibers, and Go's goroutine?debug=2 when that is a 404
  fiberleak,    // "fiberleak": /debug/fibers only
  go,           // "go": net/http/pprof's /debug/pprof/goroutine?debug=2 only
};

// For error messages: the spellings parse_target_kind() takes.
inline constexpr const char* kTargetKinds = "auto, fiberleak or go";

// False, `out` untouched, for anything but "auto", "fiberleak" or "go".
bool parse_target_kind(std::string_view text, TargetKind& out);
const char* to_string(TargetKind kind);

}  // namespace fiberleak::detail
