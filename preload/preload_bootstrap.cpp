// The LD_PRELOAD library's bootstrap: in a preloaded program that serves
// nothing, FIBERLEAK_HEAP_PROFILE needs pprof code and FIBERLEAK_LISTEN HTTP
// too; they live in two companion libraries next to this one (or at
// FIBERLEAK_HEAP_PROFILE_LIB / FIBERLEAK_HEAP_SERVER_LIB), each loaded only
// when its variable is set, by a constructor, outside any malloc
// (preload/heap_server_interface.hpp).
// The sampler (runtime/heap/) knows nothing of this: only the preload
// product knows the server library. Runs single-threaded, before main;
// reports its own problems in one stderr line and never stops the program.
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "preload/heap_server_interface.hpp"
#include "preload/preload_report.hpp"
#include "runtime/heap/heap_sampler.hpp"

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

// Loads the companion `library` from next to this library (or from
// `override_variable`'s path) and calls its start function. Its own
// allocations (the loader's, the companion's set-up) are no part of the
// program's heap profile: this thread samples nothing meanwhile.
void start_companion(const char* library, const char* start_symbol, const char* override_variable) {
  fiberleak::heap::detail::UnsampledScope unsampled;
  char path[4096] = {};
  if (const char* lib = std::getenv(override_variable); lib != nullptr && *lib != '\0') {
    std::strncpy(path, lib, sizeof path - 1);
  } else {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&start_companion), &info) == 0 || info.dli_fname == nullptr) return;
    std::strncpy(path, info.dli_fname, sizeof path - 64);
    char* slash = std::strrchr(path, '/');
    char* end = slash == nullptr ? path : slash + 1;
    std::strcpy(end, library);
  }
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    fiberleak::detail::preload_report("cannot load %s (%s): %s", library, override_variable,
                                      why == nullptr ? "?" : why);
    return;
  }
  if (auto start = reinterpret_cast<fiberleak::detail::CompanionStartFn>(dlsym(handle, start_symbol))) start();
}

bool set(const char* variable) {
  const char* v = std::getenv(variable);
  return v != nullptr && *v != '\0';
}

__attribute__((constructor)) void start_companions() {
  fiberleak::heap::detail::open_sampling_gate();
  const bool profile = set("FIBERLEAK_HEAP_PROFILE"), listen = set("FIBERLEAK_LISTEN");
  if ((!profile && !listen) || !chosen_process()) return;
  if (profile) {
    start_companion(fiberleak::detail::kHeapProfileLibraryName, fiberleak::detail::kHeapProfileStartSymbol,
                    "FIBERLEAK_HEAP_PROFILE_LIB");
  }
  if (listen) {
    start_companion(fiberleak::detail::kHeapServerLibraryName, fiberleak::detail::kHeapServerStartSymbol,
                    "FIBERLEAK_HEAP_SERVER_LIB");
  }
}

}  // namespace
