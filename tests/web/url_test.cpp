// parse_http_url() and endpoint_prefix(): the one URL parser.
#include "web/url.hpp"

#include <catch2/catch.hpp>

using fiberleak::detail::endpoint_prefix;
using fiberleak::detail::parse_http_url;

TEST_CASE("an http URL splits into the origin for the client and the path for the request", "[web]") {
  auto url = parse_http_url("http://127.0.0.1:6060/admin/debug/fibers?state=blocked");
  REQUIRE(url);
  CHECK(url->origin == "http://127.0.0.1:6060");
  CHECK(url->path == "/admin/debug/fibers?state=blocked");
  url = parse_http_url("http://localhost");
  REQUIRE(url);
  CHECK(url->origin == "http://localhost");
  CHECK(url->path.empty());
  url = parse_http_url("http://[::1]:6060/");
  REQUIRE(url);
  CHECK(url->origin == "http://[::1]:6060");
  CHECK(url->path == "/");
}

TEST_CASE("anything but http://HOST[:PORT][/PATH] is not an http URL", "[web]") {
  for (const char* bad :
       {"", "127.0.0.1:6060", "https://host", "ftp://x", "http:/host", "http://", "http:///debug", "http://:6060",
        "http://host name", "http://host/a b", "http://host\n", " http://host", "HTTP://host", "httpx://host"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_http_url(bad));
  }
}

TEST_CASE("the endpoint prefix is the path in front of /debug/ without trailing slashes", "[web]") {
  CHECK(endpoint_prefix("") == "");
  CHECK(endpoint_prefix("/") == "");
  CHECK(endpoint_prefix("/debug/pprof/") == "");
  CHECK(endpoint_prefix("/debug/leaks") == "");
  CHECK(endpoint_prefix("/admin") == "/admin");
  CHECK(endpoint_prefix("/admin//") == "/admin");
  CHECK(endpoint_prefix("/admin/debug/pprof/goroutine?debug=2") == "/admin");
  CHECK(endpoint_prefix("/a/debug/b/debug/c") == "/a");
}
