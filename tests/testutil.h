/* testutil.h — helpers shared by the Check suites.
 *
 * Check's ck_assert_double_eq_tol is absolute (docs/stack.md trap 6); numerical
 * tests here state a relative tolerance plus an absolute floor:
 *   |x − y| <= atol + rtol·max(|x|, |y|).
 */
#ifndef IMPLREG_TESTUTIL_H
#define IMPLREG_TESTUTIL_H

#include <check.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "implreg/status.h"

#define IR_ASSERT_CLOSE(x, y, rtol, atol)                                      \
  do {                                                                         \
    double ir_x_ = (x), ir_y_ = (y);                                           \
    double ir_s_ = fmax(fabs(ir_x_), fabs(ir_y_));                             \
    ck_assert_msg(fabs(ir_x_ - ir_y_) <= (atol) + (rtol)*ir_s_,                \
                  "%s = %.17g, %s = %.17g, |diff| = %.3g > %.3g + %.3g*%.3g",  \
                  #x, ir_x_, #y, ir_y_, fabs(ir_x_ - ir_y_), (double)(atol),   \
                  (double)(rtol), ir_s_);                                      \
  } while (0)

#define IR_ASSERT_OK(expr)                                                     \
  do {                                                                         \
    int ir_s_ = (expr);                                                        \
    ck_assert_msg(ir_s_ == IR_OK, "%s returned %d (%s): %s", #expr, ir_s_,     \
                  ir_strerror(ir_s_), ir_error_message());                     \
  } while (0)

/* Frobenius norm of A − B divided by max(‖A‖_F, ‖B‖_F, tiny). */
static inline double ir_test_reldiff(const gsl_matrix *A, const gsl_matrix *B) {
  double d = 0, a = 0, b = 0;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++) {
      double x = gsl_matrix_get(A, i, j), y = gsl_matrix_get(B, i, j);
      d += (x - y) * (x - y);
      a += x * x;
      b += y * y;
    }
  double s = sqrt(fmax(a, b));
  return sqrt(d) / (s > 1e-300 ? s : 1e-300);
}

/* An n×p matrix of independent N(0, 1) entries from a fixed-seed generator. */
static inline gsl_matrix *ir_test_gaussian(size_t n, size_t p,
                                           unsigned long seed) {
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, seed);
  gsl_matrix *m = gsl_matrix_alloc(n, p);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < p; j++)
      gsl_matrix_set(m, i, j, gsl_ran_gaussian(r, 1.0));
  gsl_rng_free(r);
  return m;
}

/* Runs a suite and returns the process exit status (0 when all pass). */
static inline int ir_test_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
