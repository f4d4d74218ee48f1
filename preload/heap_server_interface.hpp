// How the LD_PRELOAD library (libfiberleak_heap.so, whose bootstrap is
// preload/preload_bootstrap.cpp) starts its companion server library
// (libfiberleak_heap_server.so, preload/heap_server_library.cpp): it
// dlopens the library by this file name, next to itself, and calls this
// one function, which is all the server library exports. Written once here
// for both sides; internal to the preload product.
#pragma once

namespace fiberleak::detail {

inline constexpr char kHeapServerLibraryName[] = "libfiberleak_heap_server.so";
inline constexpr char kHeapServerStartSymbol[] = "fiberleak_heap_server_start";

}  // namespace fiberleak::detail

// Starts what FIBERLEAK_LISTEN and FIBERLEAK_HEAP_PROFILE ask for; called
// once, before main, in the process FIBERLEAK_PROCESS picks. Returns 0, or
// -1 when something asked for could not be started (reported on stderr).
extern "C" __attribute__((visibility("default"))) int fiberleak_heap_server_start() noexcept;

namespace fiberleak::detail {
using HeapServerStartFn = decltype(&fiberleak_heap_server_start);
}  // namespace fiberleak::detail
