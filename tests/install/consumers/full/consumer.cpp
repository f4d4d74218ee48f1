// Includes <fiberleak/fiberleak.hpp> only: a parked fiber is recorded and
// the endpoint serves on a free port. Exit code 0 on success.
#include <boost/fiber/all.hpp>

#include <cstdio>

#include <fiberleak/fiberleak.hpp>

int main() {
  fiberleak::install();
  fiberleak::ServeOptions options;
  options.port = 0;
  fiberleak::ServeHandle server = fiberleak::serve(options);
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
  const bool served = server.port() > 0;
  server.stop();
  std::printf("consumer: parked fiber %s, endpoint %s\n", found ? "recorded" : "NOT recorded",
              served ? "served" : "NOT served");
  return found && served ? 0 : 1;
}
