// The interposed C allocation functions: forward to glibc's __libc_*
// entry points (no dlsym bootstrap) and tell the sampler through its hot
// path (sampler_hot_path.hpp), inlined here. libstdc++'s operator
// new/delete call malloc/free, so they are covered too. Thread-safe; these
// and the C interface (heap_c_api.cpp) are all the preload library exports.
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>

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
