// Links fiberleak::runtime alone: a fiber blocked on a channel is recorded
// as such. Exit code 0 on success.
#include <boost/fiber/all.hpp>

#include <cstdio>

#include <fiberleak/runtime.hpp>

int main() {
  fiberleak::install();
  boost::fibers::buffered_channel<int> ch(2);
  boost::fibers::fiber f = fiberleak::spawn("receiver", [&] {
    int v = 0;
    ch.pop(v);
  });
  boost::this_fiber::yield();
  bool found = false;
  for (const auto& rec : fiberleak::snapshot().fibers) {
    if (rec.name == "receiver" && rec.wait == fiberleak::WaitKind::channel_pop) found = true;
  }
  ch.push(1);
  f.join();
  std::puts(found ? "runtime consumer: blocked receiver recorded" : "runtime consumer: receiver NOT recorded");
  return found ? 0 : 1;
}
