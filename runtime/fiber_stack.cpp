#include "runtime/fiber_stack.hpp"

#include <boost/fiber/context.hpp>

#include <cstdint>
#include <cstring>

namespace fiberleak::detail {

std::size_t reserved_stack_bytes(const boost::fibers::context* ctx) noexcept {
  if (ctx == nullptr || !ctx->is_context(boost::fibers::type::worker_context)) return 0;
  // Records are a few dozen bytes unless the stack allocator itself is
  // large: 16 candidates (4 KiB below the context) cover any real one.
  constexpr int kCandidates = 16;
  constexpr std::size_t kMaxStack = std::size_t{1} << 32;
  const auto c = reinterpret_cast<std::uintptr_t>(ctx);
  for (int k = 1; k <= kCandidates; ++k) {
    const std::uintptr_t record = (c & ~std::uintptr_t{0xff}) - 256 * static_cast<std::uintptr_t>(k);
    std::size_t size = 0;
    std::uintptr_t sp = 0;
    std::memcpy(&size, reinterpret_cast<const void*>(record), sizeof size);
    std::memcpy(&sp, reinterpret_cast<const void*>(record + sizeof size), sizeof sp);
    if (sp > c && size >= 4096 && size <= kMaxStack && sp - c < size && sp - size <= record) return size;
  }
  return 0;
}

}  // namespace fiberleak::detail
