// A program that deadlocks, for the gdb extension's tests: fibers "alpha" and
// "beta" take two mutexes in opposite orders and wait for each other, and the
// main fiber joins alpha. Prints "ready" once both are parked, then hangs
// until killed. It never takes a snapshot, so the extension tells every wait
// kind itself (the stack table caches none).
#include <boost/fiber/all.hpp>

#include <cstdio>

#include <fiberleak/runtime.hpp>

namespace {

boost::fibers::mutex g_first;
boost::fibers::mutex g_second;
bool g_alpha_holds = false;
bool g_beta_holds = false;

__attribute__((noinline)) void take_in_order(boost::fibers::mutex& held, boost::fibers::mutex& wanted, bool& mine,
                                             const bool& theirs) {
  std::lock_guard<boost::fibers::mutex> a(held);
  mine = true;
  while (!theirs) boost::this_fiber::yield();
  std::lock_guard<boost::fibers::mutex> b(wanted);  // parks for ever: the other fiber holds it
}

}  // namespace

int main() {
  fiberleak::install();
  fiberleak::this_fiber::set_name("deadlock-main");
  boost::fibers::fiber alpha = fiberleak::spawn("alpha", [] {
    fiberleak::label_scope order("order", "first");  // gdb lists labels
    take_in_order(g_first, g_second, g_alpha_holds, g_beta_holds);
  });
  boost::fibers::fiber beta = fiberleak::spawn("beta", [] {
    fiberleak::label_scope order("order", "second");
    take_in_order(g_second, g_first, g_beta_holds, g_alpha_holds);
  });
  // One thread: once both hold their first mutex, a yield lets each reach its park.
  while (!(g_alpha_holds && g_beta_holds)) boost::this_fiber::yield();
  boost::this_fiber::yield();
  boost::this_fiber::yield();
  std::printf("ready\n");
  std::fflush(stdout);
  alpha.join();  // never returns
  beta.join();
  return 0;
}
