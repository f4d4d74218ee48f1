// Route sets other modules add to every endpoint (web/route_set.hpp).
#include "web/route_set.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "web_test_support.hpp"

using fiberleak::detail::testing::Command;
using fiberleak::detail::testing::contains;
using fiberleak::detail::testing::Live;
using fiberleak::detail::testing::run;

TEST_CASE("a registered route set is mounted, listed on the index and adds its metrics", "[web][promtool]") {
  fiberleak::detail::register_route_set(
      {"extra",
       [](httplib::Server& s, const std::string& prefix) {
         s.Get(prefix + "/debug/pprof/extra",
               [](const httplib::Request&, httplib::Response& res) { res.set_content("extra\n", "text/plain"); });
       },
       {{"extra", "extra?debug=1", "A profile another module adds.", [] { return std::int64_t{42}; }}},
       [] {
         return std::string(
             "# HELP fiberleak_extra_things Things.\n# TYPE fiberleak_extra_things gauge\n"
             "fiberleak_extra_things 3\n");
       }});
  {
    Live live;
    CHECK(live.get("/debug/pprof/extra")->body == "extra\n");
    const std::string index = live.get("/debug/pprof/")->body;
    CHECK(contains(index, "<tr><td>42</td><td><a href='extra?debug=1'>extra</a></td></tr>"));
    CHECK(contains(index, "A profile another module adds."));
    const std::string metrics = live.get("/metrics")->body;
    CHECK(contains(metrics, "\nfiberleak_extra_things 3\n"));
    char path[] = "/tmp/fiberleak-metrics-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(path) << metrics;
    const Command c = run(std::string("promtool check metrics < ") + path);
    std::remove(path);
    INFO("promtool: " << c.out << c.err);
    CHECK(c.status == 0);
  }
  fiberleak::detail::unregister_route_set("extra");
  Live without;
  CHECK(without.get("/debug/pprof/extra")->status == 404);
  CHECK_FALSE(contains(without.get("/debug/pprof/")->body, "extra"));
}
