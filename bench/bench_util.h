/* bench_util.h — what the C sides of the benchmarks share: clocks, JSON
 * numbers on stdout, one-line failures.  Define BENCH_PROG (the program's
 * name for messages) before including it. */
#ifndef IMPLREG_BENCH_UTIL_H
#define IMPLREG_BENCH_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "implreg/status.h"

/* Wall-clock seconds (CLOCK_MONOTONIC). */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the process, all threads. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "BENCH_PROG: what: the library's message (status)" on stderr; returns 1. */
static int fail(const char *what, int status) {
  fprintf(stderr, BENCH_PROG ": %s: %s (%s)\n", what, ir_error_message(),
          ir_strerror(status));
  return 1;
}

/* JSON numbers: non-finite values as null. */
static void jnum(const char *key, double x, const char *sep) {
  if (isfinite(x))
    printf("\"%s\": %.17g%s", key, x, sep);
  else
    printf("\"%s\": null%s", key, sep);
}

static void jarr(const char *key, const double *x, size_t n, const char *sep) {
  printf("\"%s\": [", key);
  for (size_t i = 0; i < n; i++) {
    if (isfinite(x[i]))
      printf("%.17g%s", x[i], i + 1 < n ? ", " : "");
    else
      printf("null%s", i + 1 < n ? ", " : "");
  }
  printf("]%s", sep);
}

/* A positive finite number for option opt; one line and 1 otherwise. */
static int parse_double(const char *opt, const char *arg, double *out) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (errno || *end || end == arg || !(v > 0) || !isfinite(v)) {
    fprintf(stderr, BENCH_PROG ": %s takes a positive number\n", opt);
    return 1;
  }
  *out = v;
  return 0;
}

#endif
