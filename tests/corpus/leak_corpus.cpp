// The leak corpus: every pattern of ../shared/LEAK-PATTERNS.md (1-11) next
// to the healthy look-alikes, on two work_stealing threads whose main
// fibers stay unnamed, served by fiberleak. corpus_test.sh checks every
// leak's verdict and chain, and that no healthy fiber is flagged, through
// each output: /debug/leaks and the watchdog's log (in-process),
// `fiberleakd check`, and the sidecar's /api/findings. No ignore rule: the
// names below are the test's only knowledge.
//
// Usage: leak_corpus THRESHOLD_MS WATCHDOG_MS. Prints "served at URL", then
// "formed NAME T" when a leak forms and "flagged NAME VERDICT T" when the
// watchdog reports it (T: steady-clock ms), for the time-to-flag figures.
// Runs until stdin closes or SIGTERM.
#include <boost/fiber/all.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <fiberleak/fiberleak.hpp>

namespace bf = boost::fibers;
using namespace std::chrono_literals;

namespace {

std::mutex g_print;
long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
void say(const char* what, const std::string& name, const char* extra = "") {
  std::lock_guard<std::mutex> lock(g_print);
  std::printf("%s %s%s %lld\n", what, name.c_str(), extra, now_ms());
  std::fflush(stdout);
}

std::atomic<bool> g_stop{false};
extern "C" void on_term(int) { g_stop = true; }

// Everything the fibers share; never destroyed (the leaked fibers hold it).
struct Corpus {
  // 1: a receiver nobody sends to (the producer left without closing).
  bf::buffered_channel<int> orphan_orders{4};
  // 2: senders left behind after their caller timed out.
  // 3: no cancellation: waits for a shutdown flag nobody sets.
  bf::mutex shutdown_mutex;
  bf::condition_variable shutdown_cv;
  bool shutdown = false;
  // 4: a lock held across a call that never returns.
  bf::mutex ledger;
  bf::buffered_channel<int> backend{4};
  // 6: started at teardown, nobody waits for it.
  bf::buffered_channel<int> teardown_done{4};
  // 8: a promise never kept.
  bf::promise<int> never_kept;
  // 9: deadlocks.
  bf::mutex m_a, m_b, m_x, m_y;
  // 10: timed waits re-armed forever.
  bf::mutex poll_mutex;
  bf::condition_variable poll_cv;
  bool poll_flag = false;
  bf::timed_mutex held_forever;
  bf::buffered_channel<int> tm_holder_wait{4};
  // 11: a lock whose owner ended holding it.
  bf::mutex orphaned;
  bf::buffered_channel<int> p11_go{2};
  // Healthy: fed channels, a ticker, a yielding compute loop.
  bf::buffered_channel<int> connections{64};
  bf::buffered_channel<int> jobs{64};
};

__attribute__((noinline)) void receive_orders(Corpus& c) {
  int v;
  c.orphan_orders.pop(v);
}

__attribute__((noinline)) void send_reply(bf::unbuffered_channel<int>* reply) {
  boost::this_fiber::sleep_for(50ms);  // slower than its caller waits
  reply->push(42);
}

__attribute__((noinline)) void wait_for_shutdown(Corpus& c) {
  std::unique_lock<bf::mutex> lk(c.shutdown_mutex);
  c.shutdown_cv.wait(lk, [&] { return c.shutdown; });
}

__attribute__((noinline)) void call_backend_holding_ledger(Corpus& c) {
  std::lock_guard<bf::mutex> lk(c.ledger);
  int v;
  c.backend.pop(v);
}

__attribute__((noinline)) void update_ledger(Corpus& c) { std::lock_guard<bf::mutex> lk(c.ledger); }

__attribute__((noinline)) void wait_forever(bf::buffered_channel<int>& ch) {
  int v;
  ch.pop(v);
}

__attribute__((noinline)) void await_never_kept(bf::shared_future<int> f) { f.get(); }

// Not the same code as await_never_kept(): identical functions are folded
// into one by GCC's identical code folding, sites and all.
__attribute__((noinline)) int await_event_reply(bf::shared_future<int> f, int event) { return f.get() + event; }

__attribute__((noinline)) void lock_both(bf::mutex& first, bf::mutex& second, bf::barrier& both_hold) {
  std::lock_guard<bf::mutex> a(first);
  both_hold.wait();
  std::lock_guard<bf::mutex> b(second);
}

__attribute__((noinline)) void poll_flag_forever(Corpus& c) {
  std::unique_lock<bf::mutex> lk(c.poll_mutex);
  while (!c.poll_flag) c.poll_cv.wait_for(lk, 50ms);
}

__attribute__((noinline)) void try_lock_forever(Corpus& c) {
  while (!c.held_forever.try_lock_for(50ms)) {
  }
  c.held_forever.unlock();
}

__attribute__((noinline)) void lock_and_return(bf::mutex& m) { m.lock(); }

__attribute__((noinline)) void lock_orphaned(Corpus& c) { std::lock_guard<bf::mutex> lk(c.orphaned); }

__attribute__((noinline)) void accept_loop(Corpus& c) {
  int conn;
  while (c.connections.pop(conn) == bf::channel_op_status::success) boost::this_fiber::yield();
}

__attribute__((noinline)) void pool_worker(Corpus& c) {
  int job;
  while (c.jobs.pop(job) == bf::channel_op_status::success) boost::this_fiber::sleep_for(1ms);
}

__attribute__((noinline)) void tick() {
  for (;;) boost::this_fiber::sleep_for(50ms);
}

__attribute__((noinline)) void compute() {
  volatile unsigned long x = 0;
  for (;;) {
    for (int i = 0; i < 10000; ++i) x = x + static_cast<unsigned long>(i);
    boost::this_fiber::yield();
  }
}

void spawn_corpus(Corpus& c) {
  // 1
  fiberleak::spawn("p1-receiver", [&c] { receive_orders(c); }).detach();
  say("formed", "p1-receiver");
  // 2: three requests whose callers gave up after 20 ms.
  for (int i = 0; i < 3; ++i) {
    auto* reply = new bf::unbuffered_channel<int>();
    fiberleak::spawn("p2-sender", [reply] { send_reply(reply); }).detach();
    int v;
    (void)reply->pop_wait_for(v, 20ms);
  }
  say("formed", "p2-sender");
  // 3
  fiberleak::spawn("p3-no-cancel", [&c] { wait_for_shutdown(c); }).detach();
  say("formed", "p3-no-cancel");
  // 4: the holder waits on the backend; the locker waits for the holder.
  fiberleak::spawn("p4-holder", [&c] { call_backend_holding_ledger(c); }).detach();
  boost::this_fiber::sleep_for(5ms);
  fiberleak::spawn("p4-locker", [&c] { update_ledger(c); }).detach();
  say("formed", "p4-locker");
  // 5: a join on a fiber that never ends.
  fiberleak::spawn("p5-joiner", [&c] {
    auto forever = fiberleak::spawn("p5-forever", [&c] { wait_forever(c.backend); });
    forever.join();
  }).detach();
  say("formed", "p5-joiner");
  // 6: spawned while its parent returns; nobody waits for it.
  fiberleak::spawn("p6-parent", [&c] {
    fiberleak::spawn("p6-teardown", [&c] { wait_forever(c.teardown_done); }).detach();
  }).detach();
  say("formed", "p6-teardown");
  // 8
  bf::shared_future<int> never = c.never_kept.get_future().share();
  fiberleak::spawn("p8-promise", [never] { await_never_kept(never); }).detach();
  say("formed", "p8-promise");
  // 10: re-armed timed waits: on a condition variable, and try_lock_for on
  // a timed mutex whose holder waits forever.
  fiberleak::spawn("p10-cv", [&c] { poll_flag_forever(c); }).detach();
  fiberleak::spawn("p10-tm-holder", [&c] {
    c.held_forever.lock();
    wait_forever(c.tm_holder_wait);
  }).detach();
  boost::this_fiber::sleep_for(5ms);
  fiberleak::spawn("p10-trylock", [&c] { try_lock_forever(c); }).detach();
  say("formed", "p10-cv");
  // Healthy look-alikes.
  fiberleak::spawn("ok-ticker", [] { tick(); }).detach();
  fiberleak::spawn("ok-acceptor", [&c] { accept_loop(c); }).detach();
  for (int i = 0; i < 4; ++i) fiberleak::spawn("ok-pool", [&c] { pool_worker(c); }).detach();
  fiberleak::spawn("ok-compute", [] { compute(); }).detach();
  // The feeder: a connection every 100 ms, a job every 300 ms (a pool of
  // four, woken in turn, leaves each worker parked ~1.2 s at a time).
  fiberleak::spawn("ok-feeder", [&c] {
    for (int n = 0;; ++n) {
      boost::this_fiber::sleep_for(100ms);
      c.connections.push(n);
      if (n % 3 == 0) c.jobs.push(n);
    }
  }).detach();
  // 7: unbounded spawning: a fiber per event, each waiting on a promise
  // nobody keeps (the events go on for the whole run).
  fiberleak::spawn("p7-source", [never] {
    for (int event = 0;; ++event) {
      boost::this_fiber::sleep_for(150ms);
      fiberleak::spawn("p7-spawned", [never, event] { (void)await_event_reply(never, event); }).detach();
    }
  }).detach();
  say("formed", "p7-spawned");

  // The definite ones form once the watchdog is warm (its first
  // evaluations load the symbols): their time to flag is then one interval.
  boost::this_fiber::sleep_for(2s);
  // 9: two fibers taking two mutexes in opposite orders...
  auto* pair_barrier = new bf::barrier(2);
  fiberleak::spawn("p9-a", [&c, pair_barrier] { lock_both(c.m_a, c.m_b, *pair_barrier); }).detach();
  fiberleak::spawn("p9-b", [&c, pair_barrier] { lock_both(c.m_b, c.m_a, *pair_barrier); }).detach();
  // ... and three with mutexes and a join: x holds X and joins z; z waits
  // for Y, held by y; y waits for X.
  auto* trio_barrier = new bf::barrier(2);
  fiberleak::spawn("p9-x", [&c, trio_barrier] {
    std::lock_guard<bf::mutex> x(c.m_x);
    auto z = fiberleak::spawn("p9-z", [&c, trio_barrier] {
      trio_barrier->wait();
      std::lock_guard<bf::mutex> y(c.m_y);
    });
    z.join();
  }).detach();
  fiberleak::spawn("p9-y", [&c, trio_barrier] {
    std::lock_guard<bf::mutex> y(c.m_y);
    trio_barrier->wait();
    boost::this_fiber::sleep_for(5ms);
    std::lock_guard<bf::mutex> x(c.m_x);
  }).detach();
  boost::this_fiber::sleep_for(20ms);
  say("formed", "p9-a");
  say("formed", "p9-x");
  // 11: the owner returns holding the lock; the waiter comes later. (It is
  // made first: a fiber made after the owner ended could get its context,
  // and Boost throws lock_error when a context locks a mutex it "owns".)
  fiberleak::spawn("p11-waiter", [&c] {
    int go;
    c.p11_go.pop(go);
    lock_orphaned(c);
  }).detach();
  fiberleak::spawn("p11-ender", [&c] { lock_and_return(c.orphaned); }).join();
  c.p11_go.push(1);
  // The waiter parks before the next fiber is made: one made earlier could
  // take the ended owner's context and pass for the owner.
  boost::this_fiber::sleep_for(20ms);
  say("formed", "p11-waiter");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: leak_corpus THRESHOLD_MS WATCHDOG_MS\n");
    return 2;
  }
  std::signal(SIGTERM, on_term);
  fiberleak::ServeOptions options;
  options.port = 0;
  options.endpoint.rules.threshold = std::chrono::milliseconds(std::atoi(argv[1]));
  options.endpoint.watchdog_interval = std::chrono::milliseconds(std::atoi(argv[2]));
  options.endpoint.on_leak = [](const fiberleak::LeakFinding& f) {
    say("flagged", f.name, f.verdict == fiberleak::Verdict::definite ? " definite" : " suspect");
  };
  fiberleak::ServeHandle server = fiberleak::serve(options);
  say("served at", server.url());

  static Corpus corpus;
  bf::mutex done_mutex;
  bf::condition_variable done_cv;
  bool done = false;
  std::thread other([&] {
    fiberleak::install<bf::algo::work_stealing>(2);
    std::unique_lock<bf::mutex> lk(done_mutex);
    done_cv.wait(lk, [&] { return done; });
  });
  fiberleak::install<bf::algo::work_stealing>(2);
  spawn_corpus(corpus);
  // The main fiber: unnamed, waiting for the program to be told to stop.
  while (!g_stop) boost::this_fiber::sleep_for(50ms);
  std::fflush(stdout);
  std::_Exit(0);  // the leaked fibers never end: do not wait for them
}
