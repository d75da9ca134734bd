/* test_status.c — status codes, the per-thread error message, and the GSL
 * error handler. */
#include "implreg/status.h"

#include "testutil.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

/* The highest status code declared in status.h. */
#define IR_LAST_CODE IR_EINTR

/* Returns 1 when s starts with prefix. */
static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- ir_error and ir_verror ---------------------------------------------- */

START_TEST(test_error_returns_status_and_formats) {
  ir_error_clear();
  int s = ir_error(IR_EIO, "cannot open %s (line %d, %.2f)", "a.csv", 12, 0.5);
  ck_assert_int_eq(s, IR_EIO);
  ck_assert_str_eq(ir_error_message(), "cannot open a.csv (line 12, 0.50)");
}
END_TEST

START_TEST(test_error_every_code_returned) {
  /* The status argument is passed through unchanged for every code, and
   * also for a code the library does not know. */
  for (int c = IR_OK; c <= IR_LAST_CODE; c++)
    ck_assert_int_eq(ir_error(c, "code %d", c), c);
  ck_assert_int_eq(ir_error(-7, "negative"), -7);
  ck_assert_str_eq(ir_error_message(), "negative");
}
END_TEST

START_TEST(test_error_replaces) {
  ir_error(IR_EINVAL, "first message");
  ir_error(IR_EDOM, "second");
  ck_assert_str_eq(ir_error_message(), "second");
}
END_TEST

START_TEST(test_error_may_quote_previous) {
  /* Wrapping the previous message in a new one is the natural way to add
   * detail ("reading f.csv: <inner>"); ir_error_message() is still valid
   * when it is passed as an argument, so the result must be the plain
   * concatenation, not a buffer formatted over itself. */
  ir_error(IR_EFORMAT, "inner detail");
  ck_assert_int_eq(
      ir_error(IR_EIO, "reading %s: %s", "f.csv", ir_error_message()), IR_EIO);
  ck_assert_str_eq(ir_error_message(), "reading f.csv: inner detail");
}
END_TEST

/* A variadic wrapper, the way library code forwards to ir_verror. */
static int wrap_verror(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int wrap_verror(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int s = ir_verror(status, fmt, ap);
  va_end(ap);
  return s;
}

START_TEST(test_verror) {
  ck_assert_int_eq(wrap_verror(IR_EFORMAT, "row %zu: '%s'", (size_t)3, "x"),
                   IR_EFORMAT);
  ck_assert_str_eq(ir_error_message(), "row 3: 'x'");
}
END_TEST

START_TEST(test_error_long_message_truncated) {
  /* A message longer than any reasonable buffer must be cut, stay
   * NUL-terminated, and keep its beginning (the part that says what went
   * wrong). */
  enum { LONG = 5000 };
  static char big[LONG + 1];
  memset(big, 'a', LONG);
  big[0] = 'X';
  big[LONG] = '\0';
  ir_error(IR_EFORMAT, "%s", big);
  const char *m = ir_error_message();
  size_t len = strlen(m);
  ck_assert_uint_gt(len, 100);
  ck_assert_uint_le(len, LONG);
  ck_assert(strncmp(m, big, len) == 0);
  /* A context prefix on a full buffer still yields a terminated string that
   * starts with the prefix. */
  ir_error_context(IR_EFORMAT, "file %s", "big.csv");
  m = ir_error_message();
  ck_assert(starts_with(m, "file big.csv: X"));
  ck_assert_uint_le(strlen(m), LONG + 16);
}
END_TEST

/* ---- ir_error_context ---------------------------------------------------- */

START_TEST(test_context_prefixes) {
  ir_error(IR_EFORMAT, "line %d: bad number '%s'", 4, "1.2.3");
  int s = ir_error_context(IR_EFORMAT, "option --data %s", "x.csv");
  ck_assert_int_eq(s, IR_EFORMAT);
  ck_assert_str_eq(ir_error_message(),
                   "option --data x.csv: line 4: bad number '1.2.3'");
}
END_TEST

START_TEST(test_context_nested) {
  /* Contexts added while unwinding read outermost first. */
  ir_error(IR_EIO, "read failed");
  ir_error_context(IR_EIO, "inner");
  ck_assert_int_eq(ir_error_context(IR_EIO, "outer %d", 2), IR_EIO);
  ck_assert_str_eq(ir_error_message(), "outer 2: inner: read failed");
}
END_TEST

START_TEST(test_context_without_message) {
  /* With nothing recorded, the context still appears and something follows
   * it (the message must not end in a dangling "ctx: "). */
  ir_error_clear();
  ck_assert_int_eq(ir_error_context(IR_ENOMEM, "ctx"), IR_ENOMEM);
  const char *m = ir_error_message();
  ck_assert(starts_with(m, "ctx: "));
  ck_assert_uint_gt(strlen(m), strlen("ctx: "));
}
END_TEST

/* ---- ir_strerror --------------------------------------------------------- */

START_TEST(test_strerror_all_codes) {
  /* Every declared code has its own non-empty description, different from
   * the one given to unknown codes. */
  const char *unknown = ir_strerror(IR_LAST_CODE + 1);
  ck_assert_ptr_nonnull(unknown);
  ck_assert_uint_gt(strlen(unknown), 0);
  for (int c = IR_OK; c <= IR_LAST_CODE; c++) {
    const char *d = ir_strerror(c);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_gt(strlen(d), 0);
    ck_assert_str_ne(d, unknown);
    for (int e = IR_OK; e < c; e++)
      ck_assert_msg(strcmp(d, ir_strerror(e)) != 0,
                    "codes %d and %d share the description '%s'", c, e, d);
  }
}
END_TEST

START_TEST(test_strerror_unknown) {
  const int bad[] = {-1, -1000, IR_LAST_CODE + 1, 99, INT_MAX, INT_MIN};
  const char *unknown = ir_strerror(IR_LAST_CODE + 1);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_str_eq(ir_strerror(bad[i]), unknown);
}
END_TEST

/* ---- ir_error_clear ------------------------------------------------------ */

START_TEST(test_clear) {
  ir_error(IR_EINVAL, "something");
  ck_assert_str_ne(ir_error_message(), "");
  ir_error_clear();
  ck_assert_str_eq(ir_error_message(), "");
  /* Clearing twice is harmless. */
  ir_error_clear();
  ck_assert_str_eq(ir_error_message(), "");
}
END_TEST

/* ---- GSL handler and code mapping ---------------------------------------- */

START_TEST(test_gsl_handler_memcpy) {
  /* gsl_matrix_memcpy on different sizes calls GSL_ERROR(..., GSL_EBADLEN).
   * With GSL's default handler that aborts; with ours it returns the code
   * and leaves a message.  In fork mode an abort would fail only this test. */
  ir_error_install_gsl_handler();
  ir_error_clear();
  gsl_matrix *a = gsl_matrix_calloc(2, 3);
  gsl_matrix *b = gsl_matrix_calloc(3, 2);
  int g = gsl_matrix_memcpy(a, b);
  ck_assert_int_eq(g, GSL_EBADLEN);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "GSL"));
  ck_assert_int_eq(ir_status_from_gsl(g), IR_ESHAPE);
  gsl_matrix_free(a);
  gsl_matrix_free(b);
}
END_TEST

START_TEST(test_gsl_handler_cholesky) {
  /* [[1, 2], [2, 1]] has eigenvalues 3 and −1, so it is not positive
   * definite and the Cholesky factorization reports GSL_EDOM. */
  ir_error_install_gsl_handler();
  ir_error_clear();
  gsl_matrix *a = gsl_matrix_alloc(2, 2);
  gsl_matrix_set(a, 0, 0, 1.0);
  gsl_matrix_set(a, 0, 1, 2.0);
  gsl_matrix_set(a, 1, 0, 2.0);
  gsl_matrix_set(a, 1, 1, 1.0);
  int g = gsl_linalg_cholesky_decomp1(a);
  ck_assert_int_eq(g, GSL_EDOM);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "GSL"));
  ck_assert_int_eq(ir_status_from_gsl(g), IR_EDOM);
  gsl_matrix_free(a);
}
END_TEST

START_TEST(test_gsl_status_mapping) {
  ck_assert_int_eq(ir_status_from_gsl(GSL_SUCCESS), IR_OK);
  ck_assert_int_eq(ir_status_from_gsl(GSL_EDOM), IR_EDOM);
  ck_assert_int_eq(ir_status_from_gsl(GSL_ENOMEM), IR_ENOMEM);
  ck_assert_int_eq(ir_status_from_gsl(GSL_EBADLEN), IR_ESHAPE);
  ck_assert_int_eq(ir_status_from_gsl(GSL_ENOTSQR), IR_ESHAPE);
  ck_assert_int_eq(ir_status_from_gsl(GSL_ESING), IR_ESING);
  ck_assert_int_eq(ir_status_from_gsl(GSL_EMAXITER), IR_ENOCONV);
  ck_assert_int_eq(ir_status_from_gsl(GSL_EINVAL), IR_EINVAL);
}
END_TEST

START_TEST(test_gsl_status_never_ok_on_failure) {
  /* GSL's codes run from GSL_CONTINUE (−2) to GSL_EOF (32).  Every failure
   * must map to a failure, and to a code that ir_strerror knows. */
  const char *unknown = ir_strerror(IR_LAST_CODE + 1);
  for (int g = GSL_CONTINUE; g <= GSL_EOF; g++) {
    if (g == GSL_SUCCESS)
      continue;
    int s = ir_status_from_gsl(g);
    ck_assert_msg(s != IR_OK, "GSL code %d maps to IR_OK", g);
    ck_assert_msg(strcmp(ir_strerror(s), unknown) != 0,
                  "GSL code %d maps to unknown status %d", g, s);
  }
}
END_TEST

/* ---- Per-thread messages ------------------------------------------------- */

typedef struct {
  char initial[64];  /* what the new thread saw before recording anything */
  char recorded[64]; /* what it read back after its own ir_error */
  int status;
} thread_report;

static void *thread_body(void *arg) {
  thread_report *r = arg;
  snprintf(r->initial, sizeof r->initial, "%s", ir_error_message());
  r->status = ir_error(IR_EDOM, "thread says %d", 42);
  snprintf(r->recorded, sizeof r->recorded, "%s", ir_error_message());
  return NULL;
}

START_TEST(test_thread_local_messages) {
  ir_error(IR_EIO, "main thread message");
  thread_report r;
  memset(&r, 0, sizeof r);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, thread_body, &r), 0);
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  /* A new thread starts with no message, sees its own, and does not touch
   * the main thread's. */
  ck_assert_str_eq(r.initial, "");
  ck_assert_int_eq(r.status, IR_EDOM);
  ck_assert_str_eq(r.recorded, "thread says 42");
  ck_assert_str_eq(ir_error_message(), "main thread message");
}
END_TEST

static Suite *status_suite(void) {
  Suite *s = suite_create("status");
  TCase *tc = tcase_create("error");
  tcase_add_test(tc, test_error_returns_status_and_formats);
  tcase_add_test(tc, test_error_every_code_returned);
  tcase_add_test(tc, test_error_replaces);
  tcase_add_test(tc, test_error_may_quote_previous);
  tcase_add_test(tc, test_verror);
  tcase_add_test(tc, test_error_long_message_truncated);
  suite_add_tcase(s, tc);

  tc = tcase_create("context");
  tcase_add_test(tc, test_context_prefixes);
  tcase_add_test(tc, test_context_nested);
  tcase_add_test(tc, test_context_without_message);
  suite_add_tcase(s, tc);

  tc = tcase_create("strerror");
  tcase_add_test(tc, test_strerror_all_codes);
  tcase_add_test(tc, test_strerror_unknown);
  tcase_add_test(tc, test_clear);
  suite_add_tcase(s, tc);

  tc = tcase_create("gsl");
  tcase_add_test(tc, test_gsl_handler_memcpy);
  tcase_add_test(tc, test_gsl_handler_cholesky);
  tcase_add_test(tc, test_gsl_status_mapping);
  tcase_add_test(tc, test_gsl_status_never_ok_on_failure);
  suite_add_tcase(s, tc);

  tc = tcase_create("threads");
  tcase_add_test(tc, test_thread_local_messages);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(status_suite());
}
