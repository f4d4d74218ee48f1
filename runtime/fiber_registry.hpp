// FiberRegistry: the process-wide, immortal store of fiber records.
//
// Thread-safety: every member may be called from any thread. Scheduler hooks
// write a fiber's FiberSlot (one writer at a time: Boost orders a fiber's
// park, wake and destruction through its own locks) under a seqlock; readers
// (snapshot()) copy slots without stopping anyone and retry a slot that
// changed under them. Slots live in chunks that are never freed, and the
// registry itself is never destroyed, so records outlive thread exit and
// static destruction order.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fiberleak/fiber_state.hpp>
#include <fiberleak/runtime_options.hpp>
#include <fiberleak/snapshot.hpp>

#include "runtime/label_set.hpp"
#include "runtime/stack_table.hpp"

namespace fiberleak::detail {

// Bytes reserved in each slot for the boost::fibers::fiber_properties object
// Boost owns (FiberRecord); checked by a static_assert in fiber_record.cpp.
inline constexpr std::size_t kRecordStorageBytes = 48;
inline constexpr std::size_t kMaxNameBytes = 40;  // including the terminating NUL

// One fiber's record. All fields are atomics so readers never race;
// consistency across fields comes from `seq` (odd while a write is under way).
struct alignas(64) FiberSlot {
  alignas(16) unsigned char record_storage[kRecordStorageBytes];

  std::atomic<std::uint32_t> seq{0};
  std::uint32_t index = 0;                  // immutable; kHeapIndex for an untracked overflow slot
  std::atomic<std::uint32_t> next_free{0};  // free list link: index+1 of the next free slot
  std::atomic<std::uint8_t> in_use{0};
  std::atomic<std::uint8_t> state{0};
  std::atomic<std::uint8_t> flags{0};  // kFlag*
  std::atomic<std::uint32_t> thread{0};
  std::atomic<std::uint64_t> id{0};
  std::atomic<std::uint64_t> parent{0};
  std::atomic<std::uint64_t> created_ticks{0};
  std::atomic<std::uint64_t> parked_ticks{0};
  std::atomic<std::uint64_t> blocked_ticks{0};  // closed parks only
  std::atomic<std::uint64_t> parks{0};
  std::atomic<std::uint64_t> switches{0};
  std::atomic<std::uint32_t> creation_stack{0};
  std::atomic<std::uint32_t> park_stack{0};
  std::atomic<std::uint64_t> stack_bytes{0};  // reserved stack, set at creation (0 unknown)
  // The wait queue it is linked into at its latest park (0: none; see
  // runtime/waits_on.hpp).
  std::atomic<std::uint64_t> waits_on{0};
  std::atomic<std::uint64_t> name_words[kMaxNameBytes / 8];
  // Its labels (LabelSet's words): inherited at creation, set by label_scope.
  std::atomic<std::uint64_t> label_words[LabelSet::kWords];

  static constexpr std::uint32_t kHeapIndex = 0xffffffffu;
  static constexpr std::uint8_t kFlagMain = 1;
  static constexpr std::uint8_t kFlagAdopted = 2;
  static constexpr std::uint8_t kFlagTrackingEnded = 4;  // its thread replaced the tracking algorithm
  // Of the current park (FiberSnapshot's fields of the same names).
  static constexpr std::uint8_t kFlagRearmed = 8;
  static constexpr std::uint8_t kFlagRewaits = 16;
  static constexpr std::uint8_t kParkFlags = kFlagRearmed | kFlagRewaits;

  // Seqlock write section; the single writer brackets its stores with these.
  void begin_write() noexcept {
    seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  void end_write() noexcept { seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  void set_name(std::string_view name) noexcept;
  // Copies the name (NUL-terminated, truncated to cap-1) into out.
  void copy_name(char* out, std::size_t cap) const noexcept;
  LabelSet labels() const noexcept;
  void set_labels(const LabelSet& labels) noexcept;
};

// Five cache lines: three of figures, two of labels.
static_assert(sizeof(FiberSlot) == 320, "FiberSlot grew past five cache lines");

class FiberRegistry {
 public:
  // The one registry, created on first use with the options given to
  // configure() before then (defaults otherwise). Never destroyed.
  static FiberRegistry& instance() noexcept;

  // Sets the options. Capacities take effect only before the registry is
  // first used (returns false if they could not be applied); the capture
  // switches take effect at once.
  static bool configure(const RuntimeOptions& options) noexcept;

  // A fresh slot (in_use, new id, zeroed figures) or nullptr when
  // max_fibers slots are live. Hook-safe: no locks; allocates only when the
  // population grows past what was ever live before.
  FiberSlot* acquire() noexcept;
  // Returns a slot from acquire() to the free list. Hook-safe.
  void release(FiberSlot* slot) noexcept;

  StackTable& stacks() noexcept { return stacks_; }
  const StackTable& stacks() const noexcept { return stacks_; }

  bool capture_park_stacks() const noexcept { return capture_park_.load(std::memory_order_relaxed); }
  bool capture_creation_stacks() const noexcept { return capture_creation_.load(std::memory_order_relaxed); }
  bool cache_stacks() const noexcept { return cache_stacks_.load(std::memory_order_relaxed); }
  std::size_t stack_depth() const noexcept { return stacks_.max_depth(); }

  void count_dropped_record() noexcept { records_dropped_.fetch_add(1, std::memory_order_relaxed); }
  void count_installed_thread() noexcept { threads_installed_.fetch_add(1, std::memory_order_relaxed); }
  void count_uninstalled_thread() noexcept { threads_uninstalled_.fetch_add(1, std::memory_order_relaxed); }
  void count_dropped_label() noexcept { labels_dropped_.fetch_add(1, std::memory_order_relaxed); }

  // A consistent copy of every live fiber, ordered by id, with wait kinds
  // told from park stacks. Allocates: never call from a scheduler hook.
  Snapshot snapshot() const;
  RuntimeCounters counters() const noexcept;

 private:
  explicit FiberRegistry(const RuntimeOptions& options) noexcept;
  FiberSlot* slot_at(std::size_t index) const noexcept;
  // context: the address of the fiber's boost::fibers::context.
  bool read_slot(const FiberSlot& slot, FiberSnapshot& out, std::uint64_t& parked_ticks, std::uint64_t& blocked_ticks,
                 std::uintptr_t& context) const noexcept;

  static constexpr std::size_t kChunkSlots = 1024;
  static constexpr std::size_t kMaxChunks = 4096;

  std::size_t max_fibers_;
  StackTable stacks_;
  std::atomic<bool> capture_park_;
  std::atomic<bool> capture_creation_;
  std::atomic<bool> cache_stacks_;
  std::atomic<FiberSlot*> chunks_[kMaxChunks] = {};
  std::atomic<std::size_t> high_water_{0};
  std::atomic<std::uint64_t> free_head_{0};  // (tag << 32) | (index + 1)
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::uint64_t> created_{0};
  std::atomic<std::uint64_t> destroyed_{0};
  std::atomic<std::uint64_t> records_dropped_{0};
  std::atomic<std::uint64_t> threads_installed_{0};
  std::atomic<std::uint64_t> threads_uninstalled_{0};
  std::atomic<std::uint64_t> labels_dropped_{0};
  mutable std::atomic<std::uint64_t> snapshot_retries_{0};
};

}  // namespace fiberleak::detail
