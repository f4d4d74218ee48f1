// StackTable: a fixed-capacity, lock-free, de-duplicating store of call stacks
// (raw return addresses). Thread-safe: insert() from scheduler hooks on any
// thread, frames() from readers on any thread.
//
// Inserting never blocks, throws or allocates: the table's memory is reserved
// once (mmap, committed by the kernel as it is touched). When the table is
// full or a probe sequence is too long the insert returns kNoStack and is
// counted in dropped(). Published entries are immutable, so the pointers that
// frames() returns stay valid for the life of the process (the table is never
// destroyed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <fiberleak/snapshot.hpp>

namespace fiberleak::detail {

class StackTable {
 public:
  // capacity: number of distinct stacks (rounded up to a power of two);
  // max_depth: frames kept per stack (deeper stacks are truncated).
  StackTable(std::size_t capacity, std::size_t max_depth) noexcept;
  StackTable(const StackTable&) = delete;
  StackTable& operator=(const StackTable&) = delete;

  // Returns the id of the stack equal to pcs[0..n) (truncated to max_depth),
  // inserting it if new; kNoStack if n == 0 or the table has no room.
  // *inserted (if given) says whether this call added it.
  StackId insert(const std::uintptr_t* pcs, std::size_t n, bool* inserted = nullptr) noexcept;
  // Frames of a stack returned by insert(); empty for kNoStack or a bad id.
  StackView frames(StackId id) const noexcept;

  // A per-stack byte readers may cache a derived value in (e.g. the wait
  // kind told from the stack): 0 until set.
  std::uint8_t annotation(StackId id) const noexcept;
  void set_annotation(StackId id, std::uint8_t value) const noexcept;  // a cache: const

  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t max_depth() const noexcept { return max_depth_; }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  // Bytes reserved for the table (virtual; touched pages only are resident).
  std::size_t reserved_bytes() const noexcept { return reserved_bytes_; }

 private:
  struct Entry {
    std::atomic<std::uint64_t> key{0};    // 0 = empty, else hash|1
    std::atomic<std::uint32_t> depth{0};  // written before `ready`
    std::atomic<std::uint8_t> ready{0};   // 1 once frames are published
    std::atomic<std::uint8_t> annotation{0};
  };

  std::size_t capacity_;
  std::size_t max_depth_;
  std::size_t reserved_bytes_ = 0;
  Entry* entries_ = nullptr;
  std::uintptr_t* frames_ = nullptr;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace fiberleak::detail
