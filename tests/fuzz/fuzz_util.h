/* fuzz_util.h — shared by the libFuzzer harnesses of tests/fuzz.
 *
 * The readers under test take a path, so each input is written to one
 * temporary file per process.  The file is unlinked as soon as it is made
 * and reached through /proc/self/fd/N: a crash or a timeout leaves nothing
 * behind in TMPDIR.  The same harness sources also build, with
 * tests/fuzz/replay.c instead of libFuzzer, the replay programs that
 * `make check` runs over the corpus and the crash regressions
 * (tests/fuzz_regress.sh). */
#ifndef IR_FUZZ_UTIL_H
#define IR_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data[0..size) to the process's input file and returns its path
 * (valid until the next call).  Aborts when the file cannot be written:
 * that is a broken set-up, not a finding. */
static inline const char *ir_fuzz_file(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/implreg-fuzz.XXXXXX",
             dir && *dir ? dir : "/tmp");
    fd = mkstemp(tmpl);
    if (fd < 0) {
      perror("implreg fuzz: mkstemp");
      abort();
    }
    unlink(tmpl);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) {
    perror("implreg fuzz: ftruncate");
    abort();
  }
  size_t off = 0;
  while (off < size) {
    ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
    if (w <= 0) {
      perror("implreg fuzz: pwrite");
      abort();
    }
    off += (size_t)w;
  }
  return path;
}

/* An invariant of the reader's contract does not hold: report and abort,
 * so that libFuzzer (or the replay) counts it as a crash. */
#define IR_FUZZ_REQUIRE(cond)                                                 \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "%s:%d: contract violated: %s\n", __FILE__, __LINE__,   \
              #cond);                                                         \
      abort();                                                                \
    }                                                                         \
  } while (0)

#endif
