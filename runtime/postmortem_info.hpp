// What the gdb extension (postmortem/) reads from a core file or a stopped
// process besides the registry itself, kept in every program that links the
// runtime.
//
// The runtime is a static library, so a program holds only the objects it
// references: fiber_registry.cpp (always linked) refers to this file's table,
// which pulls the rest of postmortem_info.cpp in with it. That file is built
// with -femit-class-debug-always so that its debug info describes Boost's
// context, fiber and mutex in full: GCC otherwise describes a class with
// virtual functions only where its vtable is emitted (libboost_fiber.so,
// whose debug info Debian ships separately), and the extension finds a
// fiber's saved context and a mutex's owner through those descriptions.
// Constant data only: any thread.
#pragma once

namespace fiberleak::detail {

// Go's words for each wait (runtime/runtime2.go waitReasonStrings where Go
// has the same wait), indexed by WaitKind value: what fiberleak::wait_reason()
// returns, and what the extension prints.
inline constexpr int kWaitKinds = 11;
extern const char* const kWaitReasonWords[kWaitKinds];

}  // namespace fiberleak::detail
