/* implreg/status.h — status codes and the last error message.
 *
 * Every fallible function in libimplreg returns an int status: IR_OK (0) on
 * success, one of the codes below otherwise.  The function that fails first
 * records a one-line message (what went wrong and where: file:line:column of
 * bad input, the LAPACK argument number, ...) in a thread-local buffer; the
 * caller reads it with ir_error_message().  Library code never prints, exits
 * or aborts.
 */
#ifndef IMPLREG_STATUS_H
#define IMPLREG_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  IR_OK = 0,
  IR_EINVAL = 1,    /* invalid argument or option value                      */
  IR_EDOM = 2,      /* argument outside the domain of the function          */
  IR_ENOMEM = 3,    /* allocation failed                                     */
  IR_EIO = 4,       /* file cannot be opened, read or written               */
  IR_EFORMAT = 5,   /* malformed input file (CSV, NPY, IDX, config)          */
  IR_ENOCONV = 6,   /* an iterative method (LAPACK, Lanczos) did not converge */
  IR_EDIVERGE = 7,  /* an optimizer diverged (loss became huge or not finite) */
  IR_ESHAPE = 8,    /* dimensions of the arguments do not match              */
  IR_EBADDATA = 9,  /* NaN or Inf (or another impossible value) in the data  */
  IR_ESING = 10,    /* matrix too ill-conditioned for the requested method   */
  IR_EINTERNAL = 11, /* a bug: an invariant of the library does not hold    */
  IR_EINTR = 12      /* stopped on request (a signal): partial work was kept */
};

/* A short static description of a status code ("invalid argument", ...). */
const char *ir_strerror(int status);

/* Records a printf-style message for the current thread and returns status,
 * so that failures read `return ir_error(IR_EINVAL, "rcond = %g < 0", r);`.
 * A message already recorded for the same failure is replaced. */
int ir_error(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ir_verror(int status, const char *fmt, va_list ap);

/* Prefixes the recorded message with "context: " (e.g. the option that
 * supplied the bad file) and returns status unchanged. */
int ir_error_context(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message recorded on this thread ("" if none); valid until the next
 * ir_error* call on this thread. */
const char *ir_error_message(void);

/* Forgets the recorded message. */
void ir_error_clear(void);

/* Turns GSL's abort-on-error handler off and makes GSL errors record a
 * message here instead (callers still see GSL's return code).  Call once at
 * start-up; the library's own GSL calls check their return codes. */
void ir_error_install_gsl_handler(void);

/* Maps a GSL error code (GSL_EDOM, GSL_ENOMEM, ...) to an IR_* status. */
int ir_status_from_gsl(int gsl_status);

#ifdef __cplusplus
}
#endif
#endif
