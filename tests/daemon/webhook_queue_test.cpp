// WebhookQueue: delivery off the caller's thread, bounded, with retries.
#include "daemon/webhook_queue.hpp"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "hostile_server.hpp"
#include "web/url.hpp"

using fiberleak::detail::WebhookQueue;
using fiberleak::testing::HostileServer;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("webhook-test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

fiberleak::detail::HttpUrl url_of(const std::string& base) {
  return *fiberleak::detail::parse_http_url(base + "/hook");
}

// Polls `done` for up to 10 s.
template <typename Done>
bool eventually(Done done) {
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// A webhook answering each POST with `status`, counting them.
struct CountingWebhook {
  explicit CountingWebhook(int status) {
    server.Post("/hook", [this, status](const httplib::Request& req, httplib::Response& res) {
      last_body = req.body;
      ++posts;
      res.status = status;
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~CountingWebhook() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  httplib::Server server;
  int port = 0;
  std::atomic<int> posts{0};
  std::string last_body;  // read once posts says it came
  std::thread thread;
};

}  // namespace

TEST_CASE("a webhook that never answers neither blocks push() nor stop()", "[daemon]") {
  HostileServer silent("", 0, milliseconds(100));
  WebhookQueue queue(url_of(silent.url()), quiet(), {});
  const auto start = Clock::now();
  for (int i = 0; i < 100; ++i) CHECK(queue.push("{\"n\":" + std::to_string(i) + "}"));
  CHECK(Clock::now() - start < milliseconds(500));  // 100 posts of up to 5 s each, none on this thread
  REQUIRE(eventually([&] { return silent.accepted() == 1; }));
  const auto stopping = Clock::now();
  queue.stop();
  CHECK(Clock::now() - stopping < std::chrono::seconds(1));
  CHECK(queue.counters().dropped == 100);  // the one in flight and the 99 waiting
  CHECK(queue.counters().sent == 0);
}

TEST_CASE("a full queue drops what does not fit and counts it", "[daemon]") {
  HostileServer silent("", 0, milliseconds(100));
  WebhookQueue::Options options;
  options.capacity = 2;
  WebhookQueue queue(url_of(silent.url()), quiet(), options);
  int refused = 0;
  for (int i = 0; i < 10; ++i) refused += queue.push("{}") ? 0 : 1;
  CHECK(refused >= 7);  // at most one taken out to be posted, two waiting
  CHECK(queue.counters().dropped == static_cast<std::uint64_t>(refused));
  CHECK(queue.counters().queued <= 2);
}

TEST_CASE("a webhook answering 5xx gets a bounded number of attempts, then the finding is dropped", "[daemon]") {
  CountingWebhook hook(503);
  WebhookQueue::Options options;
  options.attempts = 3;
  options.backoff = milliseconds(20);
  WebhookQueue queue(url_of(hook.url()), quiet(), options);
  queue.push(R"({"finding":1})");
  REQUIRE(eventually([&] { return queue.counters().dropped == 1; }));
  CHECK(hook.posts == 3);
  CHECK(hook.last_body == R"({"finding":1})");
  CHECK(queue.counters().sent == 0);
}

TEST_CASE("a webhook that accepts gets each finding once, one that refuses (4xx) is not retried", "[daemon]") {
  SECTION("2xx") {
    CountingWebhook hook(204);
    WebhookQueue queue(url_of(hook.url()), quiet(), {});
    queue.push("{}");
    queue.push("{}");
    REQUIRE(eventually([&] { return queue.counters().sent == 2; }));
    CHECK(hook.posts == 2);
    CHECK(queue.counters().dropped == 0);
  }
  SECTION("4xx") {
    CountingWebhook hook(400);
    WebhookQueue queue(url_of(hook.url()), quiet(), {});
    queue.push("{}");
    REQUIRE(eventually([&] { return queue.counters().dropped == 1; }));
    CHECK(hook.posts == 1);
  }
}
