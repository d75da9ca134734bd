/* test_linalg.c — SVD, symmetric eigensolver, Gram matrices and Frobenius
 * norms, each checked against an independent computation: the defining
 * properties of the factorization, GSL's own eigensolvers, plain loops.
 *
 * Tolerances follow the convention of LAPACK's test suite: a residual is
 * divided by max(n, p)·eps·(the scale of the data) and the ratio must stay
 * below THRESH = 30 (LAPACK's TESTING/dtest.in uses the same threshold).
 * Backward-stable dense algorithms satisfy bounds of the form
 * c(n)·eps·‖X‖ with c(n) a low-degree polynomial that is, in practice, at
 * most a small multiple of n, so this ratio is the natural scale-free test.
 */
#include "implreg/linalg.h"

#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sort_vector.h>
#include <math.h>
#include <string.h>

#define EPS DBL_EPSILON
/* LAPACK's test threshold for normalized residual ratios. */
#define THRESH 30.0

static size_t max_sz(size_t a, size_t b) {
  return a > b ? a : b;
}
static size_t min_sz(size_t a, size_t b) {
  return a < b ? a : b;
}

/* Frobenius norm by the plain formula, for well-scaled matrices only. */
static double naive_fro(const gsl_matrix *A) {
  double s = 0;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++)
      s += gsl_matrix_get(A, i, j) * gsl_matrix_get(A, i, j);
  return sqrt(s);
}

/* ‖QᵀQ − I‖_F for a matrix with (supposedly) orthonormal columns. */
static double orth_cols_defect(const gsl_matrix *Q) {
  const size_t k = Q->size2;
  double s = 0;
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b < k; b++) {
      double d = 0;
      for (size_t i = 0; i < Q->size1; i++)
        d += gsl_matrix_get(Q, i, a) * gsl_matrix_get(Q, i, b);
      d -= (a == b);
      s += d * d;
    }
  return sqrt(s);
}

/* ‖QQᵀ − I‖_F for a matrix with (supposedly) orthonormal rows. */
static double orth_rows_defect(const gsl_matrix *Q) {
  gsl_matrix *T = gsl_matrix_alloc(Q->size2, Q->size1);
  gsl_matrix_transpose_memcpy(T, Q);
  double d = orth_cols_defect(T);
  gsl_matrix_free(T);
  return d;
}

/* Eigenvalues, in decreasing order, of the smaller Gram matrix of X (XᵀX
 * when n >= p, XXᵀ otherwise), formed with plain loops and diagonalized by
 * GSL's symmetric QR algorithm: an independent route to the squared singular
 * values. */
static gsl_vector *gram_eigenvalues_desc(const gsl_matrix *X) {
  const size_t n = X->size1, p = X->size2, k = min_sz(n, p);
  gsl_matrix *G = gsl_matrix_alloc(k, k);
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b < k; b++) {
      double d = 0;
      if (n >= p)
        for (size_t i = 0; i < n; i++)
          d += gsl_matrix_get(X, i, a) * gsl_matrix_get(X, i, b);
      else
        for (size_t j = 0; j < p; j++)
          d += gsl_matrix_get(X, a, j) * gsl_matrix_get(X, b, j);
      gsl_matrix_set(G, a, b, d);
    }
  gsl_vector *ev = gsl_vector_alloc(k);
  gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(k);
  ck_assert_int_eq(gsl_eigen_symm(G, ev, ws), 0);
  gsl_eigen_symm_free(ws);
  gsl_sort_vector(ev);
  gsl_vector_reverse(ev);
  gsl_matrix_free(G);
  return ev;
}

/* Checks every defining property of a thin SVD of X:
 *  - reconstruction ‖U S Vt − X‖_F <= THRESH·max(n,p)·eps·‖X‖_F;
 *  - orthonormal columns of U and rows of Vt, ‖UᵀU − I‖_F and
 *    ‖Vt Vtᵀ − I‖_F <= THRESH·max(n,p)·eps (LAPACK's dchkbd ratios);
 *  - s_1 >= s_2 >= ... >= s_k >= 0;
 *  - s_i² equals the i-th largest eigenvalue λ_i of the smaller Gram matrix.
 *    The Gram matrix formed in floating point is within max(n,p)·eps·‖X‖_F²
 *    of the exact one (error bound of a dot product, Higham §3.1), and
 *    Weyl's inequality moves each eigenvalue by at most that much; the
 *    singular values themselves are within ~eps·s_max, which changes s_i² by
 *    at most 2·eps·s_max² <= 2·eps·‖X‖_F².  Hence
 *    |s_i² − λ_i| <= THRESH·max(n,p)·eps·‖X‖_F². */
static void check_svd(const gsl_matrix *X, const ir_svd *w) {
  const size_t n = X->size1, p = X->size2, k = min_sz(n, p);
  const double c = THRESH * (double)max_sz(n, p) * EPS;
  ck_assert_uint_eq(w->k, k);
  ck_assert_uint_eq(w->U->size1, n);
  ck_assert_uint_eq(w->U->size2, k);
  ck_assert_uint_eq(w->Vt->size1, k);
  ck_assert_uint_eq(w->Vt->size2, p);
  const double xf = naive_fro(X);

  gsl_matrix *US = gsl_matrix_alloc(n, k);
  gsl_matrix_memcpy(US, w->U);
  for (size_t j = 0; j < k; j++) {
    gsl_vector_view col = gsl_matrix_column(US, j);
    gsl_vector_scale(&col.vector, gsl_vector_get(w->s, j));
  }
  gsl_matrix *R = gsl_matrix_alloc(n, p);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, US, w->Vt, 0.0, R);
  double rec = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < p; j++) {
      double d = gsl_matrix_get(R, i, j) - gsl_matrix_get(X, i, j);
      rec += d * d;
    }
  rec = sqrt(rec);
  ck_assert_msg(rec <= c * xf, "reconstruction %.3g > %.3g", rec, c * xf);
  gsl_matrix_free(R);
  gsl_matrix_free(US);

  double du = orth_cols_defect(w->U), dv = orth_rows_defect(w->Vt);
  ck_assert_msg(du <= c, "U not orthonormal: %.3g > %.3g", du, c);
  ck_assert_msg(dv <= c, "Vt not orthonormal: %.3g > %.3g", dv, c);

  for (size_t i = 0; i < k; i++) {
    ck_assert(gsl_vector_get(w->s, i) >= 0);
    if (i + 1 < k)
      ck_assert(gsl_vector_get(w->s, i) >= gsl_vector_get(w->s, i + 1));
  }

  gsl_vector *ev = gram_eigenvalues_desc(X);
  for (size_t i = 0; i < k; i++) {
    double si = gsl_vector_get(w->s, i);
    IR_ASSERT_CLOSE(si * si, gsl_vector_get(ev, i), 0.0, c * xf * xf);
  }
  gsl_vector_free(ev);
}

static void svd_shape_case(size_t n, size_t p, unsigned long seed) {
  gsl_matrix *X = ir_test_gaussian(n, p, seed);
  ir_svd *w = ir_svd_alloc(n, p);
  ck_assert_ptr_nonnull(w);
  IR_ASSERT_OK(ir_svd_decomp(w, X));
  check_svd(X, w);
  ir_svd_free(w);
  gsl_matrix_free(X);
}

/* ---- SVD: normal -------------------------------------------------------- */

START_TEST(test_svd_wide) {
  svd_shape_case(30, 50, 11);
}
END_TEST

START_TEST(test_svd_square) {
  svd_shape_case(40, 40, 12);
}
END_TEST

START_TEST(test_svd_tall) {
  svd_shape_case(60, 25, 13);
}
END_TEST

START_TEST(test_svd_large) {
  /* The largest shape the suite uses; dgesdd switches to divide and conquer
   * above 25 columns of the bidiagonal, so this exercises that branch. */
  svd_shape_case(200, 300, 14);
}
END_TEST

START_TEST(test_svd_submatrix_view) {
  /* A 30×45 window of a 50×80 matrix has tda = 80 ≠ 45: the decomposition
   * must read rows with the stride of the parent, and must give the same
   * factors as a contiguous copy of the same numbers (LAPACK receives the
   * identical packed array in both cases). */
  gsl_matrix *big = ir_test_gaussian(50, 80, 21);
  gsl_matrix_view v = gsl_matrix_submatrix(big, 5, 7, 30, 45);
  ck_assert_uint_eq(v.matrix.tda, 80);
  gsl_matrix *copy = gsl_matrix_alloc(30, 45);
  gsl_matrix_memcpy(copy, &v.matrix);
  ir_svd *w = ir_svd_alloc(30, 45), *wc = ir_svd_alloc(30, 45);
  IR_ASSERT_OK(ir_svd_decomp(w, &v.matrix));
  IR_ASSERT_OK(ir_svd_decomp(wc, copy));
  check_svd(copy, w);
  for (size_t i = 0; i < 30; i++)
    ck_assert(gsl_vector_get(w->s, i) == gsl_vector_get(wc->s, i));
  ck_assert(gsl_matrix_equal(w->U, wc->U));
  ck_assert(gsl_matrix_equal(w->Vt, wc->Vt));
  /* The input, including the parts outside the window, is untouched. */
  gsl_matrix *big2 = ir_test_gaussian(50, 80, 21);
  ck_assert(gsl_matrix_equal(big, big2));
  gsl_matrix_free(big2);
  ir_svd_free(w);
  ir_svd_free(wc);
  gsl_matrix_free(copy);
  gsl_matrix_free(big);
}
END_TEST

START_TEST(test_svd_rank_deficient) {
  /* X = A B with A 40×8 and B 8×60 has rank 8 exactly.  A backward-stable
   * SVD computes the singular values of X + E with ‖E‖_2 <= c·eps·‖X‖_2, so
   * by Weyl the 32 trailing ones are at most THRESH·max(n,p)·eps·s_max,
   * while the 8th stays of the order of s_max/cond(A B restricted). */
  const size_t n = 40, p = 60, r = 8;
  gsl_matrix *A = ir_test_gaussian(n, r, 31), *B = ir_test_gaussian(r, p, 32);
  gsl_matrix *X = gsl_matrix_alloc(n, p);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, A, B, 0.0, X);
  ir_svd *w = ir_svd_alloc(n, p);
  IR_ASSERT_OK(ir_svd_decomp(w, X));
  check_svd(X, w);
  const double smax = gsl_vector_get(w->s, 0);
  const double tol = THRESH * (double)max_sz(n, p) * EPS * smax;
  for (size_t i = r; i < n; i++)
    ck_assert_msg(gsl_vector_get(w->s, i) <= tol, "s[%zu] = %.3g > %.3g", i,
                  gsl_vector_get(w->s, i), tol);
  ck_assert(gsl_vector_get(w->s, r - 1) > 1e6 * tol);
  ir_svd_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(A);
  gsl_matrix_free(B);
}
END_TEST

START_TEST(test_svd_workspace_reuse) {
  /* One workspace, two different matrices, then the first again: each
   * result must be a valid SVD of its own input, and the third must equal a
   * fresh workspace's result bit for bit (no state carried over). */
  gsl_matrix *X1 = ir_test_gaussian(25, 35, 41);
  gsl_matrix *X2 = ir_test_gaussian(25, 35, 42);
  gsl_matrix_scale(X2, 1e3);
  ir_svd *w = ir_svd_alloc(25, 35), *fresh = ir_svd_alloc(25, 35);
  IR_ASSERT_OK(ir_svd_decomp(w, X1));
  check_svd(X1, w);
  IR_ASSERT_OK(ir_svd_decomp(w, X2));
  check_svd(X2, w);
  IR_ASSERT_OK(ir_svd_decomp(w, X1));
  IR_ASSERT_OK(ir_svd_decomp(fresh, X1));
  ck_assert(gsl_vector_equal(w->s, fresh->s));
  ck_assert(gsl_matrix_equal(w->U, fresh->U));
  ck_assert(gsl_matrix_equal(w->Vt, fresh->Vt));
  ir_svd_free(w);
  ir_svd_free(fresh);
  gsl_matrix_free(X1);
  gsl_matrix_free(X2);
}
END_TEST

/* ---- SVD: edge ---------------------------------------------------------- */

START_TEST(test_svd_1x1) {
  gsl_matrix *X = gsl_matrix_alloc(1, 1);
  gsl_matrix_set(X, 0, 0, -3.0);
  ir_svd *w = ir_svd_alloc(1, 1);
  IR_ASSERT_OK(ir_svd_decomp(w, X));
  /* The only singular value of [−3] is 3 and U·Vt carries the sign; both
   * are exact in binary arithmetic. */
  ck_assert(gsl_vector_get(w->s, 0) == 3.0);
  ck_assert(gsl_matrix_get(w->U, 0, 0) * gsl_matrix_get(w->Vt, 0, 0) == -1.0);
  ir_svd_free(w);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_svd_row_and_column) {
  /* A single row x (1×p) has the one singular value ‖x‖ and Vt = ±xᵀ/‖x‖;
   * a single column likewise with U.  The norm is computed here by the
   * plain formula (the entries are O(1), so it is accurate to p·eps). */
  const size_t p = 17;
  gsl_matrix *x = ir_test_gaussian(1, p, 51);
  gsl_matrix *xt = gsl_matrix_alloc(p, 1);
  gsl_matrix_transpose_memcpy(xt, x);
  const double nx = naive_fro(x), tol = THRESH * (double)p * EPS;

  ir_svd *w = ir_svd_alloc(1, p);
  IR_ASSERT_OK(ir_svd_decomp(w, x));
  check_svd(x, w);
  IR_ASSERT_CLOSE(gsl_vector_get(w->s, 0), nx, tol, 0.0);
  double sgn = gsl_matrix_get(w->U, 0, 0);
  IR_ASSERT_CLOSE(fabs(sgn), 1.0, tol, 0.0);
  for (size_t j = 0; j < p; j++)
    IR_ASSERT_CLOSE(sgn * gsl_matrix_get(w->Vt, 0, j),
                    gsl_matrix_get(x, 0, j) / nx, tol, tol);
  ir_svd_free(w);

  w = ir_svd_alloc(p, 1);
  IR_ASSERT_OK(ir_svd_decomp(w, xt));
  check_svd(xt, w);
  IR_ASSERT_CLOSE(gsl_vector_get(w->s, 0), nx, tol, 0.0);
  sgn = gsl_matrix_get(w->Vt, 0, 0);
  IR_ASSERT_CLOSE(fabs(sgn), 1.0, tol, 0.0);
  for (size_t i = 0; i < p; i++)
    IR_ASSERT_CLOSE(sgn * gsl_matrix_get(w->U, i, 0),
                    gsl_matrix_get(xt, i, 0) / nx, tol, tol);
  ir_svd_free(w);
  gsl_matrix_free(x);
  gsl_matrix_free(xt);
}
END_TEST

START_TEST(test_svd_zero) {
  /* The zero matrix: all singular values are exactly 0, and the factors
   * must still be orthonormal (LAPACK returns identity-like columns). */
  gsl_matrix *X = gsl_matrix_calloc(6, 9);
  ir_svd *w = ir_svd_alloc(6, 9);
  IR_ASSERT_OK(ir_svd_decomp(w, X));
  for (size_t i = 0; i < 6; i++)
    ck_assert(gsl_vector_get(w->s, i) == 0.0);
  check_svd(X, w);
  ir_svd_free(w);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_svd_extreme_scale) {
  /* Singular values scale exactly with the matrix: s(αX) = |α| s(X).  With
   * α a power of two the scaled matrix is exact, and LAPACK scales
   * internally (dlascl) when the norm is near under- or overflow, so each
   * singular value must match to the usual backward-error bound relative to
   * s_max. */
  gsl_matrix *X = ir_test_gaussian(12, 20, 61);
  ir_svd *w = ir_svd_alloc(12, 20), *ws = ir_svd_alloc(12, 20);
  IR_ASSERT_OK(ir_svd_decomp(w, X));
  const double alphas[] = {0x1p-500, 0x1p500};
  for (size_t a = 0; a < 2; a++) {
    gsl_matrix *Xs = gsl_matrix_alloc(12, 20);
    gsl_matrix_memcpy(Xs, X);
    gsl_matrix_scale(Xs, alphas[a]);
    IR_ASSERT_OK(ir_svd_decomp(ws, Xs));
    const double tol = THRESH * 20 * EPS * gsl_vector_get(w->s, 0);
    for (size_t i = 0; i < 12; i++)
      IR_ASSERT_CLOSE(gsl_vector_get(ws->s, i) / alphas[a],
                      gsl_vector_get(w->s, i), 0.0, tol);
    gsl_matrix_free(Xs);
  }
  ir_svd_free(w);
  ir_svd_free(ws);
  gsl_matrix_free(X);
}
END_TEST

/* ---- SVD: errors -------------------------------------------------------- */

START_TEST(test_svd_nonfinite) {
  gsl_matrix *X = ir_test_gaussian(5, 7, 71);
  ir_svd *w = ir_svd_alloc(5, 7);
  gsl_matrix_set(X, 2, 3, NAN);
  ck_assert_int_eq(ir_svd_decomp(w, X), IR_EBADDATA);
  /* The message names the 1-based row and column of the bad entry. */
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "row 3"));
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "column 4"));
  gsl_matrix_set(X, 2, 3, 1.0);
  gsl_matrix_set(X, 4, 6, -INFINITY);
  ck_assert_int_eq(ir_svd_decomp(w, X), IR_EBADDATA);
  ir_svd_free(w);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_svd_shape) {
  gsl_matrix *X = ir_test_gaussian(5, 7, 72);
  ir_svd *w = ir_svd_alloc(7, 5);
  ck_assert_int_eq(ir_svd_decomp(w, X), IR_ESHAPE);
  ir_svd_free(w);
  gsl_matrix_free(X);
  ck_assert_ptr_null(ir_svd_alloc(0, 3));
  ck_assert_ptr_null(ir_svd_alloc(3, 0));
  ir_svd_free(NULL);
}
END_TEST

/* ---- Symmetric eigensolver ---------------------------------------------- */

/* A random symmetric n×n matrix (G + Gᵀ)/2. */
static gsl_matrix *random_symmetric(size_t n, unsigned long seed) {
  gsl_matrix *G = ir_test_gaussian(n, n, seed);
  gsl_matrix *A = gsl_matrix_alloc(n, n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      gsl_matrix_set(A, i, j,
                     0.5 * (gsl_matrix_get(G, i, j) + gsl_matrix_get(G, j, i)));
  gsl_matrix_free(G);
  return A;
}

/* ‖A Z − Z Λ‖_F, computed column by column so that the test fixes the
 * convention: column j of Z is the eigenvector of eval[j]. */
static double eig_residual(const gsl_matrix *A, const gsl_vector *eval,
                           const gsl_matrix *Z) {
  const size_t n = A->size1;
  gsl_matrix *AZ = gsl_matrix_alloc(n, n);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, A, Z, 0.0, AZ);
  double s = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double d = gsl_matrix_get(AZ, i, j) -
                 gsl_matrix_get(Z, i, j) * gsl_vector_get(eval, j);
      s += d * d;
    }
  gsl_matrix_free(AZ);
  return sqrt(s);
}

START_TEST(test_eigen_vs_gsl) {
  /* dsyevr (MRRR; loop index 0) and dsyevd (divide and conquer; 1) against
   * GSL's implicit symmetric QR (gsl_eigen_symmv).
   * Both are backward stable, so each eigenvalue is within c·eps·‖A‖_2 of
   * the exact one (Weyl); we use ‖A‖_F >= ‖A‖_2 and LAPACK's threshold. */
  const size_t n = 60;
  gsl_matrix *A = random_symmetric(n, 81);
  const double tol = THRESH * (double)n * EPS * naive_fro(A);
  ir_eigen_symm *w = ir_eigen_symm_alloc(n);
  ck_assert_ptr_nonnull(w);
  IR_ASSERT_OK(_i == 0 ? ir_eigen_symm_decomp(w, A)
                       : ir_eigen_symm_decomp_dc(w, A));

  gsl_matrix *Ac = gsl_matrix_alloc(n, n);
  gsl_matrix_memcpy(Ac, A);
  gsl_vector *ev = gsl_vector_alloc(n);
  gsl_matrix *evec = gsl_matrix_alloc(n, n);
  gsl_eigen_symmv_workspace *gw = gsl_eigen_symmv_alloc(n);
  ck_assert_int_eq(gsl_eigen_symmv(Ac, ev, evec, gw), 0);
  gsl_eigen_symmv_sort(ev, evec, GSL_EIGEN_SORT_VAL_ASC);
  for (size_t i = 0; i < n; i++) {
    IR_ASSERT_CLOSE(gsl_vector_get(w->eval, i), gsl_vector_get(ev, i), 0.0,
                    tol);
    if (i + 1 < n)
      ck_assert(gsl_vector_get(w->eval, i) <= gsl_vector_get(w->eval, i + 1));
  }
  /* A Z = Z Λ and ZᵀZ = I to backward-error accuracy. */
  double res = eig_residual(A, w->eval, w->evec);
  ck_assert_msg(res <= tol, "residual %.3g > %.3g", res, tol);
  double od = orth_cols_defect(w->evec);
  ck_assert_msg(od <= THRESH * n * EPS, "Z not orthogonal: %.3g", od);
  /* The matrix of the caller is not modified. */
  gsl_matrix *A2 = random_symmetric(n, 81);
  ck_assert(gsl_matrix_equal(A, A2));
  gsl_matrix_free(A2);
  gsl_eigen_symmv_free(gw);
  gsl_matrix_free(evec);
  gsl_vector_free(ev);
  gsl_matrix_free(Ac);
  ir_eigen_symm_free(w);
  gsl_matrix_free(A);
}
END_TEST

START_TEST(test_eigen_known_spectrum) {
  /* A = Q diag(1, 2, ..., n) Qᵀ with Q orthogonal (from the QR of a Gaussian
   * matrix): the eigenvalues are known in closed form and, because the gap
   * is 1, each computed eigenvector z_j must be parallel to column j of Q up
   * to sin∠ <= ‖E‖/gap (Davis–Kahan), with ‖E‖ the backward error of the
   * formation of A and of the solver, both <= c·eps·‖A‖_2 = c·eps·n.  This
   * also pins the convention "eigenvectors in the COLUMNS". */
  const size_t n = 40;
  gsl_matrix *G = ir_test_gaussian(n, n, 82);
  gsl_vector *tau = gsl_vector_alloc(n);
  gsl_linalg_QR_decomp(G, tau);
  gsl_matrix *Q = gsl_matrix_alloc(n, n), *R = gsl_matrix_alloc(n, n);
  gsl_linalg_QR_unpack(G, tau, Q, R);
  gsl_matrix *QD = gsl_matrix_alloc(n, n), *A = gsl_matrix_alloc(n, n);
  gsl_matrix_memcpy(QD, Q);
  for (size_t j = 0; j < n; j++) {
    gsl_vector_view c = gsl_matrix_column(QD, j);
    gsl_vector_scale(&c.vector, (double)(j + 1));
  }
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, QD, Q, 0.0, A);
  /* Symmetrize exactly so that both triangles hold the same numbers. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      gsl_matrix_set(A, j, i, gsl_matrix_get(A, i, j));

  const double tol = THRESH * (double)n * EPS * (double)n;
  ir_eigen_symm *w = ir_eigen_symm_alloc(n);
  IR_ASSERT_OK(_i == 0 ? ir_eigen_symm_decomp(w, A) /* dsyevr */
                       : ir_eigen_symm_decomp_dc(w, A)); /* dsyevd */
  for (size_t j = 0; j < n; j++) {
    IR_ASSERT_CLOSE(gsl_vector_get(w->eval, j), (double)(j + 1), 0.0, tol);
    gsl_vector_const_view z = gsl_matrix_const_column(w->evec, j);
    gsl_vector_const_view q = gsl_matrix_const_column(Q, j);
    double dot;
    gsl_blas_ddot(&z.vector, &q.vector, &dot);
    /* |cos∠| >= sqrt(1 − sin²∠) >= 1 − sin²∠ with sin∠ <= tol / gap. */
    ck_assert_msg(fabs(dot) >= 1 - tol * tol - THRESH * n * EPS,
                  "column %zu: |z·q| = %.17g", j, fabs(dot));
  }
  ir_eigen_symm_free(w);
  gsl_matrix_free(A);
  gsl_matrix_free(QD);
  gsl_matrix_free(Q);
  gsl_matrix_free(R);
  gsl_vector_free(tau);
  gsl_matrix_free(G);
}
END_TEST

START_TEST(test_eigen_lower_triangle_only) {
  /* The contract reads only the lower triangle: NaN and huge garbage in the
   * strict upper triangle must not change the result (bitwise, since the
   * same numbers reach LAPACK's reads). */
  const size_t n = 12;
  gsl_matrix *A = random_symmetric(n, 83);
  gsl_matrix *B = gsl_matrix_alloc(n, n);
  gsl_matrix_memcpy(B, A);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      gsl_matrix_set(B, i, j, (i + j) % 2 ? NAN : 1e300);
  ir_eigen_symm *wa = ir_eigen_symm_alloc(n), *wb = ir_eigen_symm_alloc(n);
  IR_ASSERT_OK(ir_eigen_symm_decomp(wa, A));
  IR_ASSERT_OK(ir_eigen_symm_decomp(wb, B));
  ck_assert(gsl_vector_equal(wa->eval, wb->eval));
  ck_assert(gsl_matrix_equal(wa->evec, wb->evec));
  ir_eigen_symm_free(wa);
  ir_eigen_symm_free(wb);
  gsl_matrix_free(A);
  gsl_matrix_free(B);
}
END_TEST

START_TEST(test_eigen_1x1_and_view) {
  gsl_matrix *A = gsl_matrix_alloc(1, 1);
  gsl_matrix_set(A, 0, 0, -2.5);
  ir_eigen_symm *w = ir_eigen_symm_alloc(1);
  IR_ASSERT_OK(ir_eigen_symm_decomp(w, A));
  ck_assert(gsl_vector_get(w->eval, 0) == -2.5);
  ck_assert(fabs(gsl_matrix_get(w->evec, 0, 0)) == 1.0);
  ir_eigen_symm_free(w);
  gsl_matrix_free(A);

  /* A symmetric window of a bigger matrix (tda 30 ≠ 10) must give the same
   * result as its contiguous copy. */
  gsl_matrix *big = random_symmetric(30, 84);
  gsl_matrix_view v = gsl_matrix_submatrix(big, 4, 4, 10, 10);
  gsl_matrix *c = gsl_matrix_alloc(10, 10);
  gsl_matrix_memcpy(c, &v.matrix);
  ir_eigen_symm *w1 = ir_eigen_symm_alloc(10), *w2 = ir_eigen_symm_alloc(10);
  IR_ASSERT_OK(ir_eigen_symm_decomp(w1, &v.matrix));
  IR_ASSERT_OK(ir_eigen_symm_decomp(w2, c));
  ck_assert(gsl_vector_equal(w1->eval, w2->eval));
  ck_assert(gsl_matrix_equal(w1->evec, w2->evec));
  ir_eigen_symm_free(w1);
  ir_eigen_symm_free(w2);
  gsl_matrix_free(c);
  gsl_matrix_free(big);
}
END_TEST

START_TEST(test_eigen_errors) {
  ir_eigen_symm *w = ir_eigen_symm_alloc(4);
  gsl_matrix *A = random_symmetric(5, 85);
  ck_assert_int_eq(ir_eigen_symm_decomp(w, A), IR_ESHAPE);
  gsl_matrix_free(A);
  A = random_symmetric(4, 86);
  gsl_matrix_set(A, 3, 1, NAN); /* lower triangle: read, so rejected */
  ck_assert_int_eq(ir_eigen_symm_decomp(w, A), IR_EBADDATA);
  gsl_matrix_free(A);
  ir_eigen_symm_free(w);
  ck_assert_ptr_null(ir_eigen_symm_alloc(0));
  ir_eigen_symm_free(NULL);
}
END_TEST

/* ---- Gram matrices ------------------------------------------------------ */

/* Compares G with the product computed by gsl_blas_dgemm entry by entry.
 * Each entry is a dot product of two length-m vectors a, b; both routes
 * satisfy |fl(aᵀb) − aᵀb| <= m·eps·‖a‖‖b‖ (Higham §3.1), so their difference
 * is at most 2·m·eps·‖a‖‖b‖, and we check the ratio against THRESH. */
static void check_gram(const gsl_matrix *X, int trans) {
  const size_t n = X->size1, p = X->size2;
  const size_t g = trans ? n : p, m = trans ? p : n;
  gsl_matrix *G = gsl_matrix_alloc(g, g), *D = gsl_matrix_alloc(g, g);
  IR_ASSERT_OK(ir_linalg_gram(X, trans, G));
  gsl_blas_dgemm(trans ? CblasNoTrans : CblasTrans,
                 trans ? CblasTrans : CblasNoTrans, 1.0, X, X, 0.0, D);
  gsl_vector *nrm = gsl_vector_alloc(g);
  for (size_t a = 0; a < g; a++) {
    gsl_vector_const_view v =
        trans ? gsl_matrix_const_row(X, a) : gsl_matrix_const_column(X, a);
    gsl_vector_set(nrm, a, gsl_blas_dnrm2(&v.vector));
  }
  for (size_t a = 0; a < g; a++)
    for (size_t b = 0; b < g; b++) {
      /* Symmetry must be exact: the routine mirrors one triangle. */
      ck_assert(gsl_matrix_get(G, a, b) == gsl_matrix_get(G, b, a));
      double tol = THRESH * (double)m * EPS * gsl_vector_get(nrm, a) *
                   gsl_vector_get(nrm, b);
      IR_ASSERT_CLOSE(gsl_matrix_get(G, a, b), gsl_matrix_get(D, a, b), 0.0,
                      tol);
    }
  gsl_vector_free(nrm);
  gsl_matrix_free(G);
  gsl_matrix_free(D);
}

START_TEST(test_gram_both) {
  gsl_matrix *X = ir_test_gaussian(35, 20, 91);
  check_gram(X, 0);
  check_gram(X, 1);
  gsl_matrix_free(X);
  X = ir_test_gaussian(20, 35, 92);
  check_gram(X, 0);
  check_gram(X, 1);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_gram_view) {
  /* Non-unit tda input: a 15×25 window of a 40×40 matrix. */
  gsl_matrix *big = ir_test_gaussian(40, 40, 93);
  gsl_matrix_view v = gsl_matrix_submatrix(big, 3, 9, 15, 25);
  check_gram(&v.matrix, 0);
  check_gram(&v.matrix, 1);
  gsl_matrix_free(big);
}
END_TEST

START_TEST(test_gram_shape) {
  gsl_matrix *X = ir_test_gaussian(6, 4, 94);
  gsl_matrix *G = gsl_matrix_alloc(6, 6);
  ck_assert_int_eq(ir_linalg_gram(X, 0, G), IR_ESHAPE); /* XᵀX is 4×4 */
  gsl_matrix_free(G);
  G = gsl_matrix_alloc(4, 4);
  ck_assert_int_eq(ir_linalg_gram(X, 1, G), IR_ESHAPE); /* XXᵀ is 6×6 */
  gsl_matrix_free(G);
  gsl_matrix_free(X);
}
END_TEST

/* ---- Frobenius norms ---------------------------------------------------- */

START_TEST(test_fro_vs_naive) {
  /* For O(1) entries the plain formula is accurate: recursive summation of
   * N positive terms has relative error <= (N − 1)·eps and the square root
   * halves it; the scaled algorithm has the same order of error.  So the two
   * agree to rtol = (N + 2)·eps. */
  gsl_matrix *A = ir_test_gaussian(23, 31, 101);
  const double N = 23.0 * 31.0;
  IR_ASSERT_CLOSE(ir_matrix_fro(A), naive_fro(A), (N + 2) * EPS, 0.0);
  /* Non-unit tda: the norm of a window is the norm of its copy. */
  gsl_matrix_view v = gsl_matrix_submatrix(A, 2, 3, 10, 12);
  gsl_matrix *c = gsl_matrix_alloc(10, 12);
  gsl_matrix_memcpy(c, &v.matrix);
  IR_ASSERT_CLOSE(ir_matrix_fro(&v.matrix), naive_fro(c), 122 * EPS, 0.0);
  gsl_matrix_free(c);
  gsl_matrix *Z = gsl_matrix_calloc(3, 4);
  ck_assert(ir_matrix_fro(Z) == 0.0);
  gsl_matrix_free(Z);
  gsl_matrix_free(A);
}
END_TEST

START_TEST(test_fro_extreme) {
  /* All entries equal to a: ‖A‖_F = |a|·sqrt(N) exactly.  At a = 1e200 the
   * squares overflow and at a = 1e-200 they underflow to 0, so a naive sum
   * returns Inf or 0; the scaled sum must be accurate to a few ulps
   * (N = 12 equal terms: <= N·eps relative).  The last value is subnormal:
   * there the reference |a|·sqrt(12) itself is rounded to the subnormal
   * grid, so an absolute allowance of two subnormal ulps (DBL_TRUE_MIN) is
   * added. */
  const double vals[] = {1e200, -1e200, 1e-200, 1e-310};
  for (size_t t = 0; t < 4; t++) {
    gsl_matrix *A = gsl_matrix_alloc(3, 4);
    gsl_matrix_set_all(A, vals[t]);
    IR_ASSERT_CLOSE(ir_matrix_fro(A), fabs(vals[t]) * sqrt(12.0), 14 * EPS,
                    2 * DBL_TRUE_MIN);
    gsl_matrix_free(A);
  }
  /* Mixed scales: one huge entry dominates the others exactly. */
  gsl_matrix *B = gsl_matrix_calloc(2, 2);
  gsl_matrix_set(B, 0, 0, 1e-200);
  gsl_matrix_set(B, 1, 1, 3e250);
  gsl_matrix_set(B, 0, 1, -4e250);
  IR_ASSERT_CLOSE(ir_matrix_fro(B), 5e250, 4 * EPS, 0.0);
  gsl_matrix_free(B);
}
END_TEST

START_TEST(test_fro_nonfinite) {
  gsl_matrix *A = gsl_matrix_calloc(2, 3);
  gsl_matrix_set(A, 1, 1, INFINITY);
  ck_assert(isinf(ir_matrix_fro(A)));
  gsl_matrix_set(A, 0, 2, NAN);
  ck_assert(isnan(ir_matrix_fro(A)));
  gsl_matrix_free(A);
}
END_TEST

START_TEST(test_fro_diff) {
  gsl_matrix *A = ir_test_gaussian(9, 14, 111),
             *B = ir_test_gaussian(9, 14, 112);
  gsl_matrix *D = gsl_matrix_alloc(9, 14);
  gsl_matrix_memcpy(D, A);
  gsl_matrix_sub(D, B);
  /* The difference matrix is formed exactly as the routine forms it, so the
   * only discrepancy is the summation: rtol = (N + 2)·eps as above. */
  IR_ASSERT_CLOSE(ir_matrix_fro_diff(A, B), naive_fro(D), (126 + 2) * EPS, 0.0);
  ck_assert(ir_matrix_fro_diff(A, A) == 0.0);
  /* Huge entries: ‖A − (−A)‖ = 2‖A‖ without overflow of the squares. */
  gsl_matrix_set_all(A, 1e200);
  gsl_matrix_set_all(B, -1e200);
  IR_ASSERT_CLOSE(ir_matrix_fro_diff(A, B), 2e200 * sqrt(126.0), 128 * EPS,
                  0.0);
  /* Tiny entries: 3e-200 − 1e-200 = 2e-200 each, no underflow. */
  gsl_matrix_set_all(A, 3e-200);
  gsl_matrix_set_all(B, 1e-200);
  IR_ASSERT_CLOSE(ir_matrix_fro_diff(A, B), 2e-200 * sqrt(126.0), 128 * EPS,
                  0.0);
  gsl_matrix *C = gsl_matrix_alloc(14, 9);
  ck_assert(isnan(ir_matrix_fro_diff(A, C)));
  gsl_matrix_free(C);
  gsl_matrix_free(D);
  gsl_matrix_free(A);
  gsl_matrix_free(B);
}
END_TEST

START_TEST(test_lstsq_qr) {
  /* ir_linalg_lstsq_qr against GSL's SVD pseudo-inverse (independent
   * code): tall (least squares, nonzero residual) and wide (minimum norm)
   * Gaussian matrices, condition ~10; forward error ~eps·cond² at most,
   * allowed 1e-12.  The wide solution must also be in the row space (Aᵀ
   * times something): checked through equality with the pseudo-inverse. */
  const size_t shapes[2][2] = {{40, 15}, {15, 40}};
  for (int c = 0; c < 2; c++) {
    const size_t m = shapes[c][0], N = shapes[c][1], K = 3;
    gsl_matrix *A = ir_test_gaussian(m, N, 901 + c);
    gsl_matrix *Y = ir_test_gaussian(m, K, 911 + c);
    gsl_matrix *W = gsl_matrix_alloc(N, K), *R = gsl_matrix_alloc(N, K);
    IR_ASSERT_OK(ir_linalg_lstsq_qr(A, Y, W));
    /* Reference: A⁺ from GSL's SVD of the tall one of A and Aᵀ. */
    const int wide = m < N;
    const size_t M = wide ? N : m, Q = wide ? m : N;
    gsl_matrix *U = gsl_matrix_alloc(M, Q), *V = gsl_matrix_alloc(Q, Q);
    gsl_vector *sv = gsl_vector_alloc(Q), *work = gsl_vector_alloc(Q);
    if (wide)
      gsl_matrix_transpose_memcpy(U, A);
    else
      gsl_matrix_memcpy(U, A);
    gsl_linalg_SV_decomp(U, V, sv, work);
    /* A = U S Vᵀ (tall) → A⁺ = V S⁻¹ Uᵀ; wide: Aᵀ = U S Vᵀ → A⁺ = U S⁻¹ Vᵀ. */
    gsl_matrix *T = gsl_matrix_alloc(Q, K);
    if (wide)
      gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, V, Y, 0.0, T);
    else
      gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, U, Y, 0.0, T);
    for (size_t i = 0; i < Q; i++)
      for (size_t k = 0; k < K; k++)
        gsl_matrix_set(T, i, k, gsl_matrix_get(T, i, k) / gsl_vector_get(sv, i));
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, wide ? U : V, T, 0.0, R);
    ck_assert_msg(ir_test_reldiff(W, R) <= 1e-12, "%zux%zu: %.3g", m, N,
                  ir_test_reldiff(W, R));
    gsl_matrix *Wb = gsl_matrix_alloc(N + 1, K);
    ck_assert_int_eq(ir_linalg_lstsq_qr(A, Y, Wb), IR_ESHAPE);
    /* Rank deficient: a zero column (tall) or row (wide) leaves an exact
     * zero on the factor's diagonal.  (All of A zero is not refused:
     * dgels returns W = 0, the minimum-norm solution.) */
    gsl_matrix *Z = gsl_matrix_alloc(m, N);
    gsl_matrix_memcpy(Z, A);
    if (wide) {
      gsl_vector_view z = gsl_matrix_row(Z, 0);
      gsl_vector_set_zero(&z.vector);
    } else {
      gsl_vector_view z = gsl_matrix_column(Z, 0);
      gsl_vector_set_zero(&z.vector);
    }
    ck_assert_int_eq(ir_linalg_lstsq_qr(Z, Y, W), IR_ESING);
    gsl_matrix *mats[] = {A, Y, W, R, U, V, T, Wb, Z};
    for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
      gsl_matrix_free(mats[i]);
    gsl_vector_free(sv);
    gsl_vector_free(work);
  }
}
END_TEST

/* A Aᵀ + I for a Gaussian m×m A (seed): symmetric positive definite, both
 * triangles filled. */
static gsl_matrix *spd_matrix(size_t m, unsigned long seed) {
  gsl_matrix *A = ir_test_gaussian(m, m, seed), *G = gsl_matrix_alloc(m, m);
  gsl_blas_dsyrk(CblasLower, CblasNoTrans, 1.0, A, 0.0, G);
  for (size_t i = 0; i < m; i++) {
    gsl_matrix_set(G, i, i, gsl_matrix_get(G, i, i) + 1.0);
    for (size_t j = 0; j < i; j++)
      gsl_matrix_set(G, j, i, gsl_matrix_get(G, i, j));
  }
  gsl_matrix_free(A);
  return G;
}

/* ir_linalg_spd_solve: the solution against GSL's Cholesky, the 1-norm
 * condition estimate within LAPACK's usual factor of the true one, and
 * repeated calls between other allocations giving the same bits.  (The
 * alignment dependence that made the estimate's last bit follow the heap
 * did not show at this size; tests/cli_double_descent.sh reproduces it
 * with three heap layouts.) */
START_TEST(test_spd_solve_heap) {
  const size_t m = 700, K = 3;
  gsl_matrix *G = spd_matrix(m, 71), *W = gsl_matrix_alloc(m, m);
  gsl_matrix *Y = ir_test_gaussian(m, K, 72), *B = gsl_matrix_alloc(m, K),
             *B0 = gsl_matrix_alloc(m, K);
  double c0 = 0;
  void *shim[8] = {0};
  for (int k = 0; k < 8; k++) {
    shim[k] = malloc(16 * (size_t)k + 8); /* moves the next allocations */
    ck_assert_ptr_nonnull(shim[k]);
    gsl_matrix_memcpy(W, G);
    gsl_matrix_memcpy(B, Y);
    double c = 0;
    IR_ASSERT_OK(ir_linalg_spd_solve(W, B, 1e-6, &c));
    if (k == 0) {
      c0 = c;
      gsl_matrix_memcpy(B0, B);
    } else {
      ck_assert_msg(c == c0, "heap state %d: condition %.17g, first %.17g", k,
                    c, c0);
      ck_assert(memcmp(B->data, B0->data, m * K * sizeof(double)) == 0);
    }
  }
  for (int k = 0; k < 8; k++)
    free(shim[k]);
  /* against GSL's Cholesky solve, and the exact 1-norm condition number */
  gsl_matrix_memcpy(W, G);
  gsl_linalg_cholesky_decomp1(W);
  gsl_matrix *Gi = gsl_matrix_alloc(m, m);
  gsl_matrix_memcpy(Gi, W);
  gsl_linalg_cholesky_invert(Gi);
  double n1 = 0, n1i = 0;
  for (size_t j = 0; j < m; j++) {
    double a = 0, b = 0;
    for (size_t i = 0; i < m; i++) {
      a += fabs(gsl_matrix_get(G, i, j));
      b += fabs(gsl_matrix_get(Gi, i, j));
    }
    n1 = fmax(n1, a);
    n1i = fmax(n1i, b);
  }
  const double exact = n1 * n1i;
  ck_assert_msg(c0 <= exact * (1 + 1e-10) && c0 >= exact / 10,
                "estimate %.6g, exact %.6g", c0, exact);
  for (size_t k = 0; k < K; k++) {
    gsl_vector_view y = gsl_matrix_column(Y, k);
    gsl_vector *x = gsl_vector_alloc(m);
    gsl_linalg_cholesky_solve(W, &y.vector, x);
    double d = 0, nx = 0;
    for (size_t i = 0; i < m; i++) {
      d = fmax(d, fabs(gsl_vector_get(x, i) - gsl_matrix_get(B0, i, k)));
      nx = fmax(nx, fabs(gsl_vector_get(x, i)));
    }
    ck_assert_msg(d <= 100 * DBL_EPSILON * exact * nx, "column %zu: %.3g",
                  k, d / nx);
    gsl_vector_free(x);
  }
  gsl_matrix_free(Gi);
  gsl_matrix_free(G);
  gsl_matrix_free(W);
  gsl_matrix_free(Y);
  gsl_matrix_free(B);
  gsl_matrix_free(B0);
}
END_TEST

/* ir_linalg_chol_apply on a view (tda > columns): the block solved
 * against two row-major triangular solves, the columns around it left
 * alone; against G itself, G·X = B to rounding. */
START_TEST(test_chol_apply_view) {
  const size_t m = 300, K = 4, wide = 11;
  gsl_matrix *G = spd_matrix(m, 81), *L = gsl_matrix_alloc(m, m);
  gsl_matrix_memcpy(L, G);
  double c;
  gsl_matrix *one = gsl_matrix_alloc(m, 1);
  gsl_matrix_set_all(one, 1.0);
  IR_ASSERT_OK(ir_linalg_spd_solve(L, one, 1e-6, &c));
  gsl_matrix *Y = ir_test_gaussian(m, wide, 82), *Z = gsl_matrix_alloc(m, wide);
  gsl_matrix_memcpy(Z, Y);
  gsl_matrix_view B = gsl_matrix_submatrix(Z, 0, 3, m, K);
  ir_linalg_chol_apply(L, &B.matrix);
  gsl_matrix *R = gsl_matrix_alloc(m, K);
  gsl_matrix_const_view Yb = gsl_matrix_const_submatrix(Y, 0, 3, m, K);
  gsl_matrix_memcpy(R, &Yb.matrix);
  gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, L, R);
  gsl_blas_dtrsm(CblasLeft, CblasLower, CblasTrans, CblasNonUnit, 1.0, L, R);
  double d = ir_matrix_fro_diff(R, &B.matrix) / ir_matrix_fro(R);
  ck_assert_msg(d <= 100 * DBL_EPSILON * c, "against trsm: %.3g", d);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < wide; j++)
      if (j < 3 || j >= 3 + K)
        ck_assert(gsl_matrix_get(Z, i, j) == gsl_matrix_get(Y, i, j));
  gsl_matrix *GX = gsl_matrix_alloc(m, K);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, G, &B.matrix, 0.0, GX);
  d = ir_matrix_fro_diff(GX, &Yb.matrix) / ir_matrix_fro(&Yb.matrix);
  ck_assert_msg(d <= 100 * DBL_EPSILON * c, "residual %.3g", d);
  gsl_matrix *ms[] = {G, L, one, Y, Z, R, GX};
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++)
    gsl_matrix_free(ms[k]);
}
END_TEST

/* ir_matrix_alloc_big: small ones as gsl_matrix_alloc, large ones on a
 * 2 MiB boundary, all of it writable, released by gsl_matrix_free (the
 * sanitizer and valgrind builds check the release). */
START_TEST(test_alloc_big) {
  const size_t shapes[3][2] = {{3, 5}, {600, 300}, {1000, 1000}};
  for (int k = 0; k < 3; k++) {
    gsl_matrix *M = ir_matrix_alloc_big(shapes[k][0], shapes[k][1]);
    ck_assert_ptr_nonnull(M);
    ck_assert_uint_eq(M->size1, shapes[k][0]);
    ck_assert_uint_eq(M->tda, shapes[k][1]);
    if (k > 0)
      ck_assert_uint_eq((uintptr_t)M->data % ((uintptr_t)2 << 20), 0);
    gsl_matrix_set_all(M, 1.5);
    ck_assert(gsl_matrix_get(M, M->size1 - 1, M->size2 - 1) == 1.5);
    gsl_matrix_free(M);
  }
  ck_assert_ptr_null(ir_matrix_alloc_big(0, 4));
  ck_assert_ptr_null(ir_matrix_alloc_big(SIZE_MAX / 4, 4));
}
END_TEST

static Suite *linalg_suite(void) {
  Suite *s = suite_create("linalg");
  TCase *tc = tcase_create("normal");
  tcase_add_test(tc, test_svd_wide);
  tcase_add_test(tc, test_spd_solve_heap);
  tcase_add_test(tc, test_chol_apply_view);
  tcase_add_test(tc, test_alloc_big);
  tcase_add_test(tc, test_svd_square);
  tcase_add_test(tc, test_svd_tall);
  tcase_add_test(tc, test_svd_large);
  tcase_add_test(tc, test_svd_submatrix_view);
  tcase_add_test(tc, test_svd_rank_deficient);
  tcase_add_test(tc, test_svd_workspace_reuse);
  tcase_add_loop_test(tc, test_eigen_vs_gsl, 0, 2);
  tcase_add_loop_test(tc, test_eigen_known_spectrum, 0, 2);
  tcase_add_test(tc, test_gram_both);
  tcase_add_test(tc, test_gram_view);
  tcase_add_test(tc, test_fro_vs_naive);
  tcase_add_test(tc, test_fro_diff);
  suite_add_tcase(s, tc);

  tc = tcase_create("edge");
  tcase_add_test(tc, test_svd_1x1);
  tcase_add_test(tc, test_svd_row_and_column);
  tcase_add_test(tc, test_svd_zero);
  tcase_add_test(tc, test_svd_extreme_scale);
  tcase_add_test(tc, test_eigen_lower_triangle_only);
  tcase_add_test(tc, test_eigen_1x1_and_view);
  tcase_add_test(tc, test_fro_extreme);
  tcase_add_test(tc, test_fro_nonfinite);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_svd_nonfinite);
  tcase_add_test(tc, test_svd_shape);
  tcase_add_test(tc, test_eigen_errors);
  tcase_add_test(tc, test_gram_shape);
  tcase_add_test(tc, test_lstsq_qr);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(linalg_suite());
}
