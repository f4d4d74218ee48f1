// The LD_PRELOAD library's bootstrap: in a preloaded program that serves
// nothing, FIBERLEAK_LISTEN and FIBERLEAK_HEAP_PROFILE need HTTP and pprof
// code, which live in the companion libfiberleak_heap_server.so next to
// this library (or at FIBERLEAK_HEAP_SERVER_LIB); a constructor loads it
// once, outside any malloc, and starts it (preload/heap_server_interface.hpp).
// The sampler (runtime/heap/) knows nothing of this: only the preload
// product knows the server library. Runs single-threaded, before main;
// reports its own problems in one stderr line and never stops the program.
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "preload/heap_server_interface.hpp"

namespace {

// FIBERLEAK_PROCESS=NAME: true only in the process whose argv[0] or
// executable has the base name NAME; true everywhere when unset. Everything
// started under LD_PRELOAD loads this library: the program, and the shells,
// wrappers (timeout, env, pyenv's shims) and helpers around it; without a
// name the first of them still running 0.2 s after its start binds
// FIBERLEAK_LISTEN (preload/heap_server_library.cpp), and each writes
// FIBERLEAK_HEAP_PROFILE at its exit.
bool chosen_process() {
  const char* want = std::getenv("FIBERLEAK_PROCESS");
  if (want == nullptr || *want == '\0') return true;
  if (std::strcmp(want, program_invocation_short_name) == 0) return true;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return false;
  exe[n] = '\0';
  const char* slash = std::strrchr(exe, '/');
  return std::strcmp(want, slash == nullptr ? exe : slash + 1) == 0;
}

__attribute__((constructor)) void start_companion_server() {
  const char* listen = std::getenv("FIBERLEAK_LISTEN");
  const char* profile = std::getenv("FIBERLEAK_HEAP_PROFILE");
  if ((listen == nullptr || *listen == '\0') && (profile == nullptr || *profile == '\0')) return;
  if (!chosen_process()) return;
  char path[4096] = {};
  if (const char* lib = std::getenv("FIBERLEAK_HEAP_SERVER_LIB"); lib != nullptr && *lib != '\0') {
    std::strncpy(path, lib, sizeof path - 1);
  } else {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&start_companion_server), &info) == 0 || info.dli_fname == nullptr) return;
    std::strncpy(path, info.dli_fname, sizeof path - sizeof fiberleak::detail::kHeapServerLibraryName);
    char* slash = std::strrchr(path, '/');
    char* end = slash == nullptr ? path : slash + 1;
    std::strcpy(end, fiberleak::detail::kHeapServerLibraryName);
  }
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    static const char msg[] = "fiberleak: cannot load the heap server library (FIBERLEAK_HEAP_SERVER_LIB)\n";
    (void)!write(2, msg, sizeof msg - 1);
    return;
  }
  if (auto start = reinterpret_cast<fiberleak::detail::HeapServerStartFn>(
          dlsym(handle, fiberleak::detail::kHeapServerStartSymbol));
      start != nullptr) {
    start();
  }
}

}  // namespace
