// Links fiberleak::runtime from an installed tree and checks that a parked
// fiber is recorded. Exit code 0 on success.
#include <boost/fiber/all.hpp>

#include <cstdio>

#include <fiberleak/runtime.hpp>

int main() {
  fiberleak::install();
  boost::fibers::mutex m;
  m.lock();
  boost::fibers::fiber f = fiberleak::spawn("consumer-fiber", [&] {
    m.lock();
    m.unlock();
  });
  boost::this_fiber::yield();
  bool found = false;
  for (const auto& rec : fiberleak::snapshot().fibers) {
    if (rec.name == "consumer-fiber" && rec.wait == fiberleak::WaitKind::mutex) found = true;
  }
  m.unlock();
  f.join();
  std::puts(found ? "consumer: parked fiber recorded" : "consumer: parked fiber NOT recorded");
  return found ? 0 : 1;
}
