/* status.c — status codes and the per-thread last error message. */
#include "implreg/status.h"

#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>

#define IR_MSG_MAX 1024

static _Thread_local char ir_msg[IR_MSG_MAX];

const char *ir_strerror(int status) {
  switch (status) {
  case IR_OK: return "success";
  case IR_EINVAL: return "invalid argument";
  case IR_EDOM: return "argument outside domain";
  case IR_ENOMEM: return "out of memory";
  case IR_EIO: return "input/output error";
  case IR_EFORMAT: return "malformed input";
  case IR_ENOCONV: return "no convergence";
  case IR_EDIVERGE: return "optimizer diverged";
  case IR_ESHAPE: return "dimensions do not match";
  case IR_EBADDATA: return "non-finite or impossible value in data";
  case IR_ESING: return "matrix too ill-conditioned";
  case IR_EINTERNAL: return "internal error";
  case IR_EINTR: return "interrupted";
  default: return "unknown status";
  }
}

int ir_verror(int status, const char *fmt, va_list ap) {
  /* Format into a local buffer first: the arguments may point into ir_msg
   * (e.g. ir_error_message() quoted in a wrapping message), and vsnprintf's
   * source and destination must not overlap. */
  char buf[IR_MSG_MAX];
  vsnprintf(buf, sizeof buf, fmt, ap);
  memcpy(ir_msg, buf, strlen(buf) + 1);
  return status;
}

int ir_error(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_verror(status, fmt, ap);
  va_end(ap);
  return status;
}

int ir_error_context(int status, const char *fmt, ...) {
  char prefix[IR_MSG_MAX];
  char old[IR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char joined[2 * IR_MSG_MAX + 2];
  memcpy(old, ir_msg, sizeof old);
  snprintf(joined, sizeof joined, "%s: %s", prefix,
           old[0] != '\0' ? old : ir_strerror(status));
  /* Keep the start of the joined message if it is too long. */
  memcpy(ir_msg, joined, IR_MSG_MAX - 1);
  ir_msg[IR_MSG_MAX - 1] = '\0';
  return status;
}

const char *ir_error_message(void) {
  return ir_msg;
}

void ir_error_clear(void) {
  ir_msg[0] = '\0';
}

static void ir_gsl_handler(const char *reason, const char *file, int line,
                           int gsl_errno) {
  ir_error(ir_status_from_gsl(gsl_errno), "GSL: %s (%s:%d)", reason, file,
           line);
}

void ir_error_install_gsl_handler(void) {
  gsl_set_error_handler(ir_gsl_handler);
}

int ir_status_from_gsl(int s) {
  switch (s) {
  case GSL_SUCCESS: return IR_OK;
  case GSL_EDOM: return IR_EDOM;
  case GSL_ENOMEM: return IR_ENOMEM;
  case GSL_EBADLEN: return IR_ESHAPE;
  case GSL_ENOTSQR: return IR_ESHAPE;
  case GSL_ESING: return IR_ESING;
  case GSL_EMAXITER: return IR_ENOCONV;
  case GSL_ENOPROG: return IR_ENOCONV;
  case GSL_EFAILED: return IR_ENOCONV;
  default: return IR_EINVAL;
  }
}
