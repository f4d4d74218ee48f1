// The interposed C allocation functions: forward to glibc's __libc_*
// entry points (no dlsym bootstrap) and tell HeapSampler. libstdc++'s
// operator new/delete call malloc/free, so they are covered too.
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <fiberleak/heap.hpp>
#include "runtime/heap/sampler_hot_path.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
}

namespace {

#define FIBERLEAK_CALLER reinterpret_cast<std::uintptr_t>(__builtin_return_address(0))

inline void* note(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  fiberleak::heap::on_alloc(p, size, caller);
  return p;
}

// Go and heaptrack both count a realloc as a free and a new allocation.
// glibc does the reallocating, sampled block or not: it resizes in place
// when it can, and programs count on that (see detach_sample()).
void* reallocate(void* p, std::size_t size, std::uintptr_t caller) noexcept {
  if (p != nullptr && size == 0) {  // glibc frees and returns NULL
    free(p);
    return nullptr;
  }
  fiberleak::heap::detail::Slot old{};
  if (p != nullptr && fiberleak::heap::maybe_sampled(p) && fiberleak::heap::detail::detach_sample(p, old)) {
    void* q = __libc_realloc(p, size);
    if (q == nullptr) {  // p is untouched, and still a live sample
      fiberleak::heap::detail::reattach_sample(old);
      return nullptr;
    }
    fiberleak::heap::detail::retire_sample(old);
    return note(q, size, caller);
  }
  return note(__libc_realloc(p, size), size, caller);
}
}  // namespace

namespace fiberleak::heap {
bool active() noexcept {
  // The process's malloc is the one the dynamic linker finds first: ours
  // when linked into the executable or preloaded, libc's when this library
  // came in later (dlopen) and sees no allocation.
  return dlsym(RTLD_DEFAULT, "malloc") == reinterpret_cast<void*>(&malloc);
}
}  // namespace fiberleak::heap

extern "C" {

__attribute__((visibility("default"))) void* malloc(std::size_t size) {
  // The common case ends in a tail call: nothing kept across glibc's malloc.
  if (__builtin_expect(!fiberleak::heap::sample_due(size), 1)) return __libc_malloc(size);
  void* p = __libc_malloc(size);
  fiberleak::heap::on_sampled_alloc(p, size, FIBERLEAK_CALLER);
  return p;
}

__attribute__((visibility("default"))) void free(void* p) {
  fiberleak::heap::on_free(p);
  __libc_free(p);
}

__attribute__((visibility("default"))) void cfree(void* p) { free(p); }

__attribute__((visibility("default"))) void* calloc(std::size_t n, std::size_t size) {
  std::size_t total = 0;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return note(__libc_calloc(n, size), total, FIBERLEAK_CALLER);
}

__attribute__((visibility("default"))) void* realloc(void* p, std::size_t size) {
  return reallocate(p, size, FIBERLEAK_CALLER);
}

__attribute__((visibility("default"))) void* reallocarray(void* p, std::size_t n, std::size_t size) {
  std::size_t total = 0;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return reallocate(p, total, FIBERLEAK_CALLER);
}

__attribute__((visibility("default"))) void* memalign(std::size_t align, std::size_t size) {
  return note(__libc_memalign(align, size), size, FIBERLEAK_CALLER);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, std::size_t align, std::size_t size) {
  if (align % sizeof(void*) != 0 || (align & (align - 1)) != 0 || align == 0) return EINVAL;
  void* p = __libc_memalign(align, size);
  if (p == nullptr) return ENOMEM;
  *out = note(p, size, FIBERLEAK_CALLER);
  return 0;
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t align, std::size_t size) {
  if (align == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  return note(__libc_memalign(align, size), size, FIBERLEAK_CALLER);
}

__attribute__((visibility("default"))) void* valloc(std::size_t size) {
  return note(__libc_valloc(size), size, FIBERLEAK_CALLER);
}

__attribute__((visibility("default"))) void* pvalloc(std::size_t size) {
  return note(__libc_pvalloc(size), size, FIBERLEAK_CALLER);
}

__attribute__((visibility("default"))) std::size_t malloc_usable_size(void* p) {
  // Blocks carry no header of ours: glibc's answer is the right one. Found
  // once with dlsym (its own allocations pass through unsampled).
  using UsableSizeFn = std::size_t (*)(void*);
  static std::atomic<UsableSizeFn> usable{nullptr};
  UsableSizeFn fn = usable.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = reinterpret_cast<UsableSizeFn>(dlsym(RTLD_NEXT, "malloc_usable_size"));
    if (fn == nullptr || fn == &malloc_usable_size) return 0;
    usable.store(fn, std::memory_order_release);
  }
  return fn(p);
}

}  // extern "C"

#ifdef FIBERLEAK_HEAP_PRELOAD
#include <errno.h>

#include <cstdlib>
#include <cstring>
namespace {
// FIBERLEAK_PROCESS=NAME: true only in the process whose argv[0] or
// executable has the base name NAME; true everywhere when unset. Everything
// started under LD_PRELOAD loads this library: the program, and the shells,
// wrappers (timeout, env, pyenv's shims) and helpers around it; without a
// name the first of them still running 0.2 s after its start binds
// FIBERLEAK_LISTEN (web/heap_server_library.cpp), and each writes
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

// Preloaded into a program that serves nothing: FIBERLEAK_LISTEN and
// FIBERLEAK_HEAP_PROFILE need HTTP and pprof code, which live in the
// companion libfiberleak_heap_server.so next to this library (or at
// FIBERLEAK_HEAP_SERVER_LIB), loaded here once, outside any malloc. It
// reports its own errors.
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
    std::strncpy(path, info.dli_fname, sizeof path - 64);
    char* slash = std::strrchr(path, '/');
    char* end = slash == nullptr ? path : slash + 1;
    std::strcpy(end, "libfiberleak_heap_server.so");
  }
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    static const char msg[] = "fiberleak: cannot load the heap server library (FIBERLEAK_HEAP_SERVER_LIB)\n";
    (void)!write(2, msg, sizeof msg - 1);
    return;
  }
  using StartFn = int (*)();
  if (auto start = reinterpret_cast<StartFn>(dlsym(handle, "fiberleak_heap_server_start")); start != nullptr) start();
}
}  // namespace
#endif
