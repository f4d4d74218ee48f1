#include "daemon/demo_service.hpp"

#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>

#include <string>
#include <vector>

#include <fiberleak/runtime.hpp>

namespace fiberleak::demo {

using namespace std::chrono_literals;
using boost::fibers::buffered_channel;
using boost::fibers::channel_op_status;
using boost::fibers::unbuffered_channel;

struct DemoService::Shared {
  std::atomic<bool> stopping{false};
  // Shutdown: closing these wakes every fiber the demo parked.
  buffered_channel<int> orders{16};                               // nobody ever sends: leak 1
  unbuffered_channel<int> stalled_backend;                        // never answers: leak 4's lock holder waits here
  buffered_channel<int> connections{64};                          // fed by the network thread: healthy
  buffered_channel<int> jobs{64};                                 // fed by the ticker: healthy
  std::vector<std::unique_ptr<unbuffered_channel<int>>> replies;  // one per timed-out request: leak 2
  boost::fibers::mutex replies_mutex;
  boost::fibers::mutex ledger;
  boost::fibers::promise<int> cache_fill;  // never set: leak 8
  boost::fibers::mutex done_mutex;
  boost::fibers::condition_variable_any done_cv;
  bool done = false;
};

namespace {

// --- the leaky code paths (named so dumps read like a real service) -------

__attribute__((noinline)) void consume_orders(buffered_channel<int>& orders) {
  std::vector<int> batch(64 * 1024);  // 256 KiB the leaked consumer holds on to
  int order = 0;
  while (orders.pop(order) == channel_op_status::success) batch[static_cast<std::size_t>(order) % batch.size()] = order;
}

__attribute__((noinline)) void compute_reply(unbuffered_channel<int>& reply) {
  std::string payload(16 * 1024, 'r');           // each leaked worker keeps its 16 KiB reply
  boost::this_fiber::sleep_for(20ms);            // slower than the caller's 10 ms patience
  reply.push(static_cast<int>(payload.size()));  // the caller is gone: parks here forever
}

__attribute__((noinline)) void handle_request(DemoService::Options, unbuffered_channel<int>& reply) {
  int value = 0;
  // Gives up after 10 ms and returns; the worker stays behind (pattern 2).
  (void)reply.pop_wait_for(value, 10ms);
}

__attribute__((noinline)) void post_to_ledger(boost::fibers::mutex& ledger, unbuffered_channel<int>& backend) {
  std::lock_guard<boost::fibers::mutex> lock(ledger);
  int ack = 0;
  backend.pop(ack);  // a backend call that never returns, with the lock held (pattern 4)
}

__attribute__((noinline)) void read_ledger(boost::fibers::mutex& ledger) {
  std::lock_guard<boost::fibers::mutex> lock(ledger);
}

__attribute__((noinline)) void warm_cache(boost::fibers::future<int> fill) {
  try {
    (void)fill.get();  // nobody calls set_value (pattern 8)
  } catch (const boost::fibers::future_error&) {
  }
}

// --- healthy long-lived fibers ------------------------------------------------

__attribute__((noinline)) void tick(DemoService::Shared& s) {
  int n = 0;
  while (!s.stopping) {
    boost::this_fiber::sleep_for(200ms);
    if (s.jobs.try_push(++n) != channel_op_status::success) break;
  }
}

__attribute__((noinline)) void accept_connections(buffered_channel<int>& connections) {
  int conn = 0;
  while (connections.pop(conn) == channel_op_status::success) {
    boost::this_fiber::yield();  // "serve" it
  }
}

__attribute__((noinline)) void pool_worker(buffered_channel<int>& jobs) {
  int job = 0;
  while (jobs.pop(job) == channel_op_status::success) boost::this_fiber::sleep_for(1ms);
}

}  // namespace

DemoService::DemoService(Options options) : options_(options), shared_(std::make_shared<Shared>()) {}

DemoService::~DemoService() { stop(); }

void DemoService::spawn_workload() {
  Shared& s = *shared_;
  fiberleak::spawn("order-consumer", [&s] { consume_orders(s.orders); }).detach();
  fiberleak::spawn("ledger-writer", [&s] { post_to_ledger(s.ledger, s.stalled_backend); }).detach();
  for (int i = 0; i < 3; ++i) fiberleak::spawn("ledger-reader", [&s] { read_ledger(s.ledger); }).detach();
  fiberleak::spawn("cache-warmer", [f = s.cache_fill.get_future()]() mutable { warm_cache(std::move(f)); }).detach();
  fiberleak::spawn("ticker", [&s] { tick(s); }).detach();
  fiberleak::spawn("acceptor", [&s] { accept_connections(s.connections); }).detach();
  for (int i = 0; i < 4; ++i) fiberleak::spawn("pool-worker", [&s] { pool_worker(s.jobs); }).detach();
  // The request loop: a request every interval, each leaving a sender behind.
  fiberleak::spawn("request-loop", [this, &s] {
    while (!s.stopping) {
      unbuffered_channel<int>* reply;
      {
        std::lock_guard<boost::fibers::mutex> lk(s.replies_mutex);
        if (s.stopping) break;  // stop() closes every reply channel under this lock
        s.replies.push_back(std::make_unique<unbuffered_channel<int>>());
        reply = s.replies.back().get();
      }
      fiberleak::spawn("reply-worker", [reply] { compute_reply(*reply); }).detach();
      handle_request(options_, *reply);
      ++requests_;
      boost::this_fiber::sleep_for(options_.request_interval);
    }
  }).detach();
}

void DemoService::run_thread(int index) {
  fiberleak::install<boost::fibers::algo::work_stealing>(options_.threads);
  fiberleak::this_fiber::set_name(index == 0 ? "demo-main" : "scheduler-main");
  if (index == 0) spawn_workload();
  Shared& s = *shared_;
  std::unique_lock<boost::fibers::mutex> lk(s.done_mutex);
  s.done_cv.wait(lk, [&s] { return s.done; });
}

void DemoService::start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { run_thread(i); });
  network_ = std::thread([this] {
    int conn = 0;
    while (!shared_->stopping) {
      std::this_thread::sleep_for(100ms);
      if (shared_->connections.try_push(++conn) == channel_op_status::closed) break;
    }
  });
}

void DemoService::stop() {
  if (threads_.empty()) return;
  Shared& s = *shared_;
  s.stopping = true;
  // Release every parked fiber so the scheduler threads can end.
  s.orders.close();
  s.stalled_backend.close();
  s.connections.close();
  s.jobs.close();
  boost::fibers::promise<int>().swap(s.cache_fill);  // the old promise dies: broken_promise for its waiter
  if (network_.joinable()) network_.join();
  {
    std::lock_guard<boost::fibers::mutex> lk(s.replies_mutex);
    for (auto& r : s.replies) r->close();
  }
  {
    std::lock_guard<boost::fibers::mutex> lk(s.done_mutex);
    s.done = true;
  }
  s.done_cv.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace fiberleak::demo
