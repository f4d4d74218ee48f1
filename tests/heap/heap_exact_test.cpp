// Rate 1: every allocation is sampled, so the profile must show exactly the
// bytes known functions allocated and still hold, at their file:line, as
// `go tool pprof` reads it from the live endpoint.
#include <unistd.h>

#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>
#include <vector>

#include <fiberleak/heap.hpp>
#include <fiberleak/runtime.hpp>
#include <fiberleak/serve.hpp>

#include "heap_test_support.hpp"
#include "profiler/heap_profile.hpp"

namespace ft = fiberleak::detail::testing;

namespace {
std::vector<void*> g_kept;        // reserved up front so that pushing does not allocate
std::uint64_t g_alloc_fiber = 0;  // the id of "alloc-fiber"

// Each function allocates from one known line (the ALLOC_LINE_* below).
__attribute__((noinline)) void keep_malloc_3x1000() {
  for (int i = 0; i < 3; ++i) g_kept.push_back(std::malloc(1000));  // ALLOC_LINE_MALLOC
}
__attribute__((noinline)) void keep_new_2x4096() {
  for (int i = 0; i < 2; ++i) g_kept.push_back(new char[4096]);  // ALLOC_LINE_NEW
}
void* volatile g_escape;  // keeps the compiler from eliding calloc+free pairs
__attribute__((noinline)) void churn_calloc_5x200() {
  for (int i = 0; i < 5; ++i) {
    g_escape = std::calloc(10, 20);  // ALLOC_LINE_CALLOC
    std::free(g_escape);
  }
}
__attribute__((noinline)) void keep_in_fiber_777() {
  g_kept.push_back(std::malloc(777));  // ALLOC_LINE_FIBER
}

int line_of(const char* marker) {
  // Source lines of the markers, found in this file so the test cannot drift.
  FILE* f = std::fopen(__FILE__, "r");
  REQUIRE(f != nullptr);
  char buf[512];
  int line = 0, found = 0;
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    ++line;
    if (std::strstr(buf, marker) != nullptr && std::strstr(buf, "line_of(") == nullptr) found = line;
  }
  std::fclose(f);
  return found;
}

// The flat bytes go tool pprof -top -lines -unit=B shows for function at file:line.
long long flat_bytes(const std::string& top, const std::string& function, int line) {
  const std::regex row("^\\s*([0-9.]+)B\\s.*[\\s:]" + function + " .*heap_exact_test\\.cpp:" + std::to_string(line) +
                       "\\b");
  std::istringstream in(top);
  std::string l;
  long long total = 0;
  bool any = false;
  while (std::getline(in, l)) {
    std::smatch m;
    if (std::regex_search(l, m, row)) {
      total += std::stoll(m[1]);
      any = true;
    }
  }
  return any ? total : -1;
}

void run_workload() {
  g_kept.reserve(64);
  fiberleak::heap::configure({1, 0});
  keep_malloc_3x1000();
  keep_new_2x4096();
  churn_calloc_5x200();
  fiberleak::install();
  fiberleak::spawn("alloc-fiber", [] {
    g_alloc_fiber = fiberleak::to_integer(fiberleak::this_fiber::id());
    keep_in_fiber_777();
  }).join();
}
}  // namespace

TEST_CASE("at rate 1 go tool pprof shows exactly the live bytes of each known function at its file:line", "[heap]") {
  run_workload();
  ft::HeapServer server;
  const std::string top = ft::pprof_top(server.url("/debug/pprof/heap"), "inuse_space");
  INFO(top);
  CHECK(flat_bytes(top, "keep_malloc_3x1000", line_of("ALLOC_LINE_MALLOC")) == 3000);
  CHECK(flat_bytes(top, "keep_new_2x4096", line_of("ALLOC_LINE_NEW")) == 8192);
  CHECK(flat_bytes(top, "keep_in_fiber_777", line_of("ALLOC_LINE_FIBER")) == 777);
  // Freed: no live bytes at the calloc line.
  CHECK(flat_bytes(top, "churn_calloc_5x200", line_of("ALLOC_LINE_CALLOC")) == -1);
}

TEST_CASE("at rate 1 the allocs profile counts freed allocations too", "[heap]") {
  run_workload();
  ft::HeapServer server;
  const std::string top = ft::pprof_top(server.url("/debug/pprof/allocs"), "alloc_space");
  INFO(top);
  CHECK(flat_bytes(top, "churn_calloc_5x200", line_of("ALLOC_LINE_CALLOC")) == 1000);
  CHECK(flat_bytes(top, "keep_malloc_3x1000", line_of("ALLOC_LINE_MALLOC")) == 3000);
  const std::string objects =
      ft::run("HOME=/tmp go tool pprof -top -lines -nodefraction=0 -sample_index=alloc_objects '" +
              server.url("/debug/pprof/allocs") + "'");
  INFO(objects);
  CHECK(std::regex_search(objects, std::regex("\\n\\s*5\\s.*[:\\s]churn_calloc_5x200")));
}

TEST_CASE("the fiber label selects the allocations of a named fiber with -tagfocus", "[heap]") {
  run_workload();
  ft::HeapServer server;
  const std::string top = ft::pprof_top(server.url("/debug/pprof/heap"), "inuse_space", "-tagfocus=fiber=alloc-fiber");
  INFO(top);
  CHECK(flat_bytes(top, "keep_in_fiber_777", line_of("ALLOC_LINE_FIBER")) == 777);
  CHECK(flat_bytes(top, "keep_malloc_3x1000", line_of("ALLOC_LINE_MALLOC")) == -1);
  // And the per-fiber estimate gives that fiber exactly those bytes.
  REQUIRE(g_alloc_fiber != 0);
  std::int64_t fiber_bytes = -1;
  for (const auto& [id, bytes] : fiberleak::detail::heap_live_bytes_by_fiber(fiberleak::detail::collect_heap())) {
    if (id == g_alloc_fiber) fiber_bytes = bytes;
  }
  CHECK(fiber_bytes == 777);
}

TEST_CASE("debug=1 text lists the known stack with its counts and bad parameters get a 400 usage line", "[heap]") {
  run_workload();
  ft::HeapServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Get("/debug/pprof/heap?debug=1");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.rfind("heap profile: ", 0) == 0);
  CHECK(std::regex_search(r->body, std::regex("\\n3: 3000 \\[3: 3000\\] @ 0x[0-9a-f]+")));
  CHECK(r->body.find("keep_malloc_3x1000") != std::string::npos);
  // Stacks trimmed as in debug=0: no allocator frames above, no trampolines
  // below the fiber's entry or the thread's main.
  CHECK(r->body.find("keep_in_fiber_777") != std::string::npos);
  for (const char* hidden : {"fiber_entry", "std::__invoke", "\toperator new\t", "__libc_start", "\tstart_thread\t"}) {
    INFO(hidden);
    CHECK(r->body.find(hidden) == std::string::npos);
  }
  auto bad = c.Get("/debug/pprof/heap?debug=x");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->body == std::string(fiberleak::detail::kHeapUsage) + "\n");
  auto bad2 = c.Get("/debug/pprof/allocs?secs=1");
  REQUIRE(bad2);
  CHECK(bad2->status == 400);
}

TEST_CASE("with the heap profiler linked serve() serves the heap profile, lists it and adds the heap metrics",
          "[heap]") {
  run_workload();  // no registration: linking fiberleak::heap is enough
  fiberleak::ServeOptions options;
  options.port = 0;
  options.endpoint.watchdog_interval = std::chrono::milliseconds(0);
  fiberleak::ServeHandle server = fiberleak::serve(options);
  const std::string top = ft::pprof_top(server.url() + "/debug/pprof/heap", "inuse_space");
  INFO(top);
  CHECK(flat_bytes(top, "keep_malloc_3x1000", line_of("ALLOC_LINE_MALLOC")) == 3000);
  httplib::Client c("127.0.0.1", server.port());
  auto index = c.Get("/debug/pprof/");
  REQUIRE(index);
  CHECK(index->body.find("heap?debug=1") != std::string::npos);
  auto metrics = c.Get("/metrics");
  REQUIRE(metrics);
  CHECK(std::regex_search(metrics->body, std::regex("\\nfiberleak_heap_inuse_bytes [1-9][0-9]*\\n")));
  CHECK(std::regex_search(metrics->body, std::regex("\\nfiberleak_heap_sampling_rate_bytes 1\\n")));
  // promtool accepts the whole page (the heap families included).
  const std::string file = "/tmp/fiberleak_heap_metrics_" + std::to_string(::getpid()) + ".txt";
  if (FILE* f = std::fopen(file.c_str(), "w")) {
    std::fputs(metrics->body.c_str(), f);
    std::fclose(f);
  }
  const std::string verdict = ft::run("promtool check metrics < " + file + " && echo PROMTOOL_OK");
  std::remove(file.c_str());
  INFO(verdict);
  CHECK(verdict.find("PROMTOOL_OK") != std::string::npos);
}

TEST_CASE("what the endpoint's and the watchdog's threads allocate is in no heap profile", "[heap]") {
  fiberleak::heap::configure({1, 1});  // every allocation
  fiberleak::ServeOptions options;
  options.port = 0;
  options.endpoint.watchdog_interval = std::chrono::milliseconds(50);  // the watchdog's thread evaluates too
  fiberleak::ServeHandle server = fiberleak::serve(options);
  httplib::Client c("127.0.0.1", server.port());
  for (const char* path : {"/debug/goroutine", "/debug/fibers", "/debug/leaks", "/metrics", "/debug/pprof/goroutine"}) {
    auto r = c.Get(path);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  // Everything ever allocated (alloc_space), by any thread.
  const std::string traces = ft::run("HOME=/tmp GOFLAGS= go tool pprof -traces -sample_index=alloc_space '" +
                                     server.url() + "/debug/pprof/heap'");
  INFO(traces.substr(0, 4000));
  REQUIRE(traces.find("Type: alloc_space") != std::string::npos);
  // (Setting the endpoint up runs on the caller's thread, like the test's
  // own client: those stay, as anything the program's threads allocate.)
  for (const char* theirs :
       {"Endpoint::full_dump", "Endpoint::fibers", "Endpoint::leaks", "Endpoint::metrics", "fibers_json_text",
        "render_debug", "Watchdog::run", "Symbolizer", "goroutine_profile", "httplib::Server::process_request"}) {
    INFO(theirs);
    CHECK(traces.find(theirs) == std::string::npos);
  }
}
