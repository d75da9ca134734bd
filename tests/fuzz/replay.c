/* replay.c — main() for the replay programs: runs a harness's
 * LLVMFuzzerTestOneInput once on each file named on the command line,
 * without libFuzzer, so that `make check` replays the seed corpus and the
 * crash regressions (tests/fuzz/regress) in the ordinary build (and under
 * valgrind or the sanitizers).  A crash or a contract violation aborts;
 * exit 0 means every file was read without one. */
#include "fuzz_util.h"

#include <errno.h>
#include <string.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *fp = fopen(argv[i], "rb");
    if (fp == NULL) {
      fprintf(stderr, "%s: %s: %s\n", argv[0], argv[i], strerror(errno));
      return 99;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
      if (buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 99;
      }
      len += fread(buf + len, 1, cap - len, fp);
      if (len < cap)
        break;
      uint8_t *b = realloc(buf, 2 * cap);
      if (b == NULL)
        free(buf);
      buf = b;
      cap *= 2;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
      fprintf(stderr, "%s: %s: read error\n", argv[0], argv[i]);
      free(buf);
      return 99;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
  }
  return 0;
}
