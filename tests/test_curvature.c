/* test_curvature.c — the curvature engine against independent computations:
 * dense spectra by dsyevr (through ir_eigen_symm, not through the code under
 * test), moments computed by repeated products, closed-form variances.
 *
 * Tolerances.  Deterministic checks follow LAPACK's test convention (as
 * test_linalg.c): an error is divided by n·eps·(scale) and must stay below
 * THRESH = 30.  Eigenvalue checks add the solver's own guarantee: a Ritz
 * value θ with residual r = ‖Av − θv‖ (unit v) lies within r of an
 * eigenvalue of A (Bauer–Fike for symmetric A), and r <= tol·‖A‖_est is what
 * the solver certifies.  Statistical checks use 5 standard errors of the
 * sampling distribution (two-sided p ≈ 6e-7 under the null), with fixed
 * seeds, so they are deterministic and fail only on a real bias.
 */
#include "implreg/curvature.h"

#include "implreg/linalg.h"
#include "implreg/model.h"
#include "implreg/rng.h"

#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_math.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#define EPS DBL_EPSILON
#define THRESH 30.0

/* ---- Test matrices ------------------------------------------------------- */

/* A Haar-like random orthogonal n×n matrix: the Q factor of a Gaussian
 * matrix by Householder QR (dgeqrf + dorgqr). */
static gsl_matrix *random_orthogonal(size_t n, unsigned long seed) {
  gsl_matrix *Q = ir_test_gaussian(n, n, seed);
  double *tau = malloc(n * sizeof(double));
  lapack_int nn = (lapack_int)n;
  ck_assert_int_eq(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, nn, nn, Q->data, nn, tau),
                   0);
  ck_assert_int_eq(
      LAPACKE_dorgqr(LAPACK_COL_MAJOR, nn, nn, nn, Q->data, nn, tau), 0);
  free(tau);
  return Q; /* orthogonal read column- or row-major alike */
}

/* A = Q diag(lam) Qᵀ with a random orthogonal Q, symmetrized exactly. */
static gsl_matrix *with_spectrum(const double *lam, size_t n,
                                 unsigned long seed) {
  gsl_matrix *Q = random_orthogonal(n, seed);
  gsl_matrix *B = gsl_matrix_alloc(n, n), *A = gsl_matrix_alloc(n, n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      gsl_matrix_set(B, i, j, gsl_matrix_get(Q, i, j) * lam[j]);
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, B, Q, 0.0, A);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      double a = 0.5 * (gsl_matrix_get(A, i, j) + gsl_matrix_get(A, j, i));
      gsl_matrix_set(A, i, j, a);
      gsl_matrix_set(A, j, i, a);
    }
  gsl_matrix_free(Q);
  gsl_matrix_free(B);
  return A;
}

/* A = P diag(lam) P with P a product of two Householder reflectors: a dense
 * matrix with a prescribed spectrum in O(n²), for n = 1000.  Each reflector
 * H = I − 2uuᵀ maps A to HAH = A − 2(u tᵀ + t uᵀ), t = Au − (uᵀAu)u. */
static gsl_matrix *householder_spectrum(const double *lam, size_t n,
                                        unsigned long seed) {
  gsl_matrix *A = gsl_matrix_calloc(n, n);
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(A, i, i, lam[i]);
  gsl_matrix *U = ir_test_gaussian(2, n, seed);
  gsl_vector *t = gsl_vector_alloc(n);
  for (size_t r = 0; r < 2; r++) {
    gsl_vector_view u = gsl_matrix_row(U, r);
    gsl_vector_scale(&u.vector, 1.0 / gsl_blas_dnrm2(&u.vector));
    double c;
    gsl_blas_dsymv(CblasLower, 1.0, A, &u.vector, 0.0, t);
    gsl_blas_ddot(&u.vector, t, &c);
    gsl_blas_daxpy(-c, &u.vector, t);
    gsl_blas_dsyr2(CblasLower, -2.0, &u.vector, t, A);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < i; j++)
        gsl_matrix_set(A, j, i, gsl_matrix_get(A, i, j));
  }
  gsl_vector_free(t);
  gsl_matrix_free(U);
  return A;
}

/* Eigenvalues of A, ascending, by dsyevr through linalg.h (independent of
 * the code under test). */
static double *dense_eigs(const gsl_matrix *A) {
  const size_t n = A->size1;
  ir_eigen_symm *w = ir_eigen_symm_alloc(n);
  IR_ASSERT_OK(ir_eigen_symm_decomp(w, A));
  double *ev = malloc(n * sizeof(double));
  memcpy(ev, w->eval->data, n * sizeof(double));
  ir_eigen_symm_free(w);
  return ev;
}

static double max_abs(const double *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(x[i]));
  return m;
}

/* max |VᵀV − I| over the entries, for V with orthonormal columns. */
static double orth_defect(const gsl_matrix *V) {
  double d = 0;
  for (size_t a = 0; a < V->size2; a++)
    for (size_t b = 0; b < V->size2; b++) {
      double s = 0;
      for (size_t i = 0; i < V->size1; i++)
        s += gsl_matrix_get(V, i, a) * gsl_matrix_get(V, i, b);
      d = fmax(d, fabs(s - (a == b)));
    }
  return d;
}

/* ‖A v − θ v‖₂ by gsl_blas_dgemv and a plain loop. */
static double residual(const gsl_matrix *A, const gsl_matrix *V, size_t i,
                       double th) {
  const size_t n = A->size1;
  gsl_vector *v = gsl_vector_alloc(n), *y = gsl_vector_alloc(n);
  gsl_matrix_get_col(v, V, i);
  gsl_blas_dgemv(CblasNoTrans, 1.0, A, v, 0.0, y);
  double s = 0;
  for (size_t r = 0; r < n; r++) {
    double d = gsl_vector_get(y, r) - th * gsl_vector_get(v, r);
    s += d * d;
  }
  gsl_vector_free(v);
  gsl_vector_free(y);
  return sqrt(s);
}

static int cmp_abs_desc(const void *a, const void *b) {
  double x = fabs(*(const double *)a), y = fabs(*(const double *)b);
  return (x < y) - (x > y);
}

/* The eigenvalues ev (ascending) in the order of `which`. */
static double *expected_order(const double *ev, size_t n, ir_eig_which w) {
  double *e = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    e[i] = w == IR_EIG_SMALLEST ? ev[i] : ev[n - 1 - i];
  if (w == IR_EIG_MAGNITUDE)
    qsort(e, n, sizeof(double), cmp_abs_desc);
  return e;
}

/* Every property a Lanczos result promises, for a matrix with a simple
 * spectrum at the wanted end:
 *  - k pairs, values in the order of `which`, each within
 *    tol·anorm (Bauer–Fike with the certified residual) + THRESH·n·eps·‖A‖
 *    (dsyevr's own error) of the matching dense eigenvalue;
 *  - residuals <= tol·anorm with the flags set, and equal to residuals
 *    recomputed here (both are ‖Av − θv‖ of the same v, so they differ by
 *    the rounding of the product: n·eps·‖A‖ at most);
 *  - orthonormal vectors, max|VᵀV − I| <= THRESH·n·eps;
 *  - anorm <= ‖A‖ (it is a largest |Ritz value|). */
static int expect_certified = 1; /* 0 in tests of runs with certify = 0 */
static void check_lanczos(const gsl_matrix *A, const ir_eig_result *r,
                          ir_eig_which which, double tol, size_t k) {
  const size_t n = A->size1;
  double *ev = dense_eigs(A);
  const double anrm = max_abs(ev, n);
  double *e = expected_order(ev, n, which);
  ck_assert_uint_eq(r->k, k);
  ck_assert_uint_eq(r->n, n);
  ck_assert(r->anorm <= anrm * (1 + THRESH * (double)n * EPS));
  for (size_t i = 0; i < k; i++) {
    IR_ASSERT_CLOSE(r->values[i], e[i], 0.0,
                    tol * r->anorm + THRESH * (double)n * EPS * anrm);
    ck_assert_msg(r->converged[i], "pair %zu not converged (res %.3g)", i,
                  r->residuals[i]);
    ck_assert(r->residuals[i] <= tol * r->anorm);
    IR_ASSERT_CLOSE(r->residuals[i], residual(A, r->vectors, i, r->values[i]),
                    0.0, (double)n * EPS * anrm);
  }
  ck_assert_msg(orth_defect(r->vectors) <= THRESH * (double)n * EPS,
                "orthogonality defect %.3g", orth_defect(r->vectors));
  ck_assert_msg(r->certified || (r->nrun == 1 && !expect_certified),
                "not certified (%zu runs, %zu matvecs)", r->nrun, r->nmatvec);
  free(e);
  free(ev);
}

static ir_lanczos_params lanczos_params(size_t k, ir_eig_which which,
                                        double tol) {
  ir_lanczos_params p;
  ir_lanczos_params_default(&p);
  p.k = k;
  p.which = which;
  p.tol = tol;
  return p;
}

/* Runs Lanczos on A and checks the result and the matvec accounting. */
static ir_eig_result *run_lanczos(const gsl_matrix *A,
                                  const ir_lanczos_params *p) {
  ir_linop op = ir_linop_dense(A);
  ir_eig_result *r = NULL;
  IR_ASSERT_OK(ir_lanczos_eigs(&op, p, &r));
  ck_assert_ptr_nonnull(r);
  ck_assert_uint_eq(r->nmatvec, op.nmatvec);
  return r;
}

/* An operator that records every vector it is applied to, so that the test
 * can recover each run's normalized Rademacher start. */
typedef struct {
  const gsl_matrix *A;
  double *log;
  size_t cap, cnt;
} rec_op;

static int rec_apply(void *ctx, const double *x, double *y) {
  rec_op *c = ctx;
  const size_t n = c->A->size1;
  if (c->cnt < c->cap)
    memcpy(c->log + c->cnt * n, x, n * sizeof(double));
  c->cnt++;
  gsl_vector_const_view xv = gsl_vector_const_view_array(x, n);
  gsl_vector_view yv = gsl_vector_view_array(y, n);
  gsl_blas_dgemv(CblasNoTrans, 1.0, c->A, &xv.vector, 0.0, &yv.vector);
  return IR_OK;
}

/* ---- Lanczos: spectra ---------------------------------------------------- */

/* Well separated, geometric decay: λ_i = 100·0.9^i. */
START_TEST(test_lanczos_top_separated) {
  const size_t n = 200;
  double lam[200];
  for (size_t i = 0; i < n; i++)
    lam[i] = 100 * pow(0.9, (double)i);
  gsl_matrix *A = with_spectrum(lam, n, 11);
  ir_lanczos_params p = lanczos_params(5, IR_EIG_LARGEST, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_LARGEST, p.tol, 5);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* Indefinite, ends of both signs well separated from a bulk in [−40, 40]:
 * smallest (most negative first) and largest magnitude. */
static gsl_matrix *indefinite(size_t n, unsigned long seed) {
  double *lam = malloc(n * sizeof(double));
  const double ends[8] = {100, -95, 90, -85, 80, -75, 70, -65};
  for (size_t i = 0; i < n; i++)
    lam[i] = i < 8 ? ends[i] : -40 + 80 * (double)(i - 8) / (double)(n - 9);
  gsl_matrix *A = with_spectrum(lam, n, seed);
  free(lam);
  return A;
}

START_TEST(test_lanczos_bottom_indefinite) {
  gsl_matrix *A = indefinite(250, 12);
  ir_lanczos_params p = lanczos_params(4, IR_EIG_SMALLEST, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_SMALLEST, p.tol, 4);
  ck_assert(r->values[0] < -90); /* the most negative comes first */
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

START_TEST(test_lanczos_magnitude_indefinite) {
  gsl_matrix *A = indefinite(250, 13);
  ir_lanczos_params p = lanczos_params(6, IR_EIG_MAGNITUDE, 1e-11);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_MAGNITUDE, p.tol, 6);
  for (size_t i = 1; i < 6; i++)
    ck_assert(fabs(r->values[i]) <= fabs(r->values[i - 1]));
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* Largest magnitude of a negative definite matrix: the most negative first
 * (the ends of the sorted Ritz values are both negative). */
START_TEST(test_lanczos_magnitude_negative) {
  const size_t n = 120;
  double lam[120];
  for (size_t i = 0; i < n; i++)
    lam[i] = -100 * pow(0.9, (double)i);
  gsl_matrix *A = with_spectrum(lam, n, 34);
  ir_lanczos_params p = lanczos_params(3, IR_EIG_MAGNITUDE, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_MAGNITUDE, p.tol, 3);
  ck_assert(r->values[0] < -99);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* A cluster at the top: 10, 9.99, 9.98 above a bulk in [−1, 5].  The
 * cluster members are 1e-3 apart relative to ‖A‖, far above tol. */
START_TEST(test_lanczos_clustered) {
  const size_t n = 300;
  double lam[300];
  for (size_t i = 0; i < n; i++)
    lam[i] = i < 3 ? 10 - 0.01 * (double)i
                   : -1 + 6 * (double)(i - 3) / (double)(n - 4);
  gsl_matrix *A = with_spectrum(lam, n, 14);
  ir_lanczos_params p = lanczos_params(3, IR_EIG_LARGEST, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_LARGEST, p.tol, 3);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* Rank 10 PSD: the top pairs as usual; the smallest eigenvalue is the
 * (n − 10)-fold zero, found once and to within tol·‖A‖. */
START_TEST(test_lanczos_rank_deficient) {
  const size_t n = 120;
  double lam[120] = {0};
  for (size_t i = 0; i < 10; i++)
    lam[i] = 1 + (double)i;
  gsl_matrix *A = with_spectrum(lam, n, 15);
  ir_lanczos_params p = lanczos_params(3, IR_EIG_LARGEST, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_LARGEST, p.tol, 3);
  ir_eig_result_free(r);
  p = lanczos_params(1, IR_EIG_SMALLEST, 1e-10);
  r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_SMALLEST, p.tol, 1);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* A triple top eigenvalue 5 (then 3, 2.9, ... and a bulk below 2).  One
 * Krylov space sees one direction of the triple eigenspace; the deflated
 * runs must find the other two: top 4 = 5, 5, 5, 3. */
START_TEST(test_lanczos_repeated) {
  const size_t n = 150;
  double lam[150];
  for (size_t i = 0; i < n; i++)
    lam[i] = i < 3   ? 5
             : i < 8 ? 3.0 - 0.1 * (double)(i - 3)
                     : 2.0 * (double)(n - i) / (double)(n - 8);
  gsl_matrix *A = with_spectrum(lam, n, 16);
  ir_lanczos_params p = lanczos_params(4, IR_EIG_LARGEST, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_LARGEST, p.tol, 4);
  ck_assert(r->nrun >= 3); /* two copies need two deflated runs at least */
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* Planted multiplicities at the wanted end, each against the dense
 * spectrum (check_lanczos: every value with multiplicity, residuals,
 * orthonormal vectors, the certificate).  mult[j] copies of the j-th value
 * from the top (or the bottom), then a simple bulk. */
static void planted(const size_t *mult, size_t nval, size_t n, size_t k,
                    ir_eig_which which, size_t max_basis, unsigned long seed) {
  double *lam = malloc(n * sizeof(double));
  size_t i = 0;
  for (size_t j = 0; j < nval; j++)
    for (size_t c = 0; c < mult[j] && i < n; c++)
      lam[i++] = 10.0 - (double)j; /* 10, 9, 8, ...: gaps of 1 */
  const size_t nplant = i;
  for (; i < n; i++) /* the bulk: simple values in (-3, 10 - nval) */
    lam[i] = 10.0 - (double)nval -
             (13.0 - (double)nval) * (double)(i - nplant + 1) /
                 (double)(n - nplant + 1);
  if (which == IR_EIG_SMALLEST)
    for (i = 0; i < n; i++)
      lam[i] = -lam[i];
  gsl_matrix *A = with_spectrum(lam, n, seed);
  ir_lanczos_params p = lanczos_params(k, which, 1e-10);
  p.max_basis = max_basis;
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, which, p.tol, k);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
  free(lam);
}

START_TEST(test_lanczos_multiplicity) {
  const size_t m1[3] = {1, 1, 1}, m2[3] = {2, 1, 2}, m10[2] = {10, 10};
  planted(m1, 3, 120, 3, IR_EIG_LARGEST, 0, 40);
  planted(m2, 3, 120, 5, IR_EIG_LARGEST, 0, 41);
  planted(m2, 3, 120, 4, IR_EIG_SMALLEST, 0, 42);
  planted(m10, 2, 150, 12, IR_EIG_LARGEST, 0, 43);
  /* The same with thick restarts (a basis of 30 for 12 pairs in n = 400). */
  planted(m10, 2, 400, 12, IR_EIG_LARGEST, 30, 44);
}
END_TEST

/* The Hessian of a linear network with K outputs and squared loss is
 * I_K ⊗ B: every eigenvalue of B K times.  top 12 with K = 5 must give each
 * of B's two largest values 5 times and the third twice. */
START_TEST(test_lanczos_kronecker) {
  const size_t nb = 40, K = 5, n = nb * K;
  double lam[40];
  for (size_t i = 0; i < nb; i++)
    lam[i] = 4.0 * pow(0.85, (double)i);
  gsl_matrix *B = with_spectrum(lam, nb, 45);
  gsl_matrix *A = gsl_matrix_calloc(n, n);
  for (size_t c = 0; c < K; c++) {
    gsl_matrix_view blk = gsl_matrix_submatrix(A, c * nb, c * nb, nb, nb);
    gsl_matrix_memcpy(&blk.matrix, B);
  }
  /* With the whole space as basis (rounding may reveal some copies to
   * the first run) and with a basis of 40, as for n > 1000 (it cannot). */
  for (size_t basis = 0; basis <= 40; basis += 40) {
    ir_lanczos_params p = lanczos_params(12, IR_EIG_LARGEST, 1e-10);
    p.max_basis = basis;
    ir_eig_result *r = run_lanczos(A, &p);
    check_lanczos(A, r, IR_EIG_LARGEST, p.tol, 12);
    for (size_t i = 0; i < 12; i++)
      IR_ASSERT_CLOSE(r->values[i], lam[i / K], 0, 1e-9 * 4.0);
    ir_eig_result_free(r);
  }
  gsl_matrix_free(A);
  gsl_matrix_free(B);
}
END_TEST

/* A PSD matrix with a null space of dimension 30 (multinomial logistic
 * regression's Hessian has one of dimension >= D + 1): bottom 4 are four
 * zeros, each within its residual, and magnitude ordering at the other
 * end is unaffected. */
START_TEST(test_lanczos_null_space) {
  const size_t n = 200, nnull = 30;
  double lam[200];
  for (size_t i = 0; i < n; i++)
    lam[i] = i < nnull ? 0.0 : 0.5 + (double)(i - nnull) / 10.0;
  gsl_matrix *A = with_spectrum(lam, n, 46);
  ir_lanczos_params p = lanczos_params(4, IR_EIG_SMALLEST, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_SMALLEST, p.tol, 4);
  for (size_t i = 0; i < 4; i++)
    ck_assert_msg(fabs(r->values[i]) <= r->residuals[i] + 1e-10 * r->anorm,
                  "value %zu = %.3g is no zero", i, r->values[i]);
  ir_eig_result_free(r);
  /* All 30 zeros and the first positive value: 31 pairs. */
  p = lanczos_params(31, IR_EIG_SMALLEST, 1e-10);
  r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_SMALLEST, p.tol, 31);
  IR_ASSERT_CLOSE(r->values[30], 0.5, 0, 1e-9 * r->anorm);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* A cluster: 5, 5 − 1e-7, 5 − 2e-7, 5 − 3e-7 and a gap.  The values are
 * distinct but closer than a Krylov space resolves quickly; all four must
 * come out, each once. */
START_TEST(test_lanczos_cluster) {
  const size_t n = 160;
  double lam[160];
  for (size_t i = 0; i < n; i++)
    lam[i] = i < 4 ? 5.0 - 1e-7 * (double)i
                   : 4.0 * (double)(n - i) / (double)(n - 4);
  gsl_matrix *A = with_spectrum(lam, n, 47);
  ir_lanczos_params p = lanczos_params(5, IR_EIG_LARGEST, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  check_lanczos(A, r, IR_EIG_LARGEST, p.tol, 5);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* ---- Lanczos: restarts, warm start, edge cases --------------------------- */

/* n = 400 with a basis of 12 vectors for k = 4: the thick restart must run
 * many times and the pairs still converge to the dense ones. */
START_TEST(test_lanczos_thick_restart) {
  const size_t n = 400;
  double lam[400];
  const double top[4] = {50, 40, 35, 31};
  for (size_t i = 0; i < n; i++)
    lam[i] = i < 4 ? top[i] : 25.0 * (double)(n - i) / (double)(n - 4);
  gsl_matrix *A = with_spectrum(lam, n, 17);
  ir_lanczos_params p = lanczos_params(4, IR_EIG_LARGEST, 1e-10);
  p.max_basis = 12;
  ir_eig_result *r = run_lanczos(A, &p);
  ck_assert_msg(r->nrestart >= 3, "only %zu restarts", r->nrestart);
  check_lanczos(A, r, IR_EIG_LARGEST, p.tol, 4);
  ir_eig_result_free(r);
  /* The same with the most negative end of an indefinite matrix. */
  gsl_matrix_free(A);
  A = indefinite(n, 18);
  p = lanczos_params(3, IR_EIG_SMALLEST, 1e-10);
  p.max_basis = 10;
  r = run_lanczos(A, &p);
  ck_assert(r->nrestart >= 1);
  check_lanczos(A, r, IR_EIG_SMALLEST, p.tol, 3);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* Warm start at an eigenvector: from dsyevr's top eigenvector of a dense
 * matrix (exact to rounding) and from e₁ of a diagonal one (exact).  The
 * first converges at the first test (at most IR_LANCZOS_CHECK_EVERY = 8
 * steps plus one residual check), the second breaks down after one step:
 * one step + one residual = 2 matvecs.  A cold start needs more. */
START_TEST(test_lanczos_warm_start) {
  const size_t n = 200;
  double lam[200];
  for (size_t i = 0; i < n; i++)
    lam[i] = 10.0 - 9.0 * (double)i / (double)n;
  gsl_matrix *A = with_spectrum(lam, n, 19);
  ir_eigen_symm *w = ir_eigen_symm_alloc(n);
  IR_ASSERT_OK(ir_eigen_symm_decomp(w, A));
  double *v0 = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) /* top eigenvector, scaled: v0 need not be
                                    normalized */
    v0[i] = 3.0 * gsl_matrix_get(w->evec, i, n - 1);
  ir_lanczos_params p = lanczos_params(1, IR_EIG_LARGEST, 1e-10);
  p.certify = 0; /* the cost of the run itself, without the extra run */
  expect_certified = 0;
  ir_eig_result *cold = run_lanczos(A, &p);
  p.v0 = v0;
  ir_eig_result *warm = run_lanczos(A, &p);
  check_lanczos(A, warm, IR_EIG_LARGEST, p.tol, 1);
  ck_assert_msg(warm->nmatvec <= 9, "warm start took %zu matvecs",
                warm->nmatvec);
  ck_assert_msg(cold->nmatvec > warm->nmatvec, "cold %zu, warm %zu",
                cold->nmatvec, warm->nmatvec);
  ir_eig_result_free(warm);
  /* Perturbed by 1e-9 (a previous step's eigenvector): no breakdown, but
   * the convergence test does not wait for the default basis of 40 vectors
   * to fill (here it passes at the first test, after 8 steps). */
  for (size_t i = 0; i < n; i++)
    v0[i] += 1e-9 * sin((double)i);
  warm = run_lanczos(A, &p);
  check_lanczos(A, warm, IR_EIG_LARGEST, p.tol, 1);
  ck_assert_msg(warm->nmatvec < 40 && warm->nmatvec < cold->nmatvec,
                "perturbed warm start took %zu matvecs (cold %zu)",
                warm->nmatvec, cold->nmatvec);
  ir_eig_result_free(cold);
  ir_eig_result_free(warm);

  gsl_matrix *D = gsl_matrix_calloc(n, n);
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(D, i, i, lam[i]);
  memset(v0, 0, n * sizeof(double));
  v0[0] = -1;
  warm = run_lanczos(D, &p);
  ck_assert_uint_eq(warm->nmatvec, 2);
  ck_assert(warm->values[0] == 10.0 && warm->residuals[0] == 0);
  ir_eig_result_free(warm);
  gsl_matrix_free(D);
  free(v0);
  ir_eigen_symm_free(w);
  gsl_matrix_free(A);
}
END_TEST

/* n = 1: one step exhausts the space.  The start v = x/|x| is ±1 only to
 * an ulp, hence the few-eps slack. */
START_TEST(test_lanczos_n1) {
  gsl_matrix *A = gsl_matrix_alloc(1, 1);
  gsl_matrix_set(A, 0, 0, -3.5);
  for (int wh = 0; wh < 3; wh++) {
    ir_lanczos_params p = lanczos_params(1, (ir_eig_which)wh, 1e-12);
    ir_eig_result *r = run_lanczos(A, &p);
    ck_assert_uint_eq(r->k, 1);
    IR_ASSERT_CLOSE(r->values[0], -3.5, 4 * EPS, 0);
    IR_ASSERT_CLOSE(fabs(gsl_matrix_get(r->vectors, 0, 0)), 1.0, 4 * EPS, 0);
    ck_assert(r->residuals[0] <= 8 * EPS * 3.5 && r->converged[0]);
    ck_assert_uint_eq(r->nmatvec, 2);
    ir_eig_result_free(r);
  }
  gsl_matrix_free(A);
}
END_TEST

/* k = n: the basis is the whole space; every pair comes out. */
START_TEST(test_lanczos_k_equals_n) {
  const size_t n = 7;
  const double lam[7] = {-3, -1, 0.5, 2, 4, 4.5, 9};
  gsl_matrix *A = with_spectrum(lam, n, 20);
  for (int wh = 0; wh < 3; wh++) {
    ir_lanczos_params p = lanczos_params(n, (ir_eig_which)wh, 1e-12);
    ir_eig_result *r = run_lanczos(A, &p);
    check_lanczos(A, r, (ir_eig_which)wh, p.tol, n);
    ir_eig_result_free(r);
  }
  gsl_matrix_free(A);
}
END_TEST

/* The zero operator: the Krylov space of any start is one-dimensional, so
 * each run gives one exact pair (0, v); three runs give the three wanted
 * zeros, and a fourth certifies that nothing is larger in magnitude. */
START_TEST(test_lanczos_zero) {
  gsl_matrix *A = gsl_matrix_calloc(10, 10);
  ir_lanczos_params p = lanczos_params(3, IR_EIG_MAGNITUDE, 1e-10);
  ir_eig_result *r = run_lanczos(A, &p);
  ck_assert_uint_eq(r->k, 3);
  for (size_t i = 0; i < 3; i++)
    ck_assert(r->values[i] == 0 && r->residuals[i] == 0 && r->converged[i]);
  ck_assert(r->anorm == 0 && r->certified);
  ck_assert(orth_defect(r->vectors) <= 10 * EPS);
  ck_assert_uint_eq(r->nrun, 4);
  ck_assert_uint_eq(r->nmatvec, 8); /* one step + one residual per run */
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* Only 3 distinct eigenvalues (1, 2, 3, each 10 times, on the diagonal, so
 * exactly): the Krylov space of any start has dimension 3.  The first run
 * gives 3, 2, 1; the deflated ones the copies of 3: top 5 = five 3s. */
START_TEST(test_lanczos_invariant_subspace) {
  const size_t n = 30;
  gsl_matrix *A = gsl_matrix_calloc(n, n);
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(A, i, i, 1.0 + (double)(i % 3));
  ir_lanczos_params p = lanczos_params(5, IR_EIG_LARGEST, 1e-12);
  ir_eig_result *r = run_lanczos(A, &p);
  ck_assert_uint_eq(r->k, 5);
  for (size_t i = 0; i < 5; i++) {
    IR_ASSERT_CLOSE(r->values[i], 3.0, 0, THRESH * n * EPS * 3);
    ck_assert(r->converged[i]);
    ck_assert(r->residuals[i] <= THRESH * n * EPS * 3);
  }
  ck_assert(r->certified);
  ck_assert(orth_defect(r->vectors) <= THRESH * n * EPS);
  /* Without the certificate: the single run, 3 steps + 3 residuals. */
  ir_eig_result_free(r);
  p.certify = 0;
  r = run_lanczos(A, &p);
  ck_assert_uint_eq(r->k, 3);
  ck_assert(!r->certified);
  ck_assert_uint_eq(r->nmatvec, 3 + 3);
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* A budget too small to converge: pairs come back with flags 0, IR_OK,
 * and the budget (residual checks included) is respected. */
START_TEST(test_lanczos_budget) {
  gsl_matrix *A = indefinite(200, 21);
  ir_lanczos_params p = lanczos_params(2, IR_EIG_LARGEST, 1e-14);
  p.max_basis = 6;
  p.max_matvec = 12;
  ir_eig_result *r = run_lanczos(A, &p);
  ck_assert_uint_eq(r->k, 2);
  ck_assert(r->nmatvec <= 12);
  for (size_t i = 0; i < 2; i++) {
    ck_assert(!r->converged[i]);
    IR_ASSERT_CLOSE(r->residuals[i], residual(A, r->vectors, i, r->values[i]),
                    0.0, 200 * EPS * 100);
  }
  ir_eig_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* diag(1, 2, ..., 50) that fails once its budget of calls (ctx) is spent. */
/* A x plus a fresh Gaussian perturbation of size 1e-7·‖A‖·‖x‖ at every
 * call: a stochastic "Hessian".  The projected matrix converges (its
 * estimates pass) while the explicit residuals stay ~1e-7·‖A‖ > tol·‖A‖,
 * so the solver must keep going to its budget and then report flags 0. */
typedef struct {
  const gsl_matrix *A;
  gsl_rng *r;
} noisy_op;

static int noisy_apply(void *ctx, const double *x, double *y) {
  noisy_op *c = ctx;
  const size_t n = c->A->size1;
  gsl_vector_const_view xv = gsl_vector_const_view_array(x, n);
  gsl_vector_view yv = gsl_vector_view_array(y, n);
  gsl_blas_dgemv(CblasNoTrans, 1.0, c->A, &xv.vector, 0.0, &yv.vector);
  const double s = 1e-7 * 100 * gsl_blas_dnrm2(&xv.vector) / sqrt((double)n);
  for (size_t i = 0; i < n; i++)
    y[i] += s * gsl_ran_gaussian(c->r, 1.0);
  return IR_OK;
}

START_TEST(test_lanczos_explicit_check_fails) {
  gsl_matrix *A = indefinite(100, 36);
  noisy_op c = {A, gsl_rng_alloc(gsl_rng_mt19937)};
  ir_linop op = {100, noisy_apply, &c, 0, NULL, NULL, 0};
  ir_lanczos_params p = lanczos_params(2, IR_EIG_LARGEST, 1e-10);
  p.max_matvec = 300;
  /* A basis smaller than n, so that restarts keep the run going (with the
   * default full basis for n <= 1000 the Krylov space is exhausted after n
   * steps and the solver stops there, flags 0, as it should). */
  p.max_basis = 20;
  ir_eig_result *r = NULL;
  IR_ASSERT_OK(ir_lanczos_eigs(&op, &p, &r));
  ck_assert_uint_eq(r->k, 2);
  ck_assert(r->nmatvec <= 300 && r->nmatvec == op.nmatvec);
  ck_assert_msg(r->nmatvec > 300 - 2 * 2 - 1, "stopped at %zu", r->nmatvec);
  for (size_t i = 0; i < 2; i++) {
    ck_assert(!r->converged[i]);
    ck_assert(r->residuals[i] > p.tol * r->anorm);
    ck_assert(r->residuals[i] < 1e-5 * 100); /* the pairs are still good */
  }
  IR_ASSERT_CLOSE(r->values[0], 100, 0, 1e-5 * 100);
  ir_eig_result_free(r);
  gsl_rng_free(c.r);
  gsl_matrix_free(A);
}
END_TEST

static int fail_after_ctx_apply(void *ctx, const double *x, double *y) {
  size_t *left = ctx;
  if (*left == 0)
    return ir_error(IR_EBADDATA, "test operator fails on purpose");
  (*left)--;
  for (size_t i = 0; i < 50; i++)
    y[i] = (double)(i + 1) * x[i];
  return IR_OK;
}

/* An operator failure is passed on (and frees everything: valgrind). */
START_TEST(test_operator_failure) {
  size_t left = 5;
  ir_linop op = {50, fail_after_ctx_apply, &left, 0, NULL, NULL, 0};
  ir_lanczos_params p = lanczos_params(2, IR_EIG_LARGEST, 1e-10);
  ir_eig_result dummy, *r = &dummy; /* must be reset to NULL */
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EBADDATA);
  ck_assert_ptr_null(r);
  left = 3;
  ir_slq_result *q = NULL;
  ck_assert_int_eq(ir_slq(&op, 2, 10, 1, 1, &q), IR_EBADDATA);
  ck_assert_ptr_null(q);
  left = 3;
  ir_trace_result t;
  ck_assert_int_eq(ir_trace_hutchpp(&op, 30, 1, 1, &t), IR_EBADDATA);
  left = 3;
  ck_assert_int_eq(ir_trace_hutchinson(&op, 10, 1, 1, &t), IR_EBADDATA);
  left = 3;
  ir_power_result pr;
  ck_assert_int_eq(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-12, 50, 1, 1, NULL, &pr),
      IR_EBADDATA);
  left = 3;
  gsl_matrix *H = gsl_matrix_alloc(50, 50);
  double vals[50];
  ck_assert_int_eq(ir_linop_dense_matrix(&op, 0, H, NULL), IR_EBADDATA);
  left = 3;
  ck_assert_int_eq(ir_dense_spectrum(&op, 0, vals, NULL, NULL), IR_EBADDATA);
  gsl_matrix_free(H);
}
END_TEST

START_TEST(test_lanczos_bad_params) {
  gsl_matrix *A = indefinite(20, 22);
  ir_linop op = ir_linop_dense(A);
  ir_eig_result *r = NULL;
  double zero[20] = {0};
  ir_lanczos_params p = lanczos_params(0, IR_EIG_LARGEST, 1e-10);
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL); /* k = 0 */
  p.k = 21;
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL); /* k > n */
  ck_assert(strstr(ir_error_message(), "k = 21") != NULL);
  p.k = 2;
  p.tol = 0;
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  p.tol = -1e-3;
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  p.tol = NAN;
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  p.tol = 1e-10;
  p.v0 = zero;
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  ck_assert(strstr(ir_error_message(), "v0") != NULL);
  p.v0 = NULL;
  p.which = (ir_eig_which)7;
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  p.which = IR_EIG_LARGEST;
  p.max_basis = 2; /* < k + 1 with n = 20 */
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  p.max_basis = 0;
  p.max_matvec = 3; /* < 2k */
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  p.max_matvec = 0;
  p.seed = 0;
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, &r), IR_EINVAL);
  p.seed = 1;
  ck_assert_int_eq(ir_lanczos_eigs(&op, NULL, &r), IR_EINVAL);
  ck_assert_int_eq(ir_lanczos_eigs(NULL, &p, &r), IR_EINVAL);
  ck_assert_int_eq(ir_lanczos_eigs(&op, &p, NULL), IR_EINVAL);
  ck_assert_ptr_null(r);
  ck_assert_uint_eq(op.nmatvec, 0); /* nothing was applied */
  /* A non-square dense matrix is an operator of dimension 0. */
  gsl_matrix *B = gsl_matrix_calloc(3, 4);
  ir_linop ob = ir_linop_dense(B);
  ck_assert_uint_eq(ob.n, 0);
  ck_assert_int_eq(ir_lanczos_eigs(&ob, &p, &r), IR_EINVAL);
  gsl_matrix_free(B);
  ir_eig_result_free(NULL);
  gsl_matrix_free(A);
}
END_TEST

/* ---- Power iteration: docs/theory.md §8 --------------------------------------- */

/* n = 1000, λ₁ = 100 above λ_i = 95·exp(−(i−2)/20), i >= 2: a 5% gap and a
 * slowly decaying spectrum right below it.  PyHessian's rule (relative change
 * of the Rayleigh quotient < 1e-3) fires while the quotient still creeps up
 * by ~1e-3 per step, far from 100.  The residual rule stops at
 * ‖Av − ρv‖ <= 1e-4·|ρ|, and then Kato–Temple bounds the error:
 * 0 <= λ₁ − ρ <= r²/(ρ − λ₂) (for ρ > λ₂).  Lanczos at tol 1e-10 is exact
 * to the rounding of A itself: forming P D P perturbs its eigenvalues by
 * about √n·eps·‖A‖ ≈ 1e-14·‖A‖; we allow 1e-12·‖A‖. */
START_TEST(test_power_trap) {
  const size_t n = 1000;
  double *lam = malloc(n * sizeof(double));
  lam[0] = 100;
  for (size_t i = 1; i < n; i++)
    lam[i] = 95 * exp(-(double)(i - 1) / 20.0);
  gsl_matrix *A = householder_spectrum(lam, n, 23);
  ir_linop op = ir_linop_dense(A);
  const uint64_t st = ir_rng_stream(IR_STREAM_PROBE, 1, 0);

  ir_power_result py, rr;
  IR_ASSERT_OK(
      ir_power_iteration(&op, IR_POWER_PYHESSIAN, 1e-3, 100, 1, st, NULL, &py));
  ck_assert(py.converged && py.iters < 100);
  ck_assert_uint_eq(py.nmatvec, py.iters);
  const double err_py = fabs(py.value - 100) / 100;
  ck_assert_msg(err_py > 1e-4, "PyHessian rule: error %.3g", err_py);

  double *v = malloc(n * sizeof(double));
  IR_ASSERT_OK(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-4, 5000, 1, st, v, &rr));
  ck_assert(rr.converged);
  ck_assert(rr.residual <= 1e-4 * fabs(rr.value));
  ck_assert_uint_eq(rr.nmatvec, rr.iters);
  const double err_rr = fabs(rr.value - 100) / 100;
  ck_assert(rr.value > lam[1]);
  ck_assert(100 - rr.value <=
            rr.residual * rr.residual / (rr.value - lam[1]) + 1e-12 * 100);
  /* The reported residual is the one of the returned vector. */
  gsl_matrix_view V = gsl_matrix_view_array(v, n, 1);
  IR_ASSERT_CLOSE(rr.residual, residual(A, &V.matrix, 0, rr.value), 1e-6,
                  (double)n * EPS * 100);

  ir_lanczos_params p = lanczos_params(1, IR_EIG_LARGEST, 1e-10);
  ir_eig_result *lz = run_lanczos(A, &p);
  ck_assert(lz->converged[0]);
  const double err_lz = fabs(lz->values[0] - 100) / 100;
  ck_assert_msg(err_lz <= 1e-12, "Lanczos error %.3g", err_lz);
  ck_assert_msg(err_py >= 100 * err_rr && err_py >= 100 * err_lz,
                "errors: PyHessian %.3g, residual %.3g, Lanczos %.3g", err_py,
                err_rr, err_lz);
  fprintf(stderr,
          "power trap: PyHessian rule %zu its -> %.6f (rel err %.2e, "
          "residual %.3g); residual rule %zu its -> %.10f (rel err %.2e, "
          "residual %.3g); Lanczos %zu matvecs -> %.15f (rel err %.2e)\n",
          py.iters, py.value, err_py, py.residual, rr.iters, rr.value, err_rr,
          rr.residual, lz->nmatvec, lz->values[0], err_lz);
  ir_eig_result_free(lz);
  free(v);
  free(lam);
  gsl_matrix_free(A);
}
END_TEST

START_TEST(test_power_edge) {
  /* Diagonal with a clear top: the residual rule converges to it; a zero
   * operator gives an exact eigenvector at once. */
  gsl_matrix *A = gsl_matrix_calloc(5, 5);
  ir_linop op = ir_linop_dense(A);
  ir_power_result r;
  IR_ASSERT_OK(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-8, 10, 1, 2, NULL, &r));
  ck_assert(r.converged && r.iters == 1 && r.value == 0 && r.residual == 0);
  for (size_t i = 0; i < 5; i++)
    gsl_matrix_set(A, i, i, (double)i - 4.5); /* top |λ| = −4.5 */
  double v[5];
  IR_ASSERT_OK(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-10, 2000, 1, 2, v, &r));
  ck_assert(r.converged);
  IR_ASSERT_CLOSE(r.value, -4.5, 0, 1e-10 * 4.5);
  IR_ASSERT_CLOSE(fabs(v[0]), 1.0, 1e-9, 0);
  /* max_iter reached: not converged, iters = max_iter. */
  IR_ASSERT_OK(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-15, 3, 1, 2, v, &r));
  ck_assert(!r.converged && r.iters == 3 && r.nmatvec == 3);
  /* bad parameters */
  ck_assert_int_eq(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 0, 3, 1, 2, v, &r), IR_EINVAL);
  ck_assert_int_eq(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-3, 0, 1, 2, v, &r),
      IR_EINVAL);
  ck_assert_int_eq(
      ir_power_iteration(&op, (ir_power_rule)5, 1e-3, 3, 1, 2, v, &r),
      IR_EINVAL);
  ck_assert_int_eq(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-3, 3, 0, 2, v, &r),
      IR_EINVAL);
  ck_assert_int_eq(
      ir_power_iteration(&op, IR_POWER_RESIDUAL, 1e-3, 3, 1, 2, v, NULL),
      IR_EINVAL);
  gsl_matrix_free(A);
}
END_TEST

/* ---- Trace --------------------------------------------------------------- */

/* docs/theory.md §8: H = [[2,1,0],[1,3,1],[0,1,4]].  A Rademacher sample is
 * zᵀHz = 9 + 2(z₁z₂ + z₂z₃) with z₁z₂, z₂z₃ independent signs, so it takes
 * 9 − 4, 9, 9 + 4 with probabilities ¼, ½, ¼: mean 9, variance
 * 8 = 2(‖H‖_F² − ΣH_ii²) = 2(33 − 29), fourth central moment 128.  The
 * sample variance s² = N·se² of N samples has standard error
 * √((μ₄ − σ⁴)/N) = √(64/N) to leading order. */
START_TEST(test_hutchinson_variance) {
  double h[9] = {2, 1, 0, 1, 3, 1, 0, 1, 4};
  gsl_matrix_view H = gsl_matrix_view_array(h, 3, 3);
  ir_linop op = ir_linop_dense(&H.matrix);
  const size_t N = 4000;
  ir_trace_result r;
  IR_ASSERT_OK(ir_trace_hutchinson(&op, N, 3, 7, &r));
  ck_assert_uint_eq(r.nprobe, N);
  ck_assert_uint_eq(r.nmatvec, N);
  ck_assert_uint_eq(op.nmatvec, N);
  const double var = r.se * r.se * (double)N;
  IR_ASSERT_CLOSE(var, 8.0, 0, 5 * sqrt(64.0 / (double)N));
  IR_ASSERT_CLOSE(r.trace, 9.0, 0, 5 * r.se);
}
END_TEST

/* The estimate and its se from the recorded probes: each probe is a ±1
 * vector, trace = mean of zᵀAz, se = sample std (n − 1) / √nprobe.  Both
 * sides are sums of the same products: agreement to THRESH·n·eps·‖A‖_F·n.
 */
START_TEST(test_hutchinson_formula) {
  const size_t n = 20, np = 5;
  gsl_matrix *A = indefinite(n, 35);
  rec_op rec = {A, malloc(np * n * sizeof(double)), np, 0};
  ir_linop op = {n, rec_apply, &rec, 0, NULL, NULL, 0};
  ir_trace_result r;
  IR_ASSERT_OK(ir_trace_hutchinson(&op, np, 2, 2, &r));
  double x[5], mean = 0, ss = 0;
  gsl_vector *y = gsl_vector_alloc(n);
  for (size_t i = 0; i < np; i++) {
    gsl_vector_view z = gsl_vector_view_array(rec.log + i * n, n);
    for (size_t j = 0; j < n; j++)
      ck_assert(fabs(z.vector.data[j]) == 1.0);
    gsl_blas_dgemv(CblasNoTrans, 1.0, A, &z.vector, 0.0, y);
    gsl_blas_ddot(&z.vector, y, &x[i]);
    mean += x[i] / (double)np;
  }
  for (size_t i = 0; i < np; i++)
    ss += (x[i] - mean) * (x[i] - mean);
  const double tol = THRESH * (double)(n * n) * EPS * 100;
  IR_ASSERT_CLOSE(r.trace, mean, 0, tol);
  IR_ASSERT_CLOSE(r.se, sqrt(ss / (double)(np - 1) / (double)np), 1e-12, tol);
  /* SLQ: trace_se is the se of n·Σ_k τ_k θ_k over runs; the density se the
   * se of the per-run densities. */
  ir_slq_result *q = NULL;
  IR_ASSERT_OK(ir_slq(&op, 4, 6, 3, 3, &q));
  double t[4], tm = 0, ts = 0, g = 1.5, d[4], dm = 0, ds = 0, dens, dse;
  for (size_t run = 0; run < 4; run++) {
    t[run] = d[run] = 0;
    for (size_t k = 0; k < q->nnodes[run]; k++) {
      double th = q->nodes[run * 6 + k], tau = q->weights[run * 6 + k];
      t[run] += (double)n * tau * th;
      d[run] += tau * exp(-(g - th) * (g - th) / 2) / sqrt(2 * M_PI);
    }
    tm += t[run] / 4;
    dm += d[run] / 4;
  }
  for (size_t run = 0; run < 4; run++) {
    ts += (t[run] - tm) * (t[run] - tm);
    ds += (d[run] - dm) * (d[run] - dm);
  }
  IR_ASSERT_CLOSE(q->trace_est, tm, 1e-13, 0);
  IR_ASSERT_CLOSE(q->trace_se, sqrt(ts / 3 / 4), 1e-12, 0);
  IR_ASSERT_OK(ir_slq_density(q, 1.0, &g, 1, &dens, &dse));
  IR_ASSERT_CLOSE(dens, dm, 1e-13, 0);
  IR_ASSERT_CLOSE(dse, sqrt(ds / 3 / 4), 1e-12, 0);
  ir_slq_result_free(q);
  gsl_vector_free(y);
  free(rec.log);
  gsl_matrix_free(A);
}
END_TEST

/* A diagonal D: every Rademacher sample is Σ D_ii (z_i² = 1), so the
 * estimate is exact and its standard error exactly 0. */
START_TEST(test_hutchinson_diagonal) {
  const size_t n = 37;
  gsl_matrix *D = gsl_matrix_calloc(n, n);
  double tr = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = sin((double)i) * 10;
    gsl_matrix_set(D, i, i, d);
    tr += d;
    s += fabs(d);
  }
  ir_linop op = ir_linop_dense(D);
  ir_trace_result r;
  IR_ASSERT_OK(ir_trace_hutchinson(&op, 25, 1, 1, &r));
  ck_assert(r.se == 0);
  IR_ASSERT_CLOSE(r.trace, tr, 0, (double)n * EPS * s);
  ck_assert_int_eq(ir_trace_hutchinson(&op, 1, 1, 1, &r), IR_EINVAL);
  ck_assert_int_eq(ir_trace_hutchinson(&op, 5, 0, 1, &r), IR_EINVAL);
  ck_assert_int_eq(ir_trace_hutchinson(&op, 5, 1, 1, NULL), IR_EINVAL);
  gsl_matrix_free(D);
}
END_TEST

/* Hutch++ is exact when the sketch captures the range: rank 6 with
 * s = ⌊30/3⌋ = 10 >= 6 columns.  The only error is rounding in tr(QᵀAQ)
 * and in the (zero) residual part: THRESH·n·eps·Σ|λ_i|. */
START_TEST(test_hutchpp_exact_low_rank) {
  const size_t n = 100;
  double lam[100] = {0}, tr = 0, s = 0;
  for (size_t i = 0; i < 6; i++) {
    lam[i] = (i % 2 ? -1.0 : 1.0) * (3.0 + (double)i);
    tr += lam[i];
    s += fabs(lam[i]);
  }
  gsl_matrix *A = with_spectrum(lam, n, 24);
  ir_linop op = ir_linop_dense(A);
  ir_trace_result r;
  IR_ASSERT_OK(ir_trace_hutchpp(&op, 30, 5, 3, &r));
  ck_assert_uint_eq(r.nmatvec, 30);
  ck_assert_uint_eq(op.nmatvec, 30);
  ck_assert_uint_eq(r.nprobe, 10);
  IR_ASSERT_CLOSE(r.trace, tr, 0, THRESH * (double)n * EPS * s);
  ck_assert(r.se <= THRESH * (double)n * EPS * s);
  /* Budget of at least 3n: the sketch is the whole space, no probes. */
  gsl_matrix *B = indefinite(12, 25);
  double *ev = dense_eigs(B), trb = 0;
  for (size_t i = 0; i < 12; i++)
    trb += ev[i];
  ir_linop ob = ir_linop_dense(B);
  IR_ASSERT_OK(ir_trace_hutchpp(&ob, 40, 5, 3, &r));
  ck_assert_uint_eq(r.nprobe, 0);
  ck_assert_uint_eq(r.nmatvec, 24);
  ck_assert(r.se == 0);
  IR_ASSERT_CLOSE(r.trace, trb, 0, THRESH * 12 * EPS * 12 * 100);
  ck_assert_int_eq(ir_trace_hutchpp(&ob, 3, 5, 3, &r), IR_EINVAL);
  free(ev);
  gsl_matrix_free(B);
  gsl_matrix_free(A);
}
END_TEST

/* Decaying spectrum λ_i = 100·0.7^i, n = 200, budget 30: Hutchinson's
 * variance is 2(‖A‖_F² − ΣA_ii²)/30 ≈ 2·19600/30 (std ≈ 35), Hutch++'s
 * about 2·Σ_{i>=10}λ_i²/10 ≈ 3 (std ≈ 2), so over 20 seeds the mean squared
 * error of Hutch++ is ~100× smaller; we ask for 10×. */
START_TEST(test_hutchpp_beats_hutchinson) {
  const size_t n = 200;
  double lam[200], tr = 0;
  for (size_t i = 0; i < n; i++)
    tr += lam[i] = 100 * pow(0.7, (double)i);
  gsl_matrix *A = with_spectrum(lam, n, 26);
  ir_linop op = ir_linop_dense(A);
  double mse_h = 0, mse_pp = 0;
  for (unsigned long seed = 1; seed <= 20; seed++) {
    ir_trace_result h, pp;
    IR_ASSERT_OK(ir_trace_hutchinson(&op, 30, seed, 9, &h));
    IR_ASSERT_OK(ir_trace_hutchpp(&op, 30, seed, 9, &pp));
    mse_h += (h.trace - tr) * (h.trace - tr) / 20;
    mse_pp += (pp.trace - tr) * (pp.trace - tr) / 20;
  }
  ck_assert_msg(mse_pp * 10 < mse_h, "MSE Hutch++ %.3g, Hutchinson %.3g",
                mse_pp, mse_h);
  gsl_matrix_free(A);
}
END_TEST

/* ---- SLQ ----------------------------------------------------------------- */

/* Gauss quadrature with m nodes integrates polynomials of degree <= 2m − 1
 * exactly: Σ τ_k θ_k^j = e₁ᵀT^j e₁ = vᵀA^j v for the start v and j <= 3
 * (m >= 2).  The right side is formed here by repeated products.  Both sides
 * carry rounding of order n·eps·‖A‖^j.  Also: each start is a normalized
 * Rademacher vector, weights sum to 1 (an orthonormal dstev basis:
 * THRESH·m·eps), nodes lie in [λ_min, λ_max] (Cauchy interlacing, up to
 * THRESH·n·eps·‖A‖). */
static void check_slq_quadrature(size_t n, size_t nsteps, size_t nruns) {
  double *lam = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    lam[i] = -2 + 5 * pow((double)i / (double)(n - 1), 2);
  gsl_matrix *A = with_spectrum(lam, n, 27 + nsteps);
  double *ev = dense_eigs(A);
  const double anrm = max_abs(ev, n);
  rec_op rec = {A, malloc(nruns * nsteps * n * sizeof(double)), nruns * nsteps,
                0};
  ir_linop op = {n, rec_apply, &rec, 0, NULL, NULL, 0};
  ir_slq_result *r = NULL;
  IR_ASSERT_OK(ir_slq(&op, nruns, nsteps, 4, 4, &r));
  ck_assert_uint_eq(r->nruns, nruns);
  ck_assert_uint_eq(r->nsteps, nsteps);
  size_t start = 0, total = 0;
  gsl_vector *v = gsl_vector_alloc(n), *y = gsl_vector_alloc(n),
             *t = gsl_vector_alloc(n);
  for (size_t run = 0; run < nruns; run++) {
    const size_t m = r->nnodes[run];
    ck_assert_uint_eq(m, nsteps < n ? nsteps : n); /* no breakdown here */
    const double *nd = r->nodes + run * nsteps, *wt = r->weights + run * nsteps;
    double sw = 0;
    for (size_t k = 0; k < m; k++) {
      sw += wt[k];
      ck_assert(wt[k] >= 0);
      ck_assert(nd[k] >= ev[0] - THRESH * n * EPS * anrm &&
                nd[k] <= ev[n - 1] + THRESH * n * EPS * anrm);
      ck_assert(nd[k] >= r->lmin && nd[k] <= r->lmax);
    }
    IR_ASSERT_CLOSE(sw, 1.0, 0, THRESH * (double)m * EPS);
    for (size_t k = m; k < nsteps; k++)
      ck_assert(nd[k] == 0 && wt[k] == 0);
    /* v = the run's start, y = A^j v */
    memcpy(v->data, rec.log + start * n, n * sizeof(double));
    for (size_t i = 0; i < n; i++)
      ck_assert(fabs(v->data[i]) == 1.0 / sqrt((double)n));
    gsl_vector_memcpy(y, v);
    double pw = 1; /* ‖A‖^j */
    for (int j = 0; j <= 3; j++) {
      double lhs = 0, rhs;
      for (size_t k = 0; k < m; k++)
        lhs += wt[k] * pow(nd[k], j);
      gsl_blas_ddot(v, y, &rhs);
      IR_ASSERT_CLOSE(lhs, rhs, 0, THRESH * (double)n * EPS * pw);
      gsl_blas_dgemv(CblasNoTrans, 1.0, A, y, 0.0, t);
      gsl_vector_memcpy(y, t);
      pw *= anrm;
    }
    start += m;
    total += m;
  }
  ck_assert_uint_eq(r->nmatvec, total);
  ck_assert_uint_eq(op.nmatvec, total);
  gsl_vector_free(v);
  gsl_vector_free(y);
  gsl_vector_free(t);
  ir_slq_result_free(r);
  free(rec.log);
  free(ev);
  free(lam);
  gsl_matrix_free(A);
}

START_TEST(test_slq_quadrature_full) {
  check_slq_quadrature(40, 40, 2); /* nsteps = n */
}
END_TEST

START_TEST(test_slq_quadrature_short) {
  check_slq_quadrature(120, 6, 3); /* 6 nodes: exact up to degree 11 */
}
END_TEST

/* trace_est is Hutchinson with normalized probes: within 5 se of tr A. The
 * density integrates to Σ_k τ_k = 1 per run: the trapezoid rule with step
 * σ/2 is exact for a Gaussian to exp(−2π²·4) ≈ 1e-34 (its error is
 * spectrally small), so only the weight sums' rounding remains. */
START_TEST(test_slq_trace_density) {
  const size_t n = 150;
  double lam[150], tr = 0;
  for (size_t i = 0; i < n; i++)
    tr += lam[i] = 10 * sin(0.37 * (double)i) + 0.05 * (double)i;
  gsl_matrix *A = with_spectrum(lam, n, 28);
  ir_linop op = ir_linop_dense(A);
  ir_slq_result *r = NULL;
  IR_ASSERT_OK(
      ir_slq(&op, 30, 25, 2, ir_rng_stream(IR_STREAM_PROBE, 2, 0), &r));
  ck_assert(r->trace_se > 0);
  IR_ASSERT_CLOSE(r->trace_est, tr, 0, 5 * r->trace_se);
  const double sigmas[2] = {0.5, 0.0}; /* explicit, and the default */
  for (int t = 0; t < 2; t++) {
    double s2 = sigmas[t] > 0 ? sigmas[t] * sigmas[t]
                              : 1e-5 * fmax(1, r->lmax - r->lmin);
    double h = sqrt(s2) / 2, lo = r->lmin - 12 * sqrt(s2),
           hi = r->lmax + 12 * sqrt(s2);
    size_t ng = (size_t)ceil((hi - lo) / h) + 1;
    double *grid = malloc(ng * sizeof(double));
    double *dens = malloc(ng * sizeof(double));
    double *se = malloc(ng * sizeof(double));
    for (size_t j = 0; j < ng; j++)
      grid[j] = lo + h * (double)j;
    IR_ASSERT_OK(ir_slq_density(r, t ? 0.0 : s2, grid, ng, dens, se));
    double integral = 0;
    for (size_t j = 0; j < ng; j++) {
      integral += (j == 0 || j == ng - 1 ? 0.5 : 1.0) * h * dens[j];
      ck_assert(dens[j] >= 0 && se[j] >= 0);
    }
    IR_ASSERT_CLOSE(integral, 1.0, 0, 1e-10);
    /* Pointwise against the formula at a node of run 0. */
    const double t0 = r->nodes[3];
    double direct = 0, d1;
    for (size_t run = 0; run < r->nruns; run++)
      for (size_t k = 0; k < r->nnodes[run]; k++) {
        double d = t0 - r->nodes[run * r->nsteps + k];
        direct += r->weights[run * r->nsteps + k] * exp(-d * d / (2 * s2)) /
                  sqrt(2 * M_PI * s2) / (double)r->nruns;
      }
    IR_ASSERT_OK(ir_slq_density(r, t ? -1.0 : s2, &t0, 1, &d1, NULL));
    IR_ASSERT_CLOSE(d1, direct, 1e-12, 0);
    free(grid);
    free(dens);
    free(se);
  }
  ir_slq_result_free(r);
  gsl_matrix_free(A);
}
END_TEST

/* One run: se 0 (trace and density); 3 distinct eigenvalues: each run stops
 * after 3 steps (invariant Krylov space) with nodes 1, 2, 3. */
START_TEST(test_slq_edge) {
  const size_t n = 30;
  gsl_matrix *D = gsl_matrix_calloc(n, n);
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(D, i, i, 1.0 + (double)(i % 3));
  ir_linop op = ir_linop_dense(D);
  ir_slq_result *r = NULL;
  IR_ASSERT_OK(ir_slq(&op, 1, 10, 1, 1, &r));
  ck_assert(r->trace_se == 0);
  ck_assert_uint_eq(r->nnodes[0], 3);
  ck_assert_uint_eq(r->nmatvec, 3);
  for (size_t k = 0; k < 3; k++)
    IR_ASSERT_CLOSE(r->nodes[k], 1.0 + (double)k, 0, THRESH * n * EPS * 3);
  /* weights: each value holds a third of the Rademacher mass exactly */
  for (size_t k = 0; k < 3; k++)
    IR_ASSERT_CLOSE(r->weights[k], 1.0 / 3, 0, THRESH * n * EPS);
  IR_ASSERT_CLOSE(r->trace_est, 60.0, THRESH * n * EPS, 0);
  double g = 2.0, d, se = -1;
  IR_ASSERT_OK(ir_slq_density(r, 0.01, &g, 1, &d, &se));
  ck_assert(se == 0);
  IR_ASSERT_OK(ir_slq_density(r, 0.01, &g, 0, NULL, NULL));
  ck_assert_int_eq(ir_slq_density(r, NAN, &g, 1, &d, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_slq_density(NULL, 0.01, &g, 1, &d, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_slq_density(r, 0.01, NULL, 1, &d, NULL), IR_EINVAL);
  ir_slq_result_free(r);
  r = NULL;
  ck_assert_int_eq(ir_slq(&op, 0, 10, 1, 1, &r), IR_EINVAL);
  ck_assert_int_eq(ir_slq(&op, 3, 0, 1, 1, &r), IR_EINVAL);
  ck_assert_int_eq(ir_slq(&op, 3, 4, 0, 1, &r), IR_EINVAL);
  ck_assert_int_eq(ir_slq(&op, 3, 4, 1, 1, NULL), IR_EINVAL);
  ck_assert_ptr_null(r);
  ir_slq_result_free(NULL);
  /* n = 1: one node, the value, weight 1 */
  gsl_matrix_view one = gsl_matrix_view_array((double[]){2.5}, 1, 1);
  ir_linop o1 = ir_linop_dense(&one.matrix);
  IR_ASSERT_OK(ir_slq(&o1, 2, 5, 1, 1, &r));
  ck_assert(r->nnodes[0] == 1 && r->nodes[0] == 2.5 && r->weights[0] == 1.0);
  ck_assert(r->trace_est == 2.5 && r->trace_se == 0);
  ir_slq_result_free(r);
  gsl_matrix_free(D);
}
END_TEST

/* ---- Dense spectrum ------------------------------------------------------ */

START_TEST(test_dense_spectrum) {
  const size_t n = 60;
  gsl_matrix *A = indefinite(n, 29);
  double *ev = dense_eigs(A), vals[60], asym = -1;
  const double anrm = max_abs(ev, n);
  gsl_matrix *V = gsl_matrix_alloc(n, n);
  ir_linop op = ir_linop_dense(A);
  IR_ASSERT_OK(ir_dense_spectrum(&op, 1e-12, vals, V, &asym));
  ck_assert_uint_eq(op.nmatvec, n);
  ck_assert(asym == 0); /* A e_j is column j exactly; A is symmetric */
  for (size_t i = 0; i < n; i++) {
    IR_ASSERT_CLOSE(vals[i], ev[i], 0, THRESH * n * EPS * anrm);
    if (i > 0)
      ck_assert(vals[i] >= vals[i - 1]);
    ck_assert(residual(A, V, i, vals[i]) <= THRESH * n * EPS * anrm);
  }
  ck_assert(orth_defect(V) <= THRESH * n * EPS);
  IR_ASSERT_OK(ir_dense_spectrum(&op, 1e-12, vals, NULL, NULL));
  for (size_t i = 0; i < n; i++)
    IR_ASSERT_CLOSE(vals[i], ev[i], 0, THRESH * n * EPS * anrm);
  /* the materialized matrix is A itself */
  gsl_matrix *H = gsl_matrix_alloc(n, n);
  IR_ASSERT_OK(ir_linop_dense_matrix(&op, 0.0, H, NULL));
  ck_assert(ir_test_reldiff(H, A) == 0);
  gsl_matrix *W = gsl_matrix_alloc(n, n + 1);
  ck_assert_int_eq(ir_dense_spectrum(&op, 1e-12, vals, W, NULL), IR_ESHAPE);
  ck_assert_int_eq(ir_linop_dense_matrix(&op, 1e-12, W, NULL), IR_ESHAPE);
  ck_assert_int_eq(ir_linop_dense_matrix(&op, -1, H, NULL), IR_EINVAL);
  /* A window of a larger matrix (tda != n) is the same operator. */
  gsl_matrix *big = gsl_matrix_calloc(n + 3, n + 5);
  gsl_matrix_view win = gsl_matrix_submatrix(big, 2, 4, n, n);
  gsl_matrix_memcpy(&win.matrix, A);
  ir_linop ow = ir_linop_dense(&win.matrix);
  double vw[60];
  IR_ASSERT_OK(ir_dense_spectrum(&ow, 0.0, vw, NULL, NULL));
  for (size_t i = 0; i < n; i++)
    IR_ASSERT_CLOSE(vw[i], vals[i], 0, THRESH * n * EPS * anrm);
  gsl_matrix_free(big);
  gsl_matrix_free(W);
  gsl_matrix_free(H);
  gsl_matrix_free(V);
  free(ev);
  gsl_matrix_free(A);
}
END_TEST

/* A non-symmetric matrix is refused with its asymmetry reported; an
 * asymmetry at rounding level is accepted and symmetrized; a zero matrix has
 * asymmetry 0. */
START_TEST(test_dense_asymmetric) {
  const size_t n = 8;
  gsl_matrix *A = indefinite(n, 30);
  double amax = 0;
  for (size_t i = 0; i < n * n; i++)
    amax = fmax(amax, fabs(A->data[i]));
  gsl_matrix_set(A, 1, 5, gsl_matrix_get(A, 1, 5) + 0.01 * amax);
  amax = 0;
  for (size_t i = 0; i < n * n; i++)
    amax = fmax(amax, fabs(A->data[i]));
  const double want =
      fabs(gsl_matrix_get(A, 1, 5) - gsl_matrix_get(A, 5, 1)) / amax;
  ir_linop op = ir_linop_dense(A);
  gsl_matrix *H = gsl_matrix_alloc(n, n);
  double asym = 0, vals[8];
  ck_assert_int_eq(ir_linop_dense_matrix(&op, 1e-8, H, &asym), IR_EINTERNAL);
  IR_ASSERT_CLOSE(asym, want, 4 * EPS, 0);
  /* Refused before symmetrizing: H holds the operator, column j = A e_j. */
  ck_assert(ir_test_reldiff(H, A) == 0);
  ck_assert(strstr(ir_error_message(), "symmetric") != NULL);
  ck_assert_int_eq(ir_dense_spectrum(&op, 1e-8, vals, NULL, &asym),
                   IR_EINTERNAL);
  /* the same entry off by 2 ulps: accepted, symmetrized to the mean */
  gsl_matrix_set(A, 1, 5, gsl_matrix_get(A, 5, 1) * (1 + 4 * EPS));
  IR_ASSERT_OK(ir_linop_dense_matrix(&op, 1e-12, H, &asym));
  ck_assert(asym > 0 && asym < 1e-14);
  ck_assert(gsl_matrix_get(H, 1, 5) == gsl_matrix_get(H, 5, 1));
  ck_assert(gsl_matrix_get(H, 1, 5) ==
            0.5 * (gsl_matrix_get(A, 1, 5) + gsl_matrix_get(A, 5, 1)));
  IR_ASSERT_OK(ir_dense_spectrum(&op, 1e-12, vals, NULL, NULL));
  gsl_matrix_set_zero(A);
  IR_ASSERT_OK(ir_linop_dense_matrix(&op, 0.0, H, &asym));
  ck_assert(asym == 0);
  IR_ASSERT_OK(ir_dense_spectrum(&op, 0.0, vals, NULL, &asym));
  for (size_t i = 0; i < n; i++)
    ck_assert(vals[i] == 0);
  gsl_matrix_free(H);
  gsl_matrix_free(A);
}
END_TEST

/* ---- The Hessian of the linear model ------------------------------------- */

/* L = (1/2m)‖XW − Y‖², θ[j·K + k] = W_jk: the Hessian is (1/m)XᵀX ⊗ I_K,
 * i.e. H[(j,k), (j',k')] = G_jj'·δ_kk' with G = XᵀX/m.  Both sides are sums
 * of m products: THRESH·m·eps·max|G|-ish; we scale by max_j (XᵀX)_jj / m.
 * Lanczos' top eigenvalue is λ_max(G) (K-fold), to tol·‖A‖ + rounding. */
START_TEST(test_hessian_linear) {
  const size_t m = 40, p = 5;
  gsl_matrix *X = ir_test_gaussian(m, p, 31);
  gsl_matrix *G = gsl_matrix_alloc(p, p);
  IR_ASSERT_OK(ir_linalg_gram(X, 0, G));
  gsl_matrix_scale(G, 1.0 / (double)m);
  double gmax = 0;
  for (size_t j = 0; j < p; j++)
    gmax = fmax(gmax, gsl_matrix_get(G, j, j));
  double *gev = dense_eigs(G);
  for (size_t K = 1; K <= 2; K++) {
    gsl_matrix *Y = ir_test_gaussian(m, K, 32);
    ir_model *mod = ir_model_linear_alloc(X, Y);
    gsl_vector *theta = gsl_vector_alloc(p * K);
    for (size_t i = 0; i < p * K; i++)
      gsl_vector_set(theta, i, 0.1 * (double)i);
    ir_hessian_op h = {mod, theta, NULL, 0};
    ir_linop op = ir_linop_hessian(&h);
    ck_assert_uint_eq(op.n, p * K);
    gsl_matrix *H = gsl_matrix_alloc(p * K, p * K);
    IR_ASSERT_OK(ir_linop_dense_matrix(&op, 1e-12, H, NULL));
    for (size_t a = 0; a < p * K; a++)
      for (size_t b = 0; b < p * K; b++) {
        double want = a % K == b % K ? gsl_matrix_get(G, a / K, b / K) : 0.0;
        IR_ASSERT_CLOSE(gsl_matrix_get(H, a, b), want, 0,
                        THRESH * (double)m * EPS * gmax);
      }
    ir_lanczos_params lp = lanczos_params(1, IR_EIG_LARGEST, 1e-12);
    ir_eig_result *r = NULL;
    IR_ASSERT_OK(ir_lanczos_eigs(&op, &lp, &r));
    ck_assert(r->converged[0]);
    IR_ASSERT_CLOSE(r->values[0], gev[p - 1], 0,
                    lp.tol * r->anorm + THRESH * (double)m * EPS * gmax);
    ck_assert_uint_eq(r->nmatvec, op.nmatvec - p * K);
    ir_eig_result_free(r);
    /* A mini-batch Hessian is the Gram matrix of the batch rows. */
    size_t idx[3] = {4, 7, 7};
    ir_hessian_op hb = {mod, theta, idx, 3};
    ir_linop ob = ir_linop_hessian(&hb);
    IR_ASSERT_OK(ir_linop_dense_matrix(&ob, 1e-12, H, NULL));
    for (size_t a = 0; a < p * K; a++)
      for (size_t b = 0; b < p * K; b++) {
        double want = 0;
        if (a % K == b % K)
          for (size_t i = 0; i < 3; i++)
            want += gsl_matrix_get(X, idx[i], a / K) *
                    gsl_matrix_get(X, idx[i], b / K) / 3;
        IR_ASSERT_CLOSE(gsl_matrix_get(H, a, b), want, 0,
                        THRESH * 3 * EPS * 10 * gmax);
      }
    /* A Hessian without θ is refused, through the operator. */
    ir_hessian_op hn = {mod, NULL, NULL, 0};
    ir_linop on = ir_linop_hessian(&hn);
    ck_assert_int_eq(ir_linop_dense_matrix(&on, 1e-12, H, NULL), IR_EINVAL);
    gsl_matrix_free(H);
    gsl_vector_free(theta);
    ir_model_free(mod);
    gsl_matrix_free(Y);
  }
  free(gev);
  gsl_matrix_free(G);
  gsl_matrix_free(X);
}
END_TEST

/* ---- Determinism --------------------------------------------------------- */

/* The same seed gives bitwise identical results; another seed does not. */
START_TEST(test_determinism) {
  gsl_matrix *A = indefinite(150, 33);
  ir_linop op = ir_linop_dense(A);
  ir_lanczos_params p = lanczos_params(3, IR_EIG_MAGNITUDE, 1e-10);
  p.max_basis = 12;
  ir_eig_result *r1 = NULL, *r2 = NULL;
  IR_ASSERT_OK(ir_lanczos_eigs(&op, &p, &r1));
  IR_ASSERT_OK(ir_lanczos_eigs(&op, &p, &r2));
  ck_assert_uint_eq(op.nmatvec, r1->nmatvec + r2->nmatvec);
  ck_assert(r1->k == r2->k && r1->nmatvec == r2->nmatvec &&
            r1->nrestart == r2->nrestart);
  ck_assert(memcmp(r1->values, r2->values, r1->k * sizeof(double)) == 0);
  ck_assert(memcmp(r1->residuals, r2->residuals, r1->k * sizeof(double)) == 0);
  ck_assert(memcmp(r1->vectors->data, r2->vectors->data,
                   150 * r1->k * sizeof(double)) == 0);
  ir_eig_result_free(r2);
  p.seed = 2;
  IR_ASSERT_OK(ir_lanczos_eigs(&op, &p, &r2));
  ck_assert(memcmp(r1->vectors->data, r2->vectors->data,
                   150 * r1->k * sizeof(double)) != 0);
  ir_eig_result_free(r1);
  ir_eig_result_free(r2);

  ir_trace_result t1, t2;
  IR_ASSERT_OK(ir_trace_hutchinson(&op, 10, 5, 6, &t1));
  IR_ASSERT_OK(ir_trace_hutchinson(&op, 10, 5, 6, &t2));
  ck_assert(t1.trace == t2.trace && t1.se == t2.se && t1.nmatvec == t2.nmatvec);
  IR_ASSERT_OK(ir_trace_hutchinson(&op, 10, 5, 7, &t2));
  ck_assert(t1.trace != t2.trace);
  IR_ASSERT_OK(ir_trace_hutchpp(&op, 20, 5, 6, &t1));
  IR_ASSERT_OK(ir_trace_hutchpp(&op, 20, 5, 6, &t2));
  ck_assert(t1.trace == t2.trace && t1.se == t2.se && t1.nprobe == t2.nprobe);

  ir_power_result q1, q2;
  double v1[150], v2[150];
  IR_ASSERT_OK(
      ir_power_iteration(&op, IR_POWER_PYHESSIAN, 1e-3, 50, 3, 4, v1, &q1));
  IR_ASSERT_OK(
      ir_power_iteration(&op, IR_POWER_PYHESSIAN, 1e-3, 50, 3, 4, v2, &q2));
  ck_assert(q1.value == q2.value && q1.residual == q2.residual &&
            q1.iters == q2.iters && q1.nmatvec == q2.nmatvec);
  ck_assert(memcmp(v1, v2, sizeof v1) == 0);

  ir_slq_result *s1 = NULL, *s2 = NULL;
  size_t before = op.nmatvec;
  IR_ASSERT_OK(ir_slq(&op, 3, 12, 8, 9, &s1));
  IR_ASSERT_OK(ir_slq(&op, 3, 12, 8, 9, &s2));
  ck_assert_uint_eq(op.nmatvec - before, s1->nmatvec + s2->nmatvec);
  ck_assert(memcmp(s1->nodes, s2->nodes, 36 * sizeof(double)) == 0);
  ck_assert(memcmp(s1->weights, s2->weights, 36 * sizeof(double)) == 0);
  ck_assert(s1->trace_est == s2->trace_est && s1->trace_se == s2->trace_se);
  ir_slq_result_free(s1);
  ir_slq_result_free(s2);
  gsl_matrix_free(A);
}
END_TEST

static Suite *curvature_suite(void) {
  Suite *s = suite_create("curvature");
  TCase *tc = tcase_create("lanczos");
  tcase_add_test(tc, test_lanczos_top_separated);
  tcase_add_test(tc, test_lanczos_bottom_indefinite);
  tcase_add_test(tc, test_lanczos_magnitude_indefinite);
  tcase_add_test(tc, test_lanczos_magnitude_negative);
  tcase_add_test(tc, test_lanczos_clustered);
  tcase_add_test(tc, test_lanczos_rank_deficient);
  tcase_add_test(tc, test_lanczos_repeated);
  tcase_add_test(tc, test_lanczos_multiplicity);
  tcase_add_test(tc, test_lanczos_kronecker);
  tcase_add_test(tc, test_lanczos_null_space);
  tcase_add_test(tc, test_lanczos_cluster);
  tcase_add_test(tc, test_lanczos_thick_restart);
  tcase_add_test(tc, test_lanczos_warm_start);
  tcase_set_timeout(tc, 30);
  suite_add_tcase(s, tc);

  tc = tcase_create("edge");
  tcase_add_test(tc, test_lanczos_n1);
  tcase_add_test(tc, test_lanczos_k_equals_n);
  tcase_add_test(tc, test_lanczos_zero);
  tcase_add_test(tc, test_lanczos_invariant_subspace);
  tcase_add_test(tc, test_lanczos_budget);
  tcase_add_test(tc, test_lanczos_explicit_check_fails);
  tcase_add_test(tc, test_power_edge);
  tcase_add_test(tc, test_slq_edge);
  tcase_add_test(tc, test_dense_asymmetric);
  suite_add_tcase(s, tc);

  tc = tcase_create("estimators");
  tcase_add_test(tc, test_power_trap);
  tcase_add_test(tc, test_hutchinson_variance);
  tcase_add_test(tc, test_hutchinson_formula);
  tcase_add_test(tc, test_hutchinson_diagonal);
  tcase_add_test(tc, test_hutchpp_exact_low_rank);
  tcase_add_test(tc, test_hutchpp_beats_hutchinson);
  tcase_add_test(tc, test_slq_quadrature_full);
  tcase_add_test(tc, test_slq_quadrature_short);
  tcase_add_test(tc, test_slq_trace_density);
  tcase_add_test(tc, test_dense_spectrum);
  tcase_add_test(tc, test_hessian_linear);
  tcase_add_test(tc, test_determinism);
  tcase_set_timeout(tc, 30);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_lanczos_bad_params);
  tcase_add_test(tc, test_operator_failure);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  ir_error_install_gsl_handler();
  return ir_test_run(curvature_suite());
}
