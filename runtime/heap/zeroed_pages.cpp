#include "runtime/heap/zeroed_pages.hpp"

#include <sys/mman.h>

namespace fiberleak::heap::detail {

void* map_zeroed_pages(std::size_t bytes) noexcept {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void unmap_pages(void* p, std::size_t bytes) noexcept { munmap(p, bytes); }

void prefault_pages(void* p, std::size_t bytes) noexcept {
  auto* c = static_cast<volatile char*>(p);
  for (std::size_t off = 0; off < bytes; off += 4096) c[off] = 0;
}

}  // namespace fiberleak::heap::detail
