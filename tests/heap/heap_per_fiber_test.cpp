// What a leaked fiber costs: /debug/fibers and /debug/leaks carry the live
// heap bytes each fiber allocated (exact at rate 1) and the stack it
// reserved, leak suspects first.
#include <httplib.h>

#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>

#include <fiberleak/heap.hpp>
#include <fiberleak/runtime.hpp>
#include <fiberleak/serve.hpp>

namespace {
void* g_blocks[4];

// Allocates 3 x 10000 bytes and frees a fourth block: 30000 live bytes.
__attribute__((noinline)) void hoard(boost::fibers::buffered_channel<int>& never) {
  for (int i = 0; i < 4; ++i) g_blocks[i] = std::malloc(10000);
  std::free(g_blocks[3]);
  int v = 0;
  (void)never.pop(v);  // parks until the test closes the channel
}

const nlohmann::json* find_named(const nlohmann::json& list, const char* key, const std::string& name) {
  for (const auto& f : list) {
    if (f.value(key, std::string()) == name) return &f;
  }
  return nullptr;
}
}  // namespace

TEST_CASE("a leaked fiber's live heap bytes and reserved stack show on /debug/fibers and /debug/leaks", "[heap]") {
  fiberleak::heap::configure({1, 0});
  fiberleak::install();
  fiberleak::ServeOptions options;
  options.port = 0;
  options.endpoint.watchdog_interval = std::chrono::milliseconds(0);
  options.endpoint.rules.threshold = std::chrono::nanoseconds(20'000'000);
  fiberleak::ServeHandle server = fiberleak::serve(options);

  boost::fibers::buffered_channel<int> never(2);
  boost::fibers::fiber hoarder(std::allocator_arg, boost::fibers::fixedsize_stack(64 * 1024), [&never] {
    fiberleak::this_fiber::set_name("hoarder");
    hoard(never);
  });
  boost::fibers::fiber idle([&never] {
    fiberleak::this_fiber::set_name("idle");
    int v = 0;
    (void)never.pop(v);
  });
  boost::this_fiber::sleep_for(std::chrono::milliseconds(60));

  httplib::Client c("127.0.0.1", server.port());
  auto fibers = c.Get("/debug/fibers");
  REQUIRE(fibers);
  REQUIRE(fibers->status == 200);
  const auto doc = nlohmann::json::parse(fibers->body);
  INFO(fibers->body.substr(0, 4000));
  const nlohmann::json* h = find_named(doc["fibers"], "name", "hoarder");
  REQUIRE(h != nullptr);
  CHECK((*h)["leak"] == true);
  CHECK((*h)["heap_live_bytes"] == 30000);
  CHECK((*h)["stack_bytes"] == 64 * 1024);
  const nlohmann::json* i = find_named(doc["fibers"], "name", "idle");
  REQUIRE(i != nullptr);
  CHECK((*i)["heap_live_bytes"] == 0);
  CHECK((*i)["stack_bytes"] == boost::context::stack_traits::default_size());
  // A thread's main fiber has no stack of Boost's: unknown.
  bool main_seen = false;
  for (const auto& f : doc["fibers"]) {
    if (f["is_main"] == true) {
      main_seen = true;
      CHECK(f["stack_bytes"].is_null());
    }
  }
  CHECK(main_seen);
  // Leak suspects first.
  CHECK(doc["fibers"][0]["leak"] == true);

  auto leaks = c.Get("/debug/leaks");
  REQUIRE(leaks);
  const auto findings = nlohmann::json::parse(leaks->body);
  INFO(leaks->body);
  const nlohmann::json* lf = find_named(findings["leaks"], "name", "hoarder");
  REQUIRE(lf != nullptr);
  CHECK((*lf)["heap_live_bytes"] == 30000);
  CHECK((*lf)["stack_bytes"] == 64 * 1024);

  never.close();
  hoarder.join();
  idle.join();
  for (int k = 0; k < 3; ++k) std::free(g_blocks[k]);
}
