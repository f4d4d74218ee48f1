// How the LD_PRELOAD library (libfiberleak_heap.so, whose bootstrap is
// preload/preload_bootstrap.cpp) starts its companions, each loaded only
// when the environment asks for what it does, from next to itself:
//   libfiberleak_heap_profile.so  FIBERLEAK_HEAP_PROFILE: the profile at exit
//                                 (preload/heap_profile_writer.cpp; profiler/
//                                 and zlib only: no HTTP, no OpenSSL)
//   libfiberleak_heap_server.so   FIBERLEAK_LISTEN: the heap routes over HTTP
//                                 (preload/heap_server_library.cpp; web/)
// Each exports one start function, named here for both sides; internal to
// the preload product.
#pragma once

namespace fiberleak::detail {

inline constexpr char kHeapProfileLibraryName[] = "libfiberleak_heap_profile.so";
inline constexpr char kHeapProfileStartSymbol[] = "fiberleak_heap_profile_start";
inline constexpr char kHeapServerLibraryName[] = "libfiberleak_heap_server.so";
inline constexpr char kHeapServerStartSymbol[] = "fiberleak_heap_server_start";

}  // namespace fiberleak::detail

// Each starts what its variable asks for; called once, before main, in the
// process FIBERLEAK_PROCESS picks. Return 0, or -1 when it could not start
// (reported on stderr, one "fiberleak:" line).
extern "C" __attribute__((visibility("default"))) int fiberleak_heap_profile_start() noexcept;
extern "C" __attribute__((visibility("default"))) int fiberleak_heap_server_start() noexcept;

namespace fiberleak::detail {
using CompanionStartFn = int (*)() noexcept;
}  // namespace fiberleak::detail
