#include "web/dashboard_routes.hpp"

#include <httplib.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <string>

#include <fiberleak/serve.hpp>

#include "web/embedded_files.hpp"
#include "web_test_support.hpp"

using fiberleak::detail::testing::contains;
using fiberleak::detail::testing::Live;

namespace {

fiberleak::ServeHandle serve_with_token(const std::string& token) {
  fiberleak::ServeOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.token = token;
  options.endpoint = Live::quiet();
  return fiberleak::serve(std::move(options));
}

}  // namespace

TEST_CASE("the dashboard's files are served with a CSP and without the token, its data only with it",
          "[web][dashboard]") {
  auto server = serve_with_token("t0ken");
  httplib::Client client("127.0.0.1", server.port());
  auto root = client.Get("/");
  REQUIRE(root);
  CHECK(root->status == 302);
  CHECK(root->get_header_value("Location") == "/debug/fiberleak/");
  for (const std::string path : {"/debug/fiberleak/", "/debug/fiberleak/components.js", "/debug/fiberleak/style.css"}) {
    auto res = client.Get(path.c_str());
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Security-Policy") == fiberleak::detail::kDashboardCsp);
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
    CHECK(!res->body.empty());
  }
  CHECK(client.Get("/debug/fiberleak/")->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(client.Get("/debug/fiberleak/endpoint.js")->get_header_value("Content-Type") ==
        "text/javascript; charset=utf-8");
  CHECK(client.Get("/debug/fiberleak/missing.js")->status == 401);  // not a dashboard file: the token applies
  CHECK(client.Get("/debug/fibers")->status == 401);
  CHECK(client.Get("/debug/leaks")->status == 401);
}

TEST_CASE("the dashboard's pages have no inline script or style and load only embedded files", "[web][dashboard]") {
  const auto& files = fiberleak::detail::embedded_files();
  auto embedded = [&](const std::string& name) {
    for (const auto& f : files) {
      if (f.name == name) return true;
    }
    return false;
  };
  int pages = 0;
  for (const auto& f : files) {
    const std::string name(f.name);
    if (name.size() < 5 || name.substr(name.size() - 5) != ".html") continue;
    ++pages;
    const std::string html(f.bytes);
    INFO(name);
    CHECK(!std::regex_search(html, std::regex("<script(?![^>]*\\bsrc=)")));  // every script has a src
    CHECK(!std::regex_search(html, std::regex("<style|\\sstyle=|\\son[a-z]+=", std::regex::icase)));
    const std::regex ref("(?:src|href)=\"([^\"]+)\"");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it) {
      const std::string target = (*it)[1];
      const bool asset = std::regex_search(target, std::regex("\\.(js|css)$"));
      INFO(target);
      if (asset) CHECK(embedded(target));  // scripts and styles: this server's own
      if (!asset) CHECK((target.rfind("data:", 0) == 0 || target.find(':') == std::string::npos));  // no other origin
    }
  }
  CHECK(pages == 2);  // the endpoint's and the sidecar's
}

TEST_CASE("limit=N sends N fibers or findings, and counts by site of all of them", "[web][dashboard]") {
  fiberleak::EndpointOptions o = Live::quiet();
  o.rules.threshold = std::chrono::nanoseconds(30'000'000);
  Live live(o);
  const std::size_t leaks = 2 + fiberleak::detail::testing::ParkedFibers::kPile;  // receiver, locker, the pile
  REQUIRE(live.wait_for_leaks(leaks));
  const auto all = nlohmann::json::parse(live.get("/debug/fibers")->body);
  CHECK(!all.contains("groups"));  // without limit: as before
  auto doc = nlohmann::json::parse(live.get("/debug/fibers?limit=2&stacks=shared")->body);
  REQUIRE(doc["fibers"].size() == 2);
  CHECK(doc["fibers"][0]["leak"] == true);  // suspects first
  CHECK(doc["total"] == all["fibers"].size());
  std::size_t grouped = 0, pile = 0;
  for (const auto& g : doc["groups"]) {
    grouped += g["fibers"].get<std::size_t>();
    if (contains(g["site"].get<std::string>(), "pile_up_at_one_site")) pile = g["fibers"];
  }
  CHECK(grouped == all["fibers"].size());
  CHECK(pile == static_cast<std::size_t>(fiberleak::detail::testing::ParkedFibers::kPile));
  CHECK(doc["groups"][0]["fibers"] == pile);  // the largest group first

  const auto findings = nlohmann::json::parse(live.get("/debug/leaks?limit=1")->body);
  CHECK(findings["leaks"].size() == 1);
  CHECK(findings["total"] == leaks);
  std::size_t in_sites = 0;
  for (const auto& s : findings["sites"]) in_sites += s["fibers"].size();
  CHECK(in_sites == leaks);
  CHECK(live.get("/debug/leaks?limit=0")->status == 400);
  CHECK(live.get("/debug/fibers?limit=x")->status == 400);
}
