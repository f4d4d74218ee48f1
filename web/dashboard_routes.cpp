#include "web/dashboard_routes.hpp"

#include <stdexcept>
#include <string_view>

#include "web/embedded_files.hpp"

namespace fiberleak::detail {
namespace {

const char* content_type(std::string_view name) {
  auto ends_with = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

httplib::Server::Handler serve_file(const EmbeddedFile& file) {
  return [&file](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", kDashboardCsp);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(file.bytes.data(), file.bytes.size(), content_type(file.name));
  };
}

const EmbeddedFile& find_file(const std::string& name) {
  for (const EmbeddedFile& f : embedded_files()) {
    if (f.name == name) return f;
  }
  throw std::logic_error("fiberleak: no embedded dashboard file " + name);
}

}  // namespace

void mount_dashboard(httplib::Server& server, const std::string& dir, const std::vector<DashboardPage>& pages) {
  for (const DashboardPage& p : pages) server.Get(dir + p.path, serve_file(find_file(p.file)));
  for (const EmbeddedFile& f : embedded_files()) server.Get(dir + std::string(f.name), serve_file(f));
}

void open_dashboard(AccessPolicy& access, const std::string& dir, const std::vector<DashboardPage>& pages) {
  for (const DashboardPage& p : pages) access.open_paths.push_back(dir + p.path);
  for (const EmbeddedFile& f : embedded_files()) access.open_paths.push_back(dir + std::string(f.name));
}

}  // namespace fiberleak::detail
