#include "runtime/fiber_registry.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>

#include "runtime/fiber_record.hpp"
#include "runtime/postmortem_info.hpp"
#include "runtime/stack_capture.hpp"
#include "runtime/tick_clock.hpp"
#include "runtime/wait_classifier.hpp"
#include "runtime/waits_on.hpp"

namespace fiberleak::detail {
namespace {

std::mutex g_config_mutex;
RuntimeOptions g_pending_options;
std::atomic<FiberRegistry*> g_registry{nullptr};

std::size_t clamp_max_fibers(std::size_t n) noexcept {
  return std::clamp<std::size_t>(n, 1024, std::size_t{1024} * 4096);
}

// The longest prefix of s[0, n) of at most `max` bytes that does not end
// inside a UTF-8 character: a cut never leaves half a character for the
// JSON writers to choke on. Bytes that are no UTF-8 pass through as they
// are (the writers replace them).
std::size_t utf8_prefix(const char* s, std::size_t n, std::size_t max) noexcept {
  if (n <= max) return n;
  std::size_t cut = max;
  // Back over continuation bytes (10xxxxxx) to the lead byte of the character
  // that does not fit; at most 3 of them in valid UTF-8.
  while (cut > 0 && max - cut < 3 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80 ? max : cut;
}

}  // namespace

// Keeps runtime/postmortem_info.o, which the gdb extension reads, in every
// program that links the runtime (see postmortem_info.hpp).
extern const char* const* const kPostmortemAnchor;
const char* const* const kPostmortemAnchor = kWaitReasonWords;

void FiberSlot::set_name(std::string_view name) noexcept {
  char buf[kMaxNameBytes] = {};
  if (!name.empty()) std::memcpy(buf, name.data(), utf8_prefix(name.data(), name.size(), kMaxNameBytes - 1));
  for (std::size_t w = 0; w < kMaxNameBytes / 8; ++w) {
    std::uint64_t word;
    std::memcpy(&word, buf + w * 8, 8);
    name_words[w].store(word, std::memory_order_relaxed);
  }
}

void FiberSlot::copy_name(char* out, std::size_t cap) const noexcept {
  if (cap == 0) return;
  char buf[kMaxNameBytes];
  for (std::size_t w = 0; w < kMaxNameBytes / 8; ++w) {
    const std::uint64_t word = name_words[w].load(std::memory_order_relaxed);
    std::memcpy(buf + w * 8, &word, 8);
  }
  buf[kMaxNameBytes - 1] = '\0';
  const std::size_t n = utf8_prefix(buf, std::strlen(buf), cap - 1);
  std::memcpy(out, buf, n);
  out[n] = '\0';
}

LabelSet FiberSlot::labels() const noexcept {
  LabelSet out;
  for (std::size_t w = 0; w < LabelSet::kWords; ++w) out.set_word(w, label_words[w].load(std::memory_order_relaxed));
  return out;
}

void FiberSlot::set_labels(const LabelSet& labels) noexcept {
  for (std::size_t w = 0; w < LabelSet::kWords; ++w) label_words[w].store(labels.word(w), std::memory_order_relaxed);
}

FiberRegistry& FiberRegistry::instance() noexcept {
  FiberRegistry* r = g_registry.load(std::memory_order_acquire);
  if (r != nullptr) return *r;
  std::lock_guard<std::mutex> lock(g_config_mutex);
  r = g_registry.load(std::memory_order_relaxed);
  if (r == nullptr) {
    TickClock::init();
    // Deliberately leaked: records must outlive every thread and static.
    r = new FiberRegistry(g_pending_options);
    g_registry.store(r, std::memory_order_release);
  }
  return *r;
}

bool FiberRegistry::configure(const RuntimeOptions& options) noexcept {
  std::lock_guard<std::mutex> lock(g_config_mutex);
  g_pending_options = options;
  FiberRegistry* r = g_registry.load(std::memory_order_acquire);
  if (r == nullptr) return true;
  r->capture_park_.store(options.capture_park_stacks, std::memory_order_relaxed);
  r->capture_creation_.store(options.capture_creation_stacks, std::memory_order_relaxed);
  r->cache_stacks_.store(options.cache_stacks, std::memory_order_relaxed);
  return r->stacks_.max_depth() == std::clamp<std::size_t>(options.stack_depth, 1, kMaxStackDepth) &&
         r->max_fibers_ == clamp_max_fibers(options.max_fibers);
}

FiberRegistry::FiberRegistry(const RuntimeOptions& options) noexcept
    : max_fibers_(clamp_max_fibers(options.max_fibers)),
      stacks_(options.stack_table_capacity, std::clamp<std::size_t>(options.stack_depth, 1, kMaxStackDepth)),
      capture_park_(options.capture_park_stacks),
      capture_creation_(options.capture_creation_stacks),
      cache_stacks_(options.cache_stacks) {}

FiberSlot* FiberRegistry::slot_at(std::size_t index) const noexcept {
  FiberSlot* chunk = chunks_[index / kChunkSlots].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : &chunk[index % kChunkSlots];
}

FiberSlot* FiberRegistry::acquire() noexcept {
  FiberSlot* slot = nullptr;
  // Pop the free list (Treiber stack; the tag in the high half defeats ABA).
  std::uint64_t head = free_head_.load(std::memory_order_acquire);
  while ((head & 0xffffffffu) != 0) {
    FiberSlot* candidate = slot_at((head & 0xffffffffu) - 1);
    const std::uint64_t next = candidate->next_free.load(std::memory_order_relaxed);
    const std::uint64_t tagged = ((head >> 32) + 1) << 32 | next;
    if (free_head_.compare_exchange_weak(head, tagged, std::memory_order_acquire)) {
      slot = candidate;
      break;
    }
  }
  if (slot == nullptr) {
    const std::size_t index = high_water_.fetch_add(1, std::memory_order_relaxed);
    if (index >= max_fibers_) {
      high_water_.fetch_sub(1, std::memory_order_relaxed);
      return nullptr;
    }
    std::atomic<FiberSlot*>& chunk_ref = chunks_[index / kChunkSlots];
    FiberSlot* chunk = chunk_ref.load(std::memory_order_acquire);
    if (chunk == nullptr) {
      // Growth past the largest population so far: the only allocation.
      FiberSlot* fresh = new (std::nothrow) FiberSlot[kChunkSlots];
      if (fresh == nullptr) return nullptr;
      for (std::size_t i = 0; i < kChunkSlots; ++i) {
        fresh[i].index = static_cast<std::uint32_t>(index / kChunkSlots * kChunkSlots + i);
      }
      if (chunk_ref.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
        chunk = fresh;
      } else {
        delete[] fresh;
      }
    }
    slot = &chunk[index % kChunkSlots];
  }

  const std::uint64_t now = TickClock::now();
  slot->begin_write();
  slot->state.store(static_cast<std::uint8_t>(FiberState::runnable), std::memory_order_relaxed);
  slot->flags.store(0, std::memory_order_relaxed);
  slot->thread.store(0, std::memory_order_relaxed);
  slot->id.store(next_id_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  slot->parent.store(0, std::memory_order_relaxed);
  slot->created_ticks.store(now, std::memory_order_relaxed);
  slot->parked_ticks.store(0, std::memory_order_relaxed);
  slot->blocked_ticks.store(0, std::memory_order_relaxed);
  slot->parks.store(0, std::memory_order_relaxed);
  slot->switches.store(0, std::memory_order_relaxed);
  slot->creation_stack.store(0, std::memory_order_relaxed);
  slot->park_stack.store(0, std::memory_order_relaxed);
  slot->stack_bytes.store(0, std::memory_order_relaxed);
  slot->waits_on.store(0, std::memory_order_relaxed);
  slot->set_name({});
  slot->set_labels(LabelSet{});
  slot->in_use.store(1, std::memory_order_relaxed);
  slot->end_write();
  created_.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

void FiberRegistry::release(FiberSlot* slot) noexcept {
  slot->begin_write();
  slot->in_use.store(0, std::memory_order_relaxed);
  slot->end_write();
  destroyed_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t head = free_head_.load(std::memory_order_relaxed);
  std::uint64_t tagged;
  do {
    slot->next_free.store(static_cast<std::uint32_t>(head & 0xffffffffu), std::memory_order_relaxed);
    tagged = ((head >> 32) + 1) << 32 | (slot->index + 1ull);
  } while (!free_head_.compare_exchange_weak(head, tagged, std::memory_order_release, std::memory_order_relaxed));
}

bool FiberRegistry::read_slot(const FiberSlot& slot, FiberSnapshot& out, std::uint64_t& parked_ticks,
                              std::uint64_t& blocked_ticks, std::uintptr_t& context) const noexcept {
  for (;;) {
    const std::uint32_t s1 = slot.seq.load(std::memory_order_acquire);
    if (s1 & 1u) {
      snapshot_retries_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const bool in_use = slot.in_use.load(std::memory_order_relaxed) != 0;
    const auto state = static_cast<FiberState>(slot.state.load(std::memory_order_relaxed));
    const std::uint8_t flags = slot.flags.load(std::memory_order_relaxed);
    out.thread = slot.thread.load(std::memory_order_relaxed);
    out.id = static_cast<FiberId>(slot.id.load(std::memory_order_relaxed));
    out.parent = static_cast<FiberId>(slot.parent.load(std::memory_order_relaxed));
    const std::uint64_t created = slot.created_ticks.load(std::memory_order_relaxed);
    parked_ticks = slot.parked_ticks.load(std::memory_order_relaxed);
    blocked_ticks = slot.blocked_ticks.load(std::memory_order_relaxed);
    out.parks = slot.parks.load(std::memory_order_relaxed);
    out.switches = slot.switches.load(std::memory_order_relaxed);
    out.creation_stack = static_cast<StackId>(slot.creation_stack.load(std::memory_order_relaxed));
    out.park_stack = static_cast<StackId>(slot.park_stack.load(std::memory_order_relaxed));
    out.stack_bytes = slot.stack_bytes.load(std::memory_order_relaxed);
    out.waits_on = slot.waits_on.load(std::memory_order_relaxed);
    context = FiberRecord::context_in(slot);
    char name[kMaxNameBytes];
    slot.copy_name(name, sizeof name);
    const LabelSet labels = slot.labels();
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.seq.load(std::memory_order_relaxed) != s1) {
      snapshot_retries_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!in_use || state == FiberState::done) return false;
    out.state = state;
    out.is_main = (flags & FiberSlot::kFlagMain) != 0;
    out.adopted = (flags & FiberSlot::kFlagAdopted) != 0;
    out.tracking_ended = (flags & FiberSlot::kFlagTrackingEnded) != 0;
    out.rearmed = (flags & FiberSlot::kFlagRearmed) != 0;
    out.rewaits = (flags & FiberSlot::kFlagRewaits) != 0;
    out.created_ns = TickClock::to_steady_ns(created);
    out.name.assign(name);
    out.labels = labels.labels();
    return true;
  }
}

Snapshot FiberRegistry::snapshot() const {
  Snapshot snap;
  const std::size_t n = std::min(high_water_.load(std::memory_order_acquire), max_fibers_);
  // Two counters read one after the other while fibers come and go: more
  // may end between the reads than were counted as created (a difference
  // below zero reserved 2^64 elements: std::length_error). A hint only.
  const std::uint64_t created = created_.load(std::memory_order_relaxed);
  const std::uint64_t destroyed = destroyed_.load(std::memory_order_relaxed);
  const std::uint64_t live = std::min<std::uint64_t>(created > destroyed ? created - destroyed : 0, n);
  snap.fibers.reserve(live + live / 8 + 16);
  WaitClassifier classifier(stacks_);
  FiberSnapshot f;
  std::vector<LiveContext> contexts;
  std::vector<const FiberSlot*> slots;  // of snap.fibers, in order
  contexts.reserve(snap.fibers.capacity());
  slots.reserve(snap.fibers.capacity());
  for (std::size_t i = 0; i < n; ++i) {
    const FiberSlot* slot = slot_at(i);
    if (slot == nullptr) {
      i += kChunkSlots - 1 - i % kChunkSlots;  // whole chunk not there yet
      continue;
    }
    std::uint64_t parked = 0, blocked = 0;
    std::uintptr_t context = 0;
    if (!read_slot(*slot, f, parked, blocked, context)) continue;
    contexts.push_back({context, snap.fibers.size()});
    slots.push_back(slot);
    f.parked_ns = parked == 0 ? 0 : TickClock::to_steady_ns(parked);
    const bool parked_now = f.parked();
    f.blocked_total_ns = TickClock::to_ns(blocked);  // the open park is added below
    f.wait = WaitKind::none;
    if (parked_now) {
      f.wait = classifier.classify(f.park_stack, f.state);
    } else if (f.state == FiberState::yielded) {
      f.wait = WaitKind::yield;
    }
    snap.fibers.push_back(f);
  }
  snap.waits_on_recorded = kWaitsOnRecorded;
  resolve_wait_targets(snap.fibers, std::move(contexts), [&](std::size_t i) {
    const FiberSlot& slot = *slots[i];
    const std::uint32_t seq = slot.seq.load(std::memory_order_acquire);
    return (seq & 1u) == 0 && slot.parks.load(std::memory_order_relaxed) == snap.fibers[i].parks &&
           slot.state.load(std::memory_order_relaxed) == static_cast<std::uint8_t>(snap.fibers[i].state);
  });
  // Read after the last record: no record is younger than the snapshot, so
  // taken_at - created and taken_at - parked are never negative. The open
  // parks are counted up to it, in the terms of FiberSnapshot::blocked_for_ns().
  snap.taken_at_ns = TickClock::to_steady_ns(TickClock::now());
  for (FiberSnapshot& fiber : snap.fibers) fiber.blocked_total_ns += fiber.blocked_for_ns(snap.taken_at_ns);
  std::sort(snap.fibers.begin(), snap.fibers.end(),
            [](const FiberSnapshot& a, const FiberSnapshot& b) { return a.id < b.id; });
  snap.counters = counters();
  return snap;
}

RuntimeCounters FiberRegistry::counters() const noexcept {
  RuntimeCounters c;
  c.fibers_created = created_.load(std::memory_order_relaxed);
  c.fibers_destroyed = destroyed_.load(std::memory_order_relaxed);
  c.fibers_live = c.fibers_created >= c.fibers_destroyed ? c.fibers_created - c.fibers_destroyed : 0;
  c.records_dropped = records_dropped_.load(std::memory_order_relaxed);
  c.stacks_dropped = stacks_.dropped();
  c.stack_table_size = stacks_.size();
  c.stack_table_capacity = stacks_.capacity();
  c.threads_installed = threads_installed_.load(std::memory_order_relaxed);
  c.threads_uninstalled = threads_uninstalled_.load(std::memory_order_relaxed);
  c.snapshot_retries = snapshot_retries_.load(std::memory_order_relaxed);
  c.labels_dropped = labels_dropped_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace fiberleak::detail
