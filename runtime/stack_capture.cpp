#include "runtime/stack_capture.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <algorithm>
#include <cstring>

namespace fiberleak {

__attribute__((noinline)) std::size_t capture_stack(std::uintptr_t* out, std::size_t max_depth,
                                                    std::size_t skip) noexcept {
  constexpr std::size_t kMaxSkip = 8;
  skip = std::min(skip, kMaxSkip);
  max_depth = std::min(max_depth, kMaxStackDepth);
  void* buf[kMaxStackDepth + kMaxSkip + 1];
  // +1: unw_backtrace reports this function as the first frame.
  const int n = unw_backtrace(buf, static_cast<int>(max_depth + skip + 1));
  const std::size_t drop = skip + 1;
  if (n <= 0 || static_cast<std::size_t>(n) <= drop) return 0;
  const std::size_t kept = std::min(static_cast<std::size_t>(n) - drop, max_depth);
  std::memcpy(out, buf + drop, kept * sizeof(void*));
  return kept;
}

}  // namespace fiberleak
