// AccessPolicy: which Host names a request may use (DNS rebinding) and the
// bearer token.
#include "web/access_policy.hpp"

#include <catch2/catch.hpp>

using fiberleak::detail::AccessPolicy;
using fiberleak::detail::host_allowed;
using fiberleak::detail::token_accepted;

TEST_CASE("loopback names, IP addresses and the bound host are accepted in Host, with or without a port",
          "[web][access]") {
  AccessPolicy p;
  p.bound_host = "Devbox.Lan";
  for (const char* host : {"localhost", "LOCALHOST:6060", "127.0.0.1", "127.0.0.1:6060", "[::1]", "[::1]:6060",
                           "10.1.2.3:80", "devbox.lan", "devbox.lan.:6060", "", "[2001:db8::1]:443"}) {
    INFO(host);
    CHECK(host_allowed(p, host));
  }
}

TEST_CASE("any other name in Host is refused unless allowed", "[web][access]") {
  AccessPolicy p;
  p.bound_host = "127.0.0.1";
  for (const char* host : {"evil.example", "evil.example:6060", "localhost.evil.example", "127.0.0.1.nip.io", "[::1",
                           "[::1]x", "[not-an-ip]", "1.2.3", "0x7f000001"}) {
    INFO(host);
    CHECK_FALSE(host_allowed(p, host));
  }
  p.allowed_hosts = {"Profiler.Internal"};
  CHECK(host_allowed(p, "profiler.internal:443"));
  CHECK_FALSE(host_allowed(p, "other.internal"));
  p.allowed_hosts = {"*"};
  CHECK(host_allowed(p, "other.internal"));
}

TEST_CASE("a token is accepted only as the exact bearer credential", "[web][access]") {
  AccessPolicy open;
  CHECK(token_accepted(open, ""));
  AccessPolicy p;
  p.token = "s3cret";
  CHECK(token_accepted(p, "Bearer s3cret"));
  CHECK(token_accepted(p, "bearer s3cret"));
  for (const char* bad : {"", "s3cret", "Bearer", "Bearer ", "Bearer s3cre", "Bearer s3cret2", "Bearer  s3cret",
                          "Basic s3cret", "Bearer S3CRET"}) {
    INFO(bad);
    CHECK_FALSE(token_accepted(p, bad));
  }
}
