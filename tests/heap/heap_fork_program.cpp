// An unmodified program for the LD_PRELOAD test: threads allocate through
// new/malloc/realloc/aligned allocation, blocks outlive their threads and are
// freed by others, the process forks and the child keeps allocating.
// Prints a checksum that must not depend on the profiler.
#include <unistd.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

static std::uint64_t work(int seed) {
  std::map<int, std::string> m;
  std::uint64_t sum = 0;
  for (int i = 0; i < 20000; ++i) {
    m[(i * 7919 + seed) % 5000] = std::string(static_cast<std::size_t>(i % 300), static_cast<char>('a' + i % 26));
    void* p = nullptr;
    if (posix_memalign(&p, 64, 128 + static_cast<std::size_t>(i % 64)) == 0) free(p);
    char* r = static_cast<char*>(std::malloc(16));
    r = static_cast<char*>(std::realloc(r, 4096));
    r[4095] = 1;
    sum += static_cast<unsigned char>(r[4095]);
    std::free(r);
  }
  for (const auto& [k, v] : m) sum += static_cast<std::uint64_t>(k) * v.size();
  return sum;
}

int main() {
  std::vector<void*> orphans;
  std::mutex mu;
  std::vector<std::thread> threads;
  std::vector<std::uint64_t> sums(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      sums[t] = work(t);
      std::lock_guard<std::mutex> lock(mu);
      for (int i = 0; i < 100; ++i) orphans.push_back(std::malloc(1000 + static_cast<std::size_t>(i)));
    });
  }
  const pid_t child = fork();
  if (child == 0) {
    std::printf("child %llu\n", static_cast<unsigned long long>(work(99)));
    std::fflush(stdout);
    _exit(0);
  }
  for (auto& th : threads) th.join();
  for (void* p : orphans) std::free(p);  // blocks of exited threads
  int status = 0;
  waitpid(child, &status, 0);
  std::uint64_t total = 0;
  for (auto s : sums) total += s;
  std::printf("parent %llu child-exit %d\n", static_cast<unsigned long long>(total), WEXITSTATUS(status));
  return 0;
}
