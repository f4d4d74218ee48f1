#include "runtime/fiber_record.hpp"

#include <cstddef>

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
