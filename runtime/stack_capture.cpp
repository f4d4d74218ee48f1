#include "runtime/stack_capture.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <algorithm>
#include <cstring>

namespace fiberleak::detail {

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

}  // namespace fiberleak::detail

namespace fiberleak::detail {

__attribute__((noinline)) std::size_t capture_stack_with_slots(std::uintptr_t* pcs, std::uintptr_t* slots,
                                                               std::size_t max_depth, std::size_t skip) noexcept {
  max_depth = std::min(max_depth, kMaxStackDepth);
  unw_context_t context;
  unw_cursor_t cursor;
  if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0) return 0;
  std::size_t n = 0;
  std::size_t frame = 0;  // 0 is this function
  while (n < max_depth && unw_step(&cursor) > 0) {
    ++frame;
    if (frame <= skip) continue;
    unw_word_t ip = 0, sp = 0;
    unw_get_reg(&cursor, UNW_REG_IP, &ip);
    unw_get_reg(&cursor, UNW_REG_SP, &sp);
    // The caller's SP is the callee's CFA; the return address sits just below it.
    pcs[n] = ip;
    slots[n] = sp - sizeof(std::uintptr_t);
    ++n;
  }
  return n;
}

}  // namespace fiberleak::detail
