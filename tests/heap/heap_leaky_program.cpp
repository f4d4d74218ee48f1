// An unmodified program with known leaks for the heaptrack cross-check:
// each leak_* function leaks a known number of bytes and returns.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

void* volatile g_sink;

__attribute__((noinline)) void leak_small_blocks() {
  for (int i = 0; i < 100; ++i) g_sink = std::malloc(48);  // 4800 bytes leaked
}
__attribute__((noinline)) void leak_big_block() { g_sink = std::calloc(1, 100000); }
__attribute__((noinline)) void leak_with_new() {
  for (int i = 0; i < 7; ++i) g_sink = new char[333];  // 2331 bytes leaked
}
__attribute__((noinline)) void no_leak() {
  for (int i = 0; i < 1000; ++i) {
    g_sink = std::malloc(64);
    std::free(g_sink);
  }
}

int main() {
  leak_small_blocks();
  leak_big_block();
  leak_with_new();
  no_leak();
  std::puts("done");
  return 0;
}
