// A program with N parked fibers at five park sites and two fibers in a
// mutex deadlock, served by fiberleak: what the dashboard's browser test
// loads for its 100k-fiber case. Usage: dashboard_many_fibers N [TOKEN].
// Prints "listening on URL" once every fiber is parked; exits when stdin
// closes.
#include <boost/fiber/all.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fiberleak/fiberleak.hpp>

namespace {

using Channel = boost::fibers::buffered_channel<int>;

// Five distinct park sites (noinline: each keeps its own frame).
[[gnu::noinline]] void wait_for_order(Channel& ch) {
  int v = 0;
  ch.pop(v);
}
[[gnu::noinline]] void wait_for_payment(Channel& ch) {
  int v = 0;
  ch.pop(v);
}
[[gnu::noinline]] void wait_for_stock(Channel& ch) {
  int v = 0;
  ch.pop(v);
}
[[gnu::noinline]] void wait_for_shipping(Channel& ch) {
  int v = 0;
  ch.pop(v);
}
[[gnu::noinline]] void wait_for_invoice(Channel& ch) {
  int v = 0;
  ch.pop(v);
}

// Each locks its first mutex, lets the other run, then wants the other's.
[[gnu::noinline]] void lock_both(boost::fibers::mutex& first, boost::fibers::mutex& second) {
  std::lock_guard<boost::fibers::mutex> a(first);
  boost::this_fiber::yield();
  std::lock_guard<boost::fibers::mutex> b(second);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s N [TOKEN]\n", argv[0]);
    return 2;
  }
  const long n = std::strtol(argv[1], nullptr, 10);
  if (n <= 0 || n > 1'000'000) {
    std::fprintf(stderr, "N must be 1..1000000, got %s\n", argv[1]);
    return 2;
  }
  fiberleak::ServeOptions options;
  options.port = 0;
  if (argc == 3) options.token = argv[2];
  options.endpoint.rules.threshold = std::chrono::seconds(1);
  options.endpoint.watchdog_interval = std::chrono::milliseconds(0);  // only the page's requests cost CPU
  fiberleak::ServeHandle server = fiberleak::serve(options);

  std::thread program([n, url = server.url()] {
    fiberleak::install();
    Channel ch{2};
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve(static_cast<std::size_t>(n));
    void (*sites[])(Channel&) = {wait_for_order, wait_for_payment, wait_for_stock, wait_for_shipping, wait_for_invoice};
    for (long i = 0; i < n; ++i) {
      fibers.emplace_back(boost::fibers::launch::post, std::allocator_arg, boost::fibers::fixedsize_stack(16 * 1024),
                          [&ch, f = sites[i % 5]] { f(ch); });
    }
    boost::fibers::mutex accounts, ledger;
    fiberleak::spawn("transfer-in", [&] { lock_both(accounts, ledger); }).detach();
    fiberleak::spawn("transfer-out", [&] { lock_both(ledger, accounts); }).detach();
    boost::this_fiber::yield();
    boost::this_fiber::yield();
    std::printf("listening on %s\n", url.c_str());
    std::fflush(stdout);
    std::string line;
    while (std::cin >> line) {
    }
    std::_Exit(0);  // the deadlocked fibers never end: no joining them
  });
  program.join();
}
