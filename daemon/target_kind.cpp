#include "daemon/target_kind.hpp"

namespace fiberleak::detail {

namespace {
constexpr TargetKind kKinds[] = {TargetKind::auto_detect, TargetKind::fiberleak, TargetKind::go};
}  // namespace

bool parse_target_kind(std::string_view text, TargetKind& out) {
  for (TargetKind kind : kKinds) {
    if (text == to_string(kind)) {
      out = kind;
      return true;
    }
  }
  return false;
}

const char* to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::auto_detect: return "auto";
    case TargetKind::fiberleak: return "fiberleak";
    case TargetKind::go: return "go";
  }
  return "unknown";
}

}  // namespace fiberleak::detail
