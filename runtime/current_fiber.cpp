#include "runtime/current_fiber.hpp"

#include "runtime/fiber_registry.hpp"

namespace fiberleak::detail::current_fiber {
namespace {
// initial-exec: no lazy TLS allocation on first access from another module.
__attribute__((tls_model("initial-exec"))) thread_local FiberSlot* t_current = nullptr;
}  // namespace

void publish(FiberSlot* slot) noexcept { t_current = slot; }
FiberSlot* get() noexcept { return t_current; }

}  // namespace fiberleak::detail::current_fiber

extern "C" std::uint64_t fiberleak_current_fiber_id() noexcept {
  const fiberleak::detail::FiberSlot* s = fiberleak::detail::current_fiber::get();
  return s == nullptr ? 0 : s->id.load(std::memory_order_relaxed);
}

extern "C" std::size_t fiberleak_current_fiber_name(char* out, std::size_t cap) noexcept {
  const fiberleak::detail::FiberSlot* s = fiberleak::detail::current_fiber::get();
  if (cap == 0) return 0;
  if (s == nullptr) {
    out[0] = '\0';
    return 0;
  }
  s->copy_name(out, cap);
  std::size_t n = 0;
  while (out[n] != '\0') ++n;
  return n;
}
