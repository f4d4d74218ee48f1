#include "runtime/park_stack_cache.hpp"

#include <new>

namespace fiberleak::detail {

ParkStackCache::ParkStackCache(std::size_t max_depth) noexcept : max_depth_(max_depth) {
  storage_ = new (std::nothrow) std::uint32_t[kEntries * max_depth_];
  if (storage_ == nullptr) return;  // every find() misses
  for (std::size_t i = 0; i < kEntries; ++i) entries_[i].offsets = storage_ + i * max_depth_;
}

ParkStackCache::~ParkStackCache() { delete[] storage_; }

bool ParkStackCache::matches(const StackTable& table, const Entry& e, std::uintptr_t anchor) const noexcept {
  const StackView frames = table.frames(e.id);
  if (frames.size != e.depth) return false;
  for (std::size_t f = 0; f < e.depth; ++f) {
    if (*reinterpret_cast<const std::uintptr_t*>(anchor + e.offsets[f]) != frames.pcs[f]) return false;
  }
  return true;
}

StackId ParkStackCache::find(const StackTable& table, std::uintptr_t anchor, const StackId (&hints)[2]) noexcept {
  // The fiber's own recent park sites first: one or two checks in a loop.
  for (StackId hint : hints) {
    if (hint == kNoStack) continue;
    for (const Entry& e : entries_) {
      if (e.id == hint) {
        if (matches(table, e, anchor)) {
          ++hits_;
          return e.id;
        }
        break;
      }
    }
  }
  for (const Entry& e : entries_) {
    if (e.id == kNoStack || e.id == hints[0] || e.id == hints[1]) continue;
    if (matches(table, e, anchor)) {
      ++hits_;
      return e.id;
    }
  }
  ++misses_;
  return kNoStack;
}

void ParkStackCache::remember(StackId id, std::uintptr_t anchor, const std::uintptr_t* slots, std::size_t n) noexcept {
  if (id == kNoStack || storage_ == nullptr || n == 0 || n > max_depth_) return;
  for (std::size_t f = 0; f < n; ++f) {
    // Slots must lie above the anchor, within 4 GiB, and hold what the
    // unwinder said: otherwise this stack is not cacheable.
    if (slots[f] < anchor || slots[f] - anchor > 0xffffffffu) return;
  }
  for (std::size_t k = 0; k < kEntries; ++k) {
    if (entries_[k].id == id) return;  // already cached (found by another anchor path)
  }
  Entry& e = entries_[next_];
  next_ = (next_ + 1) % kEntries;
  e.id = kNoStack;
  for (std::size_t f = 0; f < n; ++f) e.offsets[f] = static_cast<std::uint32_t>(slots[f] - anchor);
  e.depth = static_cast<std::uint32_t>(n);
  e.id = id;
}

}  // namespace fiberleak::detail
