/* report_env.c — what a manifest records about the machine and libraries a
 * run used, and the wall clock.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"
#include "report_impl.h"

#include <fftw3.h>
#include <gsl/gsl_version.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* OpenBLAS's own <cblas.h> clashes with GSL's CBLAS declarations (docs/stack.md
 * trap 2), so the two introspection functions are declared here. */
char *openblas_get_config(void);
int openblas_get_num_threads(void);

/* ---- run environment ----------------------------------------------------- */

void ir_report_environment(ir_json *j) {
  if (j == NULL)
    return;
  char host[256];
  if (gethostname(host, sizeof host) != 0)
    strcpy(host, "unknown");
  host[sizeof host - 1] = '\0';

  char when[32] = "unknown";
  time_t now = time(NULL);
  struct tm tm;
  if (now != (time_t)-1 && gmtime_r(&now, &tm) != NULL)
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);

#ifdef __VERSION__
  const char *compiler = __VERSION__;
#else
  const char *compiler = "unknown";
#endif

  ir_json_begin_object(j, "environment");
  ir_json_string(j, "implreg_version", PACKAGE_VERSION);
  ir_json_string(j, "gsl_version", gsl_version);
  ir_json_string(j, "openblas_config", openblas_get_config());
  const char *ct = getenv("OPENBLAS_CORETYPE");
  if (ct)
    ir_json_string(j, "openblas_coretype", ct);
  else
    ir_json_null(j, "openblas_coretype");
  ir_json_int(j, "blas_threads", (long)openblas_get_num_threads());
  ir_json_string(j, "fftw_version", fftw_version);
  ir_json_string(j, "host", host);
  ir_json_string(j, "compiler", compiler);
  ir_json_string(j, "time_utc", when);
  ir_json_end_object(j);
}

double ir_wall_time(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0.0;
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
