/* A plain C program for the preload's profile test, built at -O1 and -O2:
 * every allocation's pointer is kept where the compiler must assume it is
 * read (gcc deletes malloc calls whose result is never used). At exit it
 * still holds 10 x 1000 bytes from leak_small and 3 x 5000 from leak_large;
 * churn allocates and frees 1 MiB. It prints whether an HTTP or TLS
 * library was loaded into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void* volatile kept[16];

__attribute__((noinline)) void leak_small(int i) { kept[i] = malloc(1000); }
__attribute__((noinline)) void leak_large(int i) { kept[10 + i] = calloc(1, 5000); }
__attribute__((noinline)) void churn(void) {
  for (int i = 0; i < 256; ++i) {
    void* volatile p = malloc(4096);
    free(p);
  }
}

int main(void) {
  for (int i = 0; i < 10; ++i) leak_small(i);
  for (int i = 0; i < 3; ++i) leak_large(i);
  churn();
  int tls = 0;
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  while (maps != NULL && fgets(line, sizeof line, maps) != NULL) {
    if (strstr(line, "libssl") != NULL || strstr(line, "libcpp-httplib") != NULL) tls = 1;
  }
  if (maps != NULL) fclose(maps);
  printf("done, http/tls libraries %s\n", tls ? "loaded" : "not loaded");
  return 0;
}
