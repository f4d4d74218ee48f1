#include "daemon/target_discovery.hpp"

#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>
#include <system_error>
#include <thread>

#include "daemon/target_client.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

// What tells a file's new version from its last: re-read when it differs.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
  }
};

FileStamp stamp_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size, std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::vector<std::string> expand(const std::vector<std::string>& patterns) {
  std::vector<std::string> paths;
  for (const std::string& p : patterns) {
    glob_t g{};
    if (::glob(p.c_str(), 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

// The file's text, or "" with `error` set. Never blocks on a FIFO and never
// reads more than kMaxSdBytes.
std::string read_sd_file(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot be opened";
    return {};
  }
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "not a regular file";
  } else if (static_cast<std::uint64_t>(st.st_size) > kMaxSdBytes) {
    error = "larger than " + std::to_string(kMaxSdBytes) + " bytes";
  } else {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = "cannot be read";
        break;
      }
      if (n == 0) break;
      if (text.size() + static_cast<std::size_t>(n) > kMaxSdBytes) {
        error = "larger than " + std::to_string(kMaxSdBytes) + " bytes";
        break;
      }
      text.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  if (!error.empty()) text.clear();
  return text;
}

}  // namespace

struct TargetDiscovery::Provider {
  std::optional<FileSdConfig> file;
  std::optional<HttpSdConfig> http;
  // Each source's last good targets (a file's path; "" for the URL), under
  // the discovery's mutex.
  std::map<std::string, std::vector<SdTarget>> found;
  std::map<std::string, FileStamp> stamps;  // the provider's thread only
  // Each failing source's problems, logged when they first show or change
  // (not at every refresh while they stay); the provider's thread only.
  std::map<std::string, std::vector<std::string>> failing;
  std::chrono::steady_clock::time_point next_refresh{};

  std::mutex stop_mutex;  // guards stopping and client
  std::condition_variable wake;
  bool stopping = false;
  TargetClient* client = nullptr;  // http_sd's request in flight
  std::thread thread;
};

TargetDiscovery::TargetDiscovery(std::shared_ptr<spdlog::logger> logger, std::function<void()> on_change)
    : logger_(std::move(logger)), on_change_(std::move(on_change)) {}

TargetDiscovery::~TargetDiscovery() { stop(); }

void TargetDiscovery::configure(const std::vector<FileSdConfig>& files, const std::vector<HttpSdConfig>& urls) {
  std::vector<std::unique_ptr<Provider>> old = std::move(providers_);
  std::vector<std::unique_ptr<Provider>> next;
  auto reuse = [&](auto match) -> std::unique_ptr<Provider> {
    for (auto& p : old) {
      if (p && match(*p)) return std::move(p);
    }
    return nullptr;
  };
  std::vector<Provider*> fresh;
  for (const FileSdConfig& f : files) {
    auto p = reuse([&](const Provider& o) { return o.file && *o.file == f; });
    if (!p) {
      p = std::make_unique<Provider>();
      p->file = f;
      fresh.push_back(p.get());
    }
    next.push_back(std::move(p));
  }
  for (const HttpSdConfig& h : urls) {
    auto p = reuse([&](const Provider& o) { return o.http && *o.http == h; });
    if (!p) {
      p = std::make_unique<Provider>();
      p->http = h;
      fresh.push_back(p.get());
    }
    next.push_back(std::move(p));
  }
  for (auto& p : old) {
    if (p) stop_provider(*p);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    providers_ = std::move(next);
  }
  for (Provider* p : fresh) {
    if (p->file) refresh(*p, true);
    try {
      p->thread = std::thread([this, p] { run(*p); });
    } catch (const std::system_error& e) {
      logger_->error("discovery: no thread for a provider ({}); it is not refreshed until the next reload", e.what());
    }
  }
}

std::vector<SdTarget> TargetDiscovery::targets() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SdTarget> out;
  for (const auto& p : providers_) {
    for (const auto& [source, targets] : p->found) out.insert(out.end(), targets.begin(), targets.end());
  }
  return out;
}

TargetDiscovery::Counters TargetDiscovery::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

void TargetDiscovery::stop() {
  std::vector<std::unique_ptr<Provider>> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    all = std::move(providers_);
    providers_.clear();
  }
  for (auto& p : all) stop_provider(*p);
}

void TargetDiscovery::stop_provider(Provider& p) {
  {
    std::lock_guard<std::mutex> lock(p.stop_mutex);
    p.stopping = true;
    if (p.client != nullptr) p.client->cancel();
  }
  p.wake.notify_all();
  if (p.thread.joinable()) p.thread.join();
}

void TargetDiscovery::run(Provider& p) {
  const auto interval = p.file ? p.file->refresh_interval : p.http->refresh_interval;
  // http_sd asks at once; a new file_sd provider has just read its files (configure()).
  p.next_refresh = std::chrono::steady_clock::now() + (p.http ? std::chrono::milliseconds(0) : interval);
  std::unique_lock<std::mutex> lock(p.stop_mutex);
  while (!p.stopping) {
    const auto now = std::chrono::steady_clock::now();
    const bool due = now >= p.next_refresh;
    if (due) p.next_refresh = now + interval;
    if (due || p.file) {
      lock.unlock();
      try {
        refresh(p, due);
      } catch (const std::exception& e) {  // out of threads or memory: tried again at the next tick
        logger_->error("discovery: refresh failed unexpectedly: {}", e.what());
      }
      lock.lock();
    }
    const auto wake_at =
        p.file ? std::min(p.next_refresh, std::chrono::steady_clock::now() + kWatchTick) : p.next_refresh;
    p.wake.wait_until(lock, wake_at, [&] { return p.stopping; });
  }
}

void TargetDiscovery::report(Provider& p, const std::string& what, const std::string& source,
                             const std::vector<std::string>& errors,
                             const std::map<std::string, std::vector<SdTarget>>& found) {
  std::vector<std::string>& before = p.failing[source];
  if (before == errors) {
    logger_->debug("{}: still failing as logged before", what);
    return;
  }
  before = errors;
  const auto kept = found.find(source);
  logger_->error("{}: {} problem{}; its last good targets ({}) stay:", what, errors.size(),
                 errors.size() == 1 ? "" : "s", kept == found.end() ? 0 : kept->second.size());
  for (const std::string& e : errors) logger_->error("  {}", e);
}

void TargetDiscovery::refresh(Provider& p, bool force) {
  std::map<std::string, std::vector<SdTarget>> found;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    found = p.found;
  }
  std::uint64_t failures = 0;
  if (p.file) {
    const std::vector<std::string> paths = expand(p.file->files);
    std::map<std::string, FileStamp> stamps;
    for (const std::string& path : paths) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;  // gone between glob and stat
      const FileStamp stamp = stamp_of(st);
      stamps[path] = stamp;
      const auto was = p.stamps.find(path);
      if (!force && was != p.stamps.end() && was->second == stamp) continue;
      std::string error;
      const std::string text = read_sd_file(path, error);
      SdTargets parsed;
      if (error.empty())
        parsed = parse_sd_targets(text, p.file->kind);
      else
        parsed.errors.push_back(error);
      if (!parsed.errors.empty()) {
        ++failures;
        report(p, "file_sd " + path, path, parsed.errors, found);
        continue;
      }
      p.failing.erase(path);
      found[path] = std::move(parsed.targets);
    }
    for (auto it = found.begin(); it != found.end();) {
      if (stamps.count(it->first) == 0) {
        logger_->info("file_sd {}: gone; its {} targets with it", it->first, it->second.size());
        it = found.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = p.failing.begin(); it != p.failing.end();) {
      it = stamps.count(it->first) == 0 ? p.failing.erase(it) : std::next(it);
    }
    p.stamps = std::move(stamps);
  } else {
    const std::optional<HttpUrl> url = parse_http_url(p.http->url);  // the config checked it
    TargetClient client(url->origin, std::min(kHttpTimeout, p.http->refresh_interval), kMaxSdBytes);
    {
      std::lock_guard<std::mutex> lock(p.stop_mutex);
      if (p.stopping) return;
      p.client = &client;
    }
    // Prometheus' header, for servers that answer by how often they are asked.
    const auto refresh_s = std::chrono::duration_cast<std::chrono::seconds>(p.http->refresh_interval).count();
    Fetched f = client.get(url->path.empty() ? "/" : url->path,
                           {{"X-Prometheus-Refresh-Interval-Seconds", std::to_string(refresh_s)}});
    {
      std::lock_guard<std::mutex> lock(p.stop_mutex);
      p.client = nullptr;
      if (p.stopping) return;
    }
    SdTargets parsed;
    if (!f.error.empty())
      parsed.errors.push_back(f.error);
    else if (f.status != 200)
      parsed.errors.push_back("HTTP " + std::to_string(f.status));
    else if (std::string problem = http_sd_content_type_problem(f.content_type); !problem.empty())
      parsed.errors.push_back(std::move(problem));
    else
      parsed = parse_sd_targets(f.body, p.http->kind);
    if (!parsed.errors.empty()) {
      ++failures;
      report(p, "http_sd " + p.http->url, "", parsed.errors, found);
    } else {
      p.failing.erase("");
      found[""] = std::move(parsed.targets);
    }
  }
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    (p.file ? counters_.file_failures : counters_.http_failures) += failures;
    changed = found != p.found;
    if (changed) p.found = std::move(found);
  }
  if (changed && on_change_) on_change_();
}

}  // namespace fiberleak::detail
