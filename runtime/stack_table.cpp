#include "runtime/stack_table.hpp"

#include <sys/mman.h>

#include <cstring>
#include <new>

namespace fiberleak::detail {
namespace {

constexpr std::size_t kMaxProbes = 64;

std::size_t round_up_pow2(std::size_t n) noexcept {
  std::size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}

// FNV-1a over the words, then a final mix; never 0 (0 marks an empty slot).
std::uint64_t hash_frames(const std::uintptr_t* pcs, std::size_t n) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<std::uint64_t>(pcs[i]);
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h | 1;
}

void* reserve(std::size_t bytes) noexcept {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

StackTable::StackTable(std::size_t capacity, std::size_t max_depth) noexcept
    : capacity_(round_up_pow2(capacity)), max_depth_(max_depth == 0 ? 1 : max_depth) {
  const std::size_t entry_bytes = capacity_ * sizeof(Entry);
  const std::size_t frame_bytes = capacity_ * max_depth_ * sizeof(std::uintptr_t);
  void* e = reserve(entry_bytes);
  void* f = reserve(frame_bytes);
  if (e == nullptr || f == nullptr) {
    capacity_ = 0;  // every insert is dropped; counted, not fatal
    return;
  }
  // Anonymous mappings are zero-filled, which is the empty state of Entry's
  // atomics; construct them anyway so the object model is honoured.
  entries_ = static_cast<Entry*>(e);
  for (std::size_t i = 0; i < capacity_; ++i) new (&entries_[i]) Entry();
  frames_ = static_cast<std::uintptr_t*>(f);
  reserved_bytes_ = entry_bytes + frame_bytes;
}

StackId StackTable::insert(const std::uintptr_t* pcs, std::size_t n, bool* inserted) noexcept {
  if (inserted != nullptr) *inserted = false;
  if (n == 0) return kNoStack;
  if (n > max_depth_) n = max_depth_;
  if (capacity_ == 0 || size_.load(std::memory_order_relaxed) >= capacity_ - capacity_ / 8) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return kNoStack;
  }
  const std::uint64_t h = hash_frames(pcs, n);
  std::size_t idx = static_cast<std::size_t>(h) & (capacity_ - 1);
  for (std::size_t probe = 0; probe < kMaxProbes; ++probe, idx = (idx + 1) & (capacity_ - 1)) {
    Entry& e = entries_[idx];
    std::uint64_t key = e.key.load(std::memory_order_acquire);
    if (key == 0) {
      std::uint64_t expected = 0;
      if (e.key.compare_exchange_strong(expected, h, std::memory_order_acq_rel)) {
        std::memcpy(&frames_[idx * max_depth_], pcs, n * sizeof(std::uintptr_t));
        e.depth.store(static_cast<std::uint32_t>(n), std::memory_order_relaxed);
        e.ready.store(1, std::memory_order_release);
        size_.fetch_add(1, std::memory_order_relaxed);
        if (inserted != nullptr) *inserted = true;
        return static_cast<StackId>(idx + 1);
      }
      key = expected;
    }
    // A slot being filled by another thread is skipped rather than waited
    // for: at worst the same stack gets two entries.
    if (key != h || e.ready.load(std::memory_order_acquire) == 0) continue;
    if (e.depth.load(std::memory_order_relaxed) == n &&
        std::memcmp(&frames_[idx * max_depth_], pcs, n * sizeof(std::uintptr_t)) == 0) {
      return static_cast<StackId>(idx + 1);
    }
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return kNoStack;
}

StackView StackTable::frames(StackId id) const noexcept {
  const auto i = static_cast<std::size_t>(id);
  if (i == 0 || i > capacity_) return {};
  const Entry& e = entries_[i - 1];
  if (e.ready.load(std::memory_order_acquire) == 0) return {};
  return {&frames_[(i - 1) * max_depth_], e.depth.load(std::memory_order_relaxed)};
}

std::uint8_t StackTable::annotation(StackId id) const noexcept {
  const auto i = static_cast<std::size_t>(id);
  if (i == 0 || i > capacity_) return 0;
  return entries_[i - 1].annotation.load(std::memory_order_relaxed);
}

void StackTable::set_annotation(StackId id, std::uint8_t value) const noexcept {
  const auto i = static_cast<std::size_t>(id);
  if (i == 0 || i > capacity_) return;
  entries_[i - 1].annotation.store(value, std::memory_order_relaxed);
}

}  // namespace fiberleak::detail
