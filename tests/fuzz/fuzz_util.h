/* fuzz_util.h — shared by the libFuzzer harnesses of tests/fuzz.
 *
 * The readers under test take a path, so each input is written to one
 * file per process: an anonymous in-memory file (memfd_create; no disk
 * traffic), else a temporary file unlinked as soon as it is made, both
 * reached through /proc/self/fd/N, so that a crash or a timeout leaves
 * nothing behind.  The same harness sources also build, with
 * tests/fuzz/replay.c instead of libFuzzer, the replay programs that
 * `make check` runs over the corpus and the crash regressions
 * (tests/fuzz_regress.sh). */
#ifndef IR_FUZZ_UTIL_H
#define IR_FUZZ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data[0..size) to the process's input file and returns its path
 * (valid until the next call).  Aborts when the file cannot be written:
 * that is a broken set-up, not a finding. */
static inline const char *ir_fuzz_file(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
#ifdef MFD_CLOEXEC
  if (fd < 0)
    fd = memfd_create("implreg-fuzz", MFD_CLOEXEC);
#endif
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
  }
  if (path[0] == '\0')
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
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
