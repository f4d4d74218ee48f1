#include "runtime/waits_on.hpp"

#include <unistd.h>

#include <boost/fiber/mutex.hpp>
#include <boost/fiber/recursive_mutex.hpp>
#include <boost/fiber/recursive_timed_mutex.hpp>
#include <boost/fiber/timed_mutex.hpp>
#include <sys/uio.h>

#include <algorithm>
#include <map>

namespace fiberleak::detail {
namespace {

using boost::fibers::context;

#if BOOST_VERSION == 107400
// boost/fiber/mutex.hpp (and timed_mutex.hpp, recursive_*): spinlock, wait
// queue, owner. The recorded address is the queue's; the owner follows it.
struct MutexLayout {
  boost::fibers::detail::spinlock splk;
  context::wait_queue_t queue;
  context* owner;
};
static_assert(sizeof(MutexLayout) == sizeof(boost::fibers::mutex), "boost::fibers::mutex changed layout");
static_assert(sizeof(MutexLayout) == sizeof(boost::fibers::timed_mutex), "boost::fibers::timed_mutex changed layout");
static_assert(sizeof(MutexLayout) + sizeof(std::size_t) == sizeof(boost::fibers::recursive_mutex),
              "boost::fibers::recursive_mutex changed layout");
static_assert(offsetof(MutexLayout, owner) == offsetof(MutexLayout, queue) + sizeof(context::wait_queue_t),
              "the owner no longer follows the wait queue");
constexpr std::size_t kOwnerAfterQueue = sizeof(context::wait_queue_t);
#endif

}  // namespace

bool read_own_memory(std::uintptr_t address, void* out, std::size_t n) noexcept {
  iovec local{out, n};
  iovec remote{reinterpret_cast<void*>(address), n};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
}

void resolve_wait_targets(std::vector<FiberSnapshot>& fibers, std::vector<LiveContext> contexts,
                          const std::function<bool(std::size_t)>& still_parked) {
  if constexpr (!kWaitsOnRecorded) return;
#if BOOST_VERSION == 107400
  std::sort(contexts.begin(), contexts.end(),
            [](const LiveContext& a, const LiveContext& b) { return a.address < b.address; });
  // The live fiber whose context holds `address` (exactly, or within it).
  auto fiber_at = [&](std::uintptr_t address, bool inside) -> const LiveContext* {
    auto it = std::upper_bound(contexts.begin(), contexts.end(), address,
                               [](std::uintptr_t a, const LiveContext& c) { return a < c.address; });
    if (it == contexts.begin()) return nullptr;
    --it;
    const bool hit = inside ? address < it->address + sizeof(context) : address == it->address;
    return hit ? &*it : nullptr;
  };
  // A mutex's waiters queue in park order and every unlock wakes the first,
  // so the owner has held it since the oldest current park at least: a
  // "holder" created after that, or one of the waiters themselves, is a new
  // fiber in the context of an owner that ended holding it. (Not a re-armed
  // try_lock_for's first park: the lock may have changed hands between its
  // timeouts.)
  std::map<std::uint64_t, std::int64_t> oldest_park;  // mutex -> earliest park of its waiters
  for (const FiberSnapshot& f : fibers) {
    if (!f.parked() || f.wait != WaitKind::mutex || f.waits_on == 0 || f.rearmed) continue;
    auto [it, added] = oldest_park.emplace(f.waits_on, f.parked_ns);
    if (!added) it->second = std::min(it->second, f.parked_ns);
  }
  for (std::size_t i = 0; i < fibers.size(); ++i) {
    FiberSnapshot& f = fibers[i];
    if (!f.parked() || f.waits_on == 0) continue;
    if (f.wait == WaitKind::join) {
      if (const LiveContext* joined = fiber_at(f.waits_on, true)) f.waits_for = fibers[joined->fiber].id;
    } else if (f.wait == WaitKind::mutex) {
      std::uintptr_t owner = 0;
      if (!read_own_memory(f.waits_on + kOwnerAfterQueue, &owner, sizeof owner) || !still_parked(i)) continue;
      if (owner == 0) continue;  // just unlocked: the waiter is being woken
      const LiveContext* holder = fiber_at(owner, false);
      const FiberSnapshot* h = holder == nullptr ? nullptr : &fibers[holder->fiber];
      const auto oldest = oldest_park.find(f.waits_on);  // none: only re-armed waiters
      const bool reused = h != nullptr && ((h->parked() && h->waits_on == f.waits_on && h->wait == WaitKind::mutex) ||
                                           (oldest != oldest_park.end() && h->created_ns > oldest->second));
      if (h != nullptr && !reused) {
        f.waits_for = h->id;
      } else {
        f.owner_ended = true;
      }
    }
  }
#endif
}

}  // namespace fiberleak::detail
