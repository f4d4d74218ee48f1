// The stack a fiber reserved, read from Boost's own bookkeeping.
//
// Boost.Fiber's API does not expose a fiber's stack size, and fibers may be
// created with any stack allocator. But Boost 1.74 lays out every worker
// fiber the same way (boost/fiber/context.hpp make_worker_context and
// boost/context/fiber_fcontext.hpp create_fiber2): the stack allocator
// returns stack_context{size, sp} (sp = top of the stack); the worker
// context is placed at the 256-byte aligned address just below sp, and
// Boost.Context's fiber_record, whose first member is that stack_context,
// at the 256-byte aligned address just below the context. So the size is
// read from the stack's own top, once, when the fiber is created.
//
// Each candidate is checked before it is believed (sp above the context,
// the record inside [sp - size, sp), a plausible size), and only worker
// contexts are probed (main and dispatcher contexts have no such layout):
// the answer is the reserved size in bytes (with a guard page where the
// allocator adds one) or 0 when the layout is not found. Reads a few words
// of the fiber's own, live stack; no locks, no allocation: hook-safe.
#pragma once

#include <cstddef>

namespace boost::fibers {
class context;
}

namespace fiberleak::detail {

std::size_t reserved_stack_bytes(const boost::fibers::context* ctx) noexcept;

}  // namespace fiberleak::detail
