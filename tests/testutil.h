/* testutil.h — helpers shared by the Check suites.
 *
 * Check's ck_assert_double_eq_tol is absolute (docs/stack.md trap 6); numerical
 * tests here state a relative tolerance plus an absolute floor:
 *   |x − y| <= atol + rtol·max(|x|, |y|).
 */
#ifndef IMPLREG_TESTUTIL_H
#define IMPLREG_TESTUTIL_H

#include <check.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
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

/* Q diag(mu) Qᵀ (p×p) with Q the orthogonal factor of a Gaussian matrix
 * (Householder QR through GSL) of seed `seed`, symmetric exactly: a matrix
 * with a planted spectrum. */
static inline gsl_matrix *ir_test_sym_with_spectrum(const double *mu, size_t p,
                                                    unsigned long seed) {
  gsl_matrix *G = ir_test_gaussian(p, p, seed);
  gsl_vector *tau = gsl_vector_alloc(p);
  gsl_matrix *Q = gsl_matrix_alloc(p, p), *R = gsl_matrix_alloc(p, p);
  ck_assert_int_eq(gsl_linalg_QR_decomp(G, tau), 0);
  ck_assert_int_eq(gsl_linalg_QR_unpack(G, tau, Q, R), 0);
  gsl_matrix *A = gsl_matrix_calloc(p, p);
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j <= i; j++) {
      double s = 0;
      for (size_t k = 0; k < p; k++)
        s += gsl_matrix_get(Q, i, k) * mu[k] * gsl_matrix_get(Q, j, k);
      gsl_matrix_set(A, i, j, s);
      gsl_matrix_set(A, j, i, s);
    }
  gsl_matrix_free(G);
  gsl_matrix_free(Q);
  gsl_matrix_free(R);
  gsl_vector_free(tau);
  return A;
}

/* The eigenbasis of a symmetric matrix by gsl_eigen_symmv (independent of
 * the library's dsyevr): eigenvalues mu, eigenvectors in the columns of Q. */
typedef struct {
  size_t p;
  gsl_vector *mu;
  gsl_matrix *Q;
} ir_test_eigbasis;

static inline ir_test_eigbasis ir_test_eig(const gsl_matrix *A) {
  ir_test_eigbasis e;
  e.p = A->size1;
  e.mu = gsl_vector_alloc(e.p);
  e.Q = gsl_matrix_alloc(e.p, e.p);
  gsl_matrix *W = gsl_matrix_alloc(e.p, e.p);
  gsl_matrix_memcpy(W, A);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(e.p);
  ck_assert_int_eq(gsl_eigen_symmv(W, e.mu, e.Q, ws), 0);
  gsl_eigen_symmv_free(ws);
  gsl_matrix_free(W);
  return e;
}

static inline void ir_test_eig_free(ir_test_eigbasis *e) {
  gsl_vector_free(e->mu);
  gsl_matrix_free(e->Q);
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
