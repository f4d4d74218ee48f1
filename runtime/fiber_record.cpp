#include "runtime/fiber_record.hpp"

#include <cstddef>
#include <cstring>

namespace fiberleak::detail {

static_assert(sizeof(FiberRecord) <= kRecordStorageBytes, "FiberRecord must fit in FiberSlot::record_storage");
static_assert(offsetof(FiberSlot, record_storage) == 0, "a FiberRecord's address is its slot's address");

namespace {
void* untracked_slot() noexcept {
  FiberSlot* slot = new (std::nothrow) FiberSlot();
  if (slot == nullptr) return nullptr;
  slot->index = FiberSlot::kHeapIndex;
  return slot->record_storage;
}
}  // namespace

namespace {
// Where fiber_properties keeps its context pointer inside a FiberRecord:
// found once by making a record (in a local buffer) for a known address.
std::size_t context_offset() noexcept {
  static const std::size_t offset = [] {
    alignas(FiberRecord) unsigned char buffer[sizeof(FiberRecord)] = {};
    const auto marker = reinterpret_cast<boost::fibers::context*>(std::uintptr_t{0x5eed5eed5eed5ee0});
    auto* probe = ::new (static_cast<void*>(buffer)) FiberRecord(marker);
    std::size_t at = sizeof(FiberRecord);
    for (std::size_t i = 0; i + sizeof(void*) <= sizeof(FiberRecord); i += alignof(void*)) {
      void* value = nullptr;
      std::memcpy(&value, buffer + i, sizeof value);
      if (value == marker) at = i;
    }
    probe->~FiberRecord();
    return at;
  }();
  return offset;
}
}  // namespace

std::uintptr_t FiberRecord::context_in(const FiberSlot& slot) noexcept {
  const std::size_t at = context_offset();
  if (at >= sizeof(FiberRecord)) return 0;
  std::uintptr_t value = 0;
  __atomic_load(reinterpret_cast<const std::uintptr_t*>(slot.record_storage + at), &value, __ATOMIC_RELAXED);
  return value;
}

void* FiberRecord::operator new(std::size_t) noexcept {
  FiberRegistry& registry = FiberRegistry::instance();
  if (FiberSlot* slot = registry.acquire()) return slot->record_storage;
  registry.count_dropped_record();
  return untracked_slot();
}

void* FiberRecord::operator new(std::size_t, Untracked) noexcept { return untracked_slot(); }

void FiberRecord::operator delete(void* p) noexcept {
  if (p == nullptr) return;
  auto* slot = static_cast<FiberSlot*>(p);
  if (slot->index == FiberSlot::kHeapIndex) {
    delete slot;
  } else {
    FiberRegistry::instance().release(slot);
  }
}

}  // namespace fiberleak::detail
