// DeltaSlot: a delta profile (?seconds=N of /debug/pprof/goroutine, heap and
// allocs) waits N seconds holding its connection; at most kMaxDeltaProfiles
// wait at once in the process, so that they cannot take every connection
// (and a scraper retrying them cannot pile them up). A route takes a slot
// for the wait, or answers 429 with Retry-After. Thread-safe (an atomic).
#pragma once

#include <httplib.h>

#include <atomic>

namespace fiberleak::detail {

inline constexpr int kMaxDeltaProfiles = 2;

class DeltaSlot {
 public:
  // A slot, or an empty one (!held()) when kMaxDeltaProfiles are taken.
  static DeltaSlot take();
  DeltaSlot(DeltaSlot&& other) noexcept : held_(other.held_) { other.held_ = false; }
  DeltaSlot& operator=(DeltaSlot&&) = delete;
  ~DeltaSlot();
  bool held() const { return held_; }

 private:
  explicit DeltaSlot(bool held) : held_(held) {}
  bool held_;
};

// 429 "too many delta profiles" with Retry-After: `retry_seconds`.
void refuse_delta(httplib::Response& res, int retry_seconds);

}  // namespace fiberleak::detail
