#include "runtime/heap/bucket_table.hpp"

#include <algorithm>
#include <cstring>

#include "runtime/heap/zeroed_pages.hpp"

namespace fiberleak::heap::detail {
namespace {

// Twice the buckets: probe chains stay short.
constexpr std::size_t kIndexSize = kMaxBuckets * 2;
constexpr std::size_t kBucketsBytes = sizeof(Bucket) * kMaxBuckets;
constexpr std::size_t kIndexBytes = sizeof(std::atomic<std::uint32_t>) * kIndexSize;

std::uint64_t hash_stack(const std::uintptr_t* pcs, std::size_t n, std::uint64_t fiber) noexcept {
  std::uint64_t h = 1469598103934665603ULL ^ fiber;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= pcs[i];
    h *= 1099511628211ULL;
    h ^= h >> 29;
  }
  return h | 1;
}

}  // namespace

__constinit BucketTable g_bucket_table;

bool BucketTable::map() noexcept {
  buckets_ = static_cast<Bucket*>(map_zeroed_pages(kBucketsBytes));
  index_ = static_cast<std::atomic<std::uint32_t>*>(map_zeroed_pages(kIndexBytes));
  if (buckets_ == nullptr || index_ == nullptr) return false;
  prefault_pages(index_, kIndexBytes);
  return true;
}

// The index slot of an existing (stack, fiber) bucket, or the empty slot
// where the probe chain ends. Lock-free: slots go from 0 to a bucket once.
std::uint32_t BucketTable::probe(std::uint64_t h, const std::uintptr_t* pcs, std::size_t n, std::uint64_t fiber,
                                 std::size_t& i) const noexcept {
  for (i = h & (kIndexSize - 1);; i = (i + 1) & (kIndexSize - 1)) {
    const std::uint32_t v = index_[i].load(std::memory_order_acquire);
    if (v == 0) return 0;
    const Bucket& b = buckets_[v - 1];
    if (b.hash == h && b.fiber_id == fiber && b.depth == n &&
        std::memcmp(b.pcs, pcs, n * sizeof(std::uintptr_t)) == 0) {
      return v;
    }
  }
}

// Finding one takes no lock (the common case: a known stack); creating one does.
std::uint32_t BucketTable::find_or_add(const std::uintptr_t* pcs, std::size_t n, std::uint64_t fiber,
                                       const char* name) noexcept {
  const std::uint64_t h = hash_stack(pcs, n, fiber);
  std::size_t i = 0;
  if (const std::uint32_t v = probe(h, pcs, n, fiber, i); v != 0) return v - 1;
  lock_.lock();
  if (const std::uint32_t v = probe(h, pcs, n, fiber, i); v != 0) {  // created meanwhile
    lock_.unlock();
    return v - 1;
  }
  const std::uint32_t idx = count_.load(std::memory_order_relaxed);
  if (idx >= kMaxBuckets) {
    lock_.unlock();
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return kFull;
  }
  Bucket& b = buckets_[idx];
  b.hash = h;
  b.fiber_id = fiber;
  b.depth = static_cast<std::uint32_t>(n);
  std::memcpy(b.name, name, kFiberNameCap);
  std::memcpy(b.pcs, pcs, n * sizeof(std::uintptr_t));
  index_[i].store(idx + 1, std::memory_order_release);  // publishes the bucket
  count_.store(idx + 1, std::memory_order_release);
  lock_.unlock();
  return idx;
}

void BucketTable::read(std::uint32_t i, FiberleakHeapBucketRecord& out) const noexcept {
  const Bucket& b = buckets_[i];
  out.fiber_id = b.fiber_id;
  std::memcpy(out.fiber_name, b.name, kFiberNameCap);
  out.fiber_name[kFiberNameCap - 1] = '\0';
  out.depth = b.depth;
  std::memcpy(out.pcs, b.pcs, b.depth * sizeof(std::uintptr_t));
  std::uint64_t alloc_objects = 0, alloc_bytes = 0, free_objects = 0, free_bytes = 0;
  for (const CounterShard& s : b.counters) {
    alloc_objects += s.alloc_objects.load(std::memory_order_relaxed);
    alloc_bytes += s.alloc_bytes.load(std::memory_order_relaxed);
    free_objects += s.free_objects.load(std::memory_order_relaxed);
    free_bytes += s.free_bytes.load(std::memory_order_relaxed);
  }
  out.alloc_objects = alloc_objects;
  out.alloc_bytes = alloc_bytes;
  // A free counted before its allocation: never report negative live.
  out.free_objects = std::min(free_objects, alloc_objects);
  out.free_bytes = std::min(free_bytes, alloc_bytes);
}

std::uint64_t BucketTable::memory_bytes() const noexcept {
  return std::uint64_t{count_.load(std::memory_order_relaxed)} * sizeof(Bucket) + kIndexBytes;
}

}  // namespace fiberleak::heap::detail
