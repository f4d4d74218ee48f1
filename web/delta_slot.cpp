#include "web/delta_slot.hpp"

#include <string>

namespace fiberleak::detail {
namespace {

std::atomic<int> g_taken{0};

}  // namespace

DeltaSlot DeltaSlot::take() {
  int taken = g_taken.load();
  while (taken < kMaxDeltaProfiles) {
    if (g_taken.compare_exchange_weak(taken, taken + 1)) return DeltaSlot(true);
  }
  return DeltaSlot(false);
}

DeltaSlot::~DeltaSlot() {
  if (held_) --g_taken;
}

void refuse_delta(httplib::Response& res, int retry_seconds) {
  res.status = 429;
  res.set_header("Retry-After", std::to_string(retry_seconds));
  res.set_content("429 too many requests: " + std::to_string(kMaxDeltaProfiles) +
                      " delta profiles (?seconds=) are already running; retry later\n",
                  "text/plain; charset=utf-8");
}

}  // namespace fiberleak::detail
