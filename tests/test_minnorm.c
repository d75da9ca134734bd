/* test_minnorm.c — minimum-norm least squares against independent routes
 * (Cholesky of XXᵀ, GSL's Householder QR, LU, the factored closed form
 * (AB)⁺ = B⁺A⁺, truncated SVDs built from known factors) and against the
 * defining properties of the pseudo-inverse (row space, normal equations,
 * the four Moore–Penrose conditions, minimality).
 *
 * Tolerances.  We follow the convention of LAPACK's test suite: an error is
 * divided by max(n, p)·eps times the scale the theory predicts, and that
 * ratio must stay below THRESH = 30 (LAPACK TESTING/dtest.in).  The scales:
 *   - a backward-stable solve of the min-norm problem through the SVD or the
 *     COD has forward error O(eps·κ) for consistent systems and O(eps·κ²)
 *     when the residual is not small (Golub & Van Loan §5.3.8, Wedin 1973);
 *   - the normal-equation routes (Cholesky of XᵀX or XXᵀ) square the
 *     condition number, so their forward error is O(eps·κ²);
 * where κ = s_max/s_min (of the kept part), computed in this file from the
 * eigenvalues of the Gram matrix by GSL's eigensolver, not by the library.
 */
#include "implreg/minnorm.h"

#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_sort_vector.h>
#include <math.h>
#include <string.h>

#define EPS DBL_EPSILON
/* LAPACK's test threshold for normalized error ratios. */
#define THRESH 30.0

static double dmax(size_t n, size_t p) {
  return (double)(n > p ? n : p);
}

/* C = op(A) op(B), newly allocated. */
static gsl_matrix *mul(CBLAS_TRANSPOSE_t ta, const gsl_matrix *A,
                       CBLAS_TRANSPOSE_t tb, const gsl_matrix *B) {
  size_t m = ta == CblasNoTrans ? A->size1 : A->size2;
  size_t k = tb == CblasNoTrans ? B->size2 : B->size1;
  gsl_matrix *C = gsl_matrix_alloc(m, k);
  gsl_blas_dgemm(ta, tb, 1.0, A, B, 0.0, C);
  return C;
}

static gsl_matrix *identity(size_t n) {
  gsl_matrix *I = gsl_matrix_alloc(n, n);
  gsl_matrix_set_identity(I);
  return I;
}

static double fro(const gsl_matrix *A) {
  double s = 0;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++)
      s += gsl_matrix_get(A, i, j) * gsl_matrix_get(A, i, j);
  return sqrt(s);
}

/* ‖A − B‖_F. */
static double fro_diff(const gsl_matrix *A, const gsl_matrix *B) {
  double s = 0;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++) {
      double d = gsl_matrix_get(A, i, j) - gsl_matrix_get(B, i, j);
      s += d * d;
    }
  return sqrt(s);
}

/* The r largest singular values of X, as square roots of the eigenvalues of
 * the smaller Gram matrix computed by GSL's symmetric QR algorithm, and the
 * condition number s_1/s_r of the rank-r part.  Independent of the library;
 * accurate enough for a tolerance (relative error O(eps·κ²) in s_r²). */
static double cond_r(const gsl_matrix *X, size_t r) {
  const size_t n = X->size1, p = X->size2;
  gsl_matrix *G = n >= p ? mul(CblasTrans, X, CblasNoTrans, X)
                         : mul(CblasNoTrans, X, CblasTrans, X);
  const size_t k = G->size1;
  gsl_vector *ev = gsl_vector_alloc(k);
  gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(k);
  ck_assert_int_eq(gsl_eigen_symm(G, ev, w), 0);
  gsl_sort_vector(ev);
  double c = sqrt(gsl_vector_get(ev, k - 1) / gsl_vector_get(ev, k - r));
  gsl_eigen_symm_free(w);
  gsl_vector_free(ev);
  gsl_matrix_free(G);
  return c;
}

static double cond_full(const gsl_matrix *X) {
  return cond_r(X, X->size1 < X->size2 ? X->size1 : X->size2);
}

/* Solves G Z = B for symmetric positive definite G by GSL's Cholesky
 * (G is copied). */
static gsl_matrix *chol_solve(const gsl_matrix *G, const gsl_matrix *B) {
  gsl_matrix *L = gsl_matrix_alloc(G->size1, G->size2);
  gsl_matrix_memcpy(L, G);
  ck_assert_int_eq(gsl_linalg_cholesky_decomp1(L), 0);
  gsl_matrix *Z = gsl_matrix_alloc(B->size1, B->size2);
  ck_assert_int_eq(gsl_linalg_cholesky_solve_mat(L, B, Z), 0);
  gsl_matrix_free(L);
  return Z;
}

/* The min-norm interpolator of a full-row-rank X (n < p):
 * W = Xᵀ (XXᵀ)⁻¹ Y. */
static gsl_matrix *wide_reference(const gsl_matrix *X, const gsl_matrix *Y) {
  gsl_matrix *G = mul(CblasNoTrans, X, CblasTrans, X);
  gsl_matrix *A = chol_solve(G, Y);
  gsl_matrix *W = mul(CblasTrans, X, CblasNoTrans, A);
  gsl_matrix_free(A);
  gsl_matrix_free(G);
  return W;
}

/* The least-squares solution of a full-column-rank X (n >= p) by GSL's
 * Householder QR, column by column. */
static gsl_matrix *tall_reference(const gsl_matrix *X, const gsl_matrix *Y) {
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  gsl_matrix *QR = gsl_matrix_alloc(n, p);
  gsl_matrix_memcpy(QR, X);
  gsl_vector *tau = gsl_vector_alloc(p);
  ck_assert_int_eq(gsl_linalg_QR_decomp(QR, tau), 0);
  gsl_matrix *W = gsl_matrix_alloc(p, K);
  gsl_vector *x = gsl_vector_alloc(p), *res = gsl_vector_alloc(n);
  for (size_t k = 0; k < K; k++) {
    gsl_vector_const_view b = gsl_matrix_const_column(Y, k);
    ck_assert_int_eq(gsl_linalg_QR_lssolve(QR, tau, &b.vector, x, res), 0);
    gsl_matrix_set_col(W, k, x);
  }
  gsl_vector_free(x);
  gsl_vector_free(res);
  gsl_vector_free(tau);
  gsl_matrix_free(QR);
  return W;
}

/* An n×k matrix with orthonormal columns: the first k columns of Q in the
 * QR factorization of a Gaussian n×k matrix. */
static gsl_matrix *orthonormal(size_t n, size_t k, unsigned long seed) {
  gsl_matrix *G = ir_test_gaussian(n, k, seed);
  gsl_vector *tau = gsl_vector_alloc(k);
  gsl_linalg_QR_decomp(G, tau);
  gsl_matrix *Q = gsl_matrix_alloc(n, n), *R = gsl_matrix_alloc(n, k);
  gsl_linalg_QR_unpack(G, tau, Q, R);
  gsl_matrix *U = gsl_matrix_alloc(n, k);
  gsl_matrix_const_view Qk = gsl_matrix_const_submatrix(Q, 0, 0, n, k);
  gsl_matrix_memcpy(U, &Qk.matrix);
  gsl_matrix_free(Q);
  gsl_matrix_free(R);
  gsl_vector_free(tau);
  gsl_matrix_free(G);
  return U;
}

/* X = A B with A n×r and B r×p Gaussian: rank r exactly in exact
 * arithmetic.  A and B are returned for the closed form (AB)⁺ = B⁺A⁺, which
 * holds because A has full column rank and B full row rank. */
static gsl_matrix *low_rank(size_t n, size_t p, size_t r, unsigned long seed,
                            gsl_matrix **Aout, gsl_matrix **Bout) {
  gsl_matrix *A = ir_test_gaussian(n, r, seed);
  gsl_matrix *B = ir_test_gaussian(r, p, seed + 1);
  gsl_matrix *X = mul(CblasNoTrans, A, CblasNoTrans, B);
  *Aout = A;
  *Bout = B;
  return X;
}

/* B⁺A⁺Y = Bᵀ(BBᵀ)⁻¹ (AᵀA)⁻¹ AᵀY. */
static gsl_matrix *factored_reference(const gsl_matrix *A, const gsl_matrix *B,
                                      const gsl_matrix *Y) {
  gsl_matrix *AtA = mul(CblasTrans, A, CblasNoTrans, A);
  gsl_matrix *AtY = mul(CblasTrans, A, CblasNoTrans, Y);
  gsl_matrix *Z1 = chol_solve(AtA, AtY);
  gsl_matrix *BBt = mul(CblasNoTrans, B, CblasTrans, B);
  gsl_matrix *Z2 = chol_solve(BBt, Z1);
  gsl_matrix *W = mul(CblasTrans, B, CblasNoTrans, Z2);
  gsl_matrix_free(AtA);
  gsl_matrix_free(AtY);
  gsl_matrix_free(Z1);
  gsl_matrix_free(BBt);
  gsl_matrix_free(Z2);
  return W;
}

/* The orthogonal projector onto the row space of a full-row-rank M (r×p):
 * Mᵀ(MMᵀ)⁻¹M. */
static gsl_matrix *row_projector(const gsl_matrix *M) {
  gsl_matrix *G = mul(CblasNoTrans, M, CblasTrans, M);
  gsl_matrix *Z = chol_solve(G, M);
  gsl_matrix *P = mul(CblasTrans, M, CblasNoTrans, Z);
  gsl_matrix_free(G);
  gsl_matrix_free(Z);
  return P;
}

static gsl_matrix *solve(const gsl_matrix *X, const gsl_matrix *Y, int method,
                         double rcond, ir_minnorm_diag *d) {
  gsl_matrix *W = gsl_matrix_alloc(X->size2, Y->size2);
  IR_ASSERT_OK(ir_minnorm_solve(X, Y, method, rcond, 1e-6, W, d));
  return W;
}

/* ---- normal: against independent routes --------------------------------- */

START_TEST(test_wide_vs_cholesky) {
  /* n < p, full row rank: the SVD solution interpolates and equals
   * Xᵀ(XXᵀ)⁻¹Y.  The Cholesky route has forward error O(eps·κ²), which
   * dominates: rtol = THRESH·max(n,p)·eps·κ². */
  const size_t n = 60, p = 150, K = 3;
  gsl_matrix *X = ir_test_gaussian(n, p, 101), *Y = ir_test_gaussian(n, K, 102);
  const double kappa = cond_full(X);
  ir_minnorm_diag d;
  gsl_matrix *W = solve(X, Y, IR_MINNORM_SVD, -1, &d);
  gsl_matrix *R = wide_reference(X, Y);
  double rtol = THRESH * dmax(n, p) * EPS * kappa * kappa;
  double e = ir_test_reldiff(W, R);
  ck_assert_msg(e <= rtol, "rel. error %.3g > %.3g (kappa %.3g)", e, rtol,
                kappa);
  /* It interpolates: the residual of a backward-stable solution is
   * O(eps·‖X‖·‖W‖), independent of κ. */
  ck_assert_uint_eq(d.rank, n);
  ck_assert_msg(d.residual <= THRESH * dmax(n, p) * EPS * fro(X) * fro(W),
                "residual %.3g", d.residual);
  IR_ASSERT_CLOSE(d.norm, fro(W), 4 * EPS * dmax(p, K), 0.0);
  gsl_matrix_free(W);
  gsl_matrix_free(R);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_tall_vs_qr) {
  /* n > p, full column rank, Y not in the column space: the least-squares
   * problem has sensitivity κ + κ²·‖r‖/(‖X‖‖W‖) <= κ + κ² (G&VL 5.3.8), so
   * rtol = THRESH·max(n,p)·eps·(κ + κ²). */
  const size_t n = 150, p = 60, K = 3;
  gsl_matrix *X = ir_test_gaussian(n, p, 111), *Y = ir_test_gaussian(n, K, 112);
  const double kappa = cond_full(X);
  ir_minnorm_diag d;
  gsl_matrix *W = solve(X, Y, IR_MINNORM_SVD, -1, &d);
  gsl_matrix *R = tall_reference(X, Y);
  double rtol = THRESH * dmax(n, p) * EPS * (kappa + kappa * kappa);
  double e = ir_test_reldiff(W, R);
  ck_assert_msg(e <= rtol, "rel. error %.3g > %.3g", e, rtol);
  ck_assert_uint_eq(d.rank, p);
  /* The reported residual is ‖XW − Y‖_F computed directly. */
  gsl_matrix *Res = mul(CblasNoTrans, X, CblasNoTrans, W);
  gsl_matrix_sub(Res, Y);
  IR_ASSERT_CLOSE(d.residual, fro(Res), THRESH * dmax(n, K) * EPS, 0.0);
  IR_ASSERT_CLOSE(d.rel_residual, fro(Res) / fro(Y), THRESH * dmax(n, K) * EPS,
                  0.0);
  gsl_matrix_free(Res);
  gsl_matrix_free(W);
  gsl_matrix_free(R);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_square_vs_lu) {
  /* n = p, well conditioned: X = 3I + G/√n has its spectrum in a disc of
   * radius ~1 around 3 (circular law), so κ is a small number.  Then
   * X⁺ = X⁻¹ and the LU solve (forward error O(eps·κ)) is a reference:
   * rtol = THRESH·n·eps·κ. */
  const size_t n = 80, K = 3;
  gsl_matrix *X = ir_test_gaussian(n, n, 121), *Y = ir_test_gaussian(n, K, 122);
  gsl_matrix_scale(X, 1.0 / sqrt((double)n));
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(X, i, i, gsl_matrix_get(X, i, i) + 3.0);
  const double kappa = cond_full(X);
  ck_assert(kappa < 10);
  gsl_matrix *LU = gsl_matrix_alloc(n, n);
  gsl_matrix_memcpy(LU, X);
  gsl_permutation *perm = gsl_permutation_alloc(n);
  int sgn;
  gsl_linalg_LU_decomp(LU, perm, &sgn);
  gsl_matrix *R = gsl_matrix_alloc(n, K);
  gsl_vector *x = gsl_vector_alloc(n);
  for (size_t k = 0; k < K; k++) {
    gsl_vector_const_view b = gsl_matrix_const_column(Y, k);
    gsl_linalg_LU_solve(LU, perm, &b.vector, x);
    gsl_matrix_set_col(R, k, x);
  }
  const double rtol = THRESH * (double)n * EPS * kappa;
  const int methods[] = {IR_MINNORM_SVD, IR_MINNORM_COD, IR_MINNORM_GRAM};
  for (size_t m = 0; m < 3; m++) {
    gsl_matrix *W = solve(X, Y, methods[m], -1, NULL);
    /* The Gram route squares κ. */
    double t = methods[m] == IR_MINNORM_GRAM ? rtol * kappa : rtol;
    double e = ir_test_reldiff(W, R);
    ck_assert_msg(e <= t, "method %s: rel. error %.3g > %.3g",
                  ir_minnorm_method_name(methods[m]), e, t);
    gsl_matrix_free(W);
  }
  gsl_vector_free(x);
  gsl_matrix_free(R);
  gsl_permutation_free(perm);
  gsl_matrix_free(LU);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* ---- normal: defining properties ------------------------------------------
 */

/* Checks, for the SVD solution W of min ‖XW − Y‖ with P the (independently
 * formed) projector onto the row space of X:
 *  (a) W lies in the row space: ‖(I − P)W‖ <= tol_P·‖W‖, where
 *      tol_P = THRESH·max(n,p)·eps·κ²: the computed right singular subspace
 *      is within eps·κ of the exact one (Wedin) and P, formed by Cholesky of
 *      a Gram matrix, within eps·κ² of the exact projector;
 *  (b) the normal equations Xᵀ(XW − Y) = 0 hold to the backward error:
 *      W is the exact solution for some X + E with ‖E‖ <= c·eps·‖X‖, so
 *      ‖Xᵀ(XW − Y)‖ <= c·eps·‖X‖(‖X‖‖W‖ + ‖XW − Y‖), κ-free;
 *  (c) minimality: for z = (I − P)g (a null-space direction), W + z has
 *      the same residual (to ‖Xz‖, which is tol_P-small) and norm²
 *      ‖W‖² + ‖z‖² (Pythagoras, W ⊥ null(X)), so it is strictly longer.
 * P == NULL means the row space is all of R^p (full column rank): (a) and
 * (c) are vacuous then. */
static void check_properties(const gsl_matrix *X, const gsl_matrix *Y,
                             const gsl_matrix *W, const gsl_matrix *P,
                             double kappa, unsigned long seed) {
  const size_t n = X->size1, p = X->size2, K = Y->size2;
  const double c = THRESH * dmax(n, p) * EPS;
  const double tolP = c * kappa * kappa;
  gsl_matrix *R = mul(CblasNoTrans, X, CblasNoTrans, W);
  gsl_matrix_sub(R, Y);
  const double rn = fro(R);
  gsl_matrix *N = mul(CblasTrans, X, CblasNoTrans, R);
  double ne = fro(N), bound = c * fro(X) * (fro(X) * fro(W) + rn);
  ck_assert_msg(ne <= bound, "normal equations: %.3g > %.3g", ne, bound);
  gsl_matrix_free(N);
  if (P != NULL) {
    gsl_matrix *PW = mul(CblasNoTrans, P, CblasNoTrans, W);
    double off = fro_diff(PW, W);
    ck_assert_msg(off <= tolP * fro(W), "outside row space: %.3g > %.3g", off,
                  tolP * fro(W));
    gsl_matrix_free(PW);

    gsl_matrix *G = ir_test_gaussian(p, K, seed);
    const double ng = fro(G);
    gsl_matrix *PG = mul(CblasNoTrans, P, CblasNoTrans, G);
    gsl_matrix_sub(G, PG); /* G ← (I − P)G: a null-space direction */
    gsl_matrix *Wz = gsl_matrix_alloc(p, K);
    gsl_matrix_memcpy(Wz, W);
    gsl_matrix_add(Wz, G);
    const double nw = fro(W), nz = fro(G), nwz = fro(Wz);
    ck_assert(nwz > nw);
    /* |‖W + z‖² − ‖W‖² − ‖z‖²| = 2|⟨W, z⟩| <= 2·tolP·‖W‖·‖g‖, and
     * ‖W‖² + ‖z‖² >= 2‖W‖‖z‖, so the relative defect is at most
     * 2·tolP·‖g‖/‖z‖. */
    IR_ASSERT_CLOSE(nwz * nwz, nw * nw + nz * nz, 2 * tolP * ng / nz, 0.0);
    gsl_matrix *Rz = mul(CblasNoTrans, X, CblasNoTrans, Wz);
    gsl_matrix_sub(Rz, Y);
    /* ‖X z‖ <= ‖X‖·tolP·‖g‖ (z is null to the accuracy of P), plus the
     * rounding of the two residuals. */
    IR_ASSERT_CLOSE(fro(Rz), rn, 0.0,
                    tolP * fro(X) * ng + c * (fro(Y) + fro(X) * nwz));
    gsl_matrix_free(Rz);
    gsl_matrix_free(Wz);
    gsl_matrix_free(PG);
    gsl_matrix_free(G);
  }
  gsl_matrix_free(R);
}

START_TEST(test_properties_wide) {
  const size_t n = 40, p = 90, K = 3;
  gsl_matrix *X = ir_test_gaussian(n, p, 131), *Y = ir_test_gaussian(n, K, 132);
  gsl_matrix *W = solve(X, Y, IR_MINNORM_SVD, -1, NULL);
  gsl_matrix *P = row_projector(X);
  check_properties(X, Y, W, P, cond_full(X), 133);
  gsl_matrix_free(P);
  gsl_matrix_free(W);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_properties_tall) {
  const size_t n = 90, p = 40, K = 3;
  gsl_matrix *X = ir_test_gaussian(n, p, 141), *Y = ir_test_gaussian(n, K, 142);
  gsl_matrix *W = solve(X, Y, IR_MINNORM_SVD, -1, NULL);
  check_properties(X, Y, W, NULL, cond_full(X), 143);
  gsl_matrix_free(W);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_properties_rank_deficient) {
  /* Rank 10 of 30×50: the row space is that of B, projector Bᵀ(BBᵀ)⁻¹B;
   * κ is that of the rank-10 part. */
  gsl_matrix *A, *B;
  gsl_matrix *X = low_rank(30, 50, 10, 151, &A, &B);
  gsl_matrix *Y = ir_test_gaussian(30, 3, 153);
  const int methods[] = {IR_MINNORM_SVD, IR_MINNORM_COD};
  gsl_matrix *P = row_projector(B);
  for (size_t m = 0; m < 2; m++) {
    gsl_matrix *W = solve(X, Y, methods[m], -1, NULL);
    check_properties(X, Y, W, P, cond_r(X, 10), 154);
    gsl_matrix_free(W);
  }
  gsl_matrix_free(P);
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* The four Moore–Penrose conditions for Xp = X⁺ obtained by solving with
 * Y = I_n.  If X̂⁺ is the exact pseudo-inverse of X + E (rank r, ‖E‖ <=
 * c·eps·‖X‖), then
 *   X X̂⁺ X − X      = O(‖E‖)             (relative to ‖X‖),
 *   X̂⁺ X X̂⁺ − X̂⁺    = −X̂⁺ E X̂⁺ = O(eps·κ·‖X̂⁺‖),
 *   X X̂⁺ − (X X̂⁺)ᵀ  = O(‖E‖/s_r) = O(eps·κ),   and the same for X̂⁺X,
 * and forming the triple products in floating point adds eps·κ·(scale).
 * So every condition is checked with THRESH·max(n,p)·eps·κ times its
 * scale. */
static void check_penrose(const gsl_matrix *X, int method, double kappa) {
  const size_t n = X->size1, p = X->size2;
  const double t = THRESH * dmax(n, p) * EPS * kappa;
  gsl_matrix *I = identity(n);
  gsl_matrix *Xp = solve(X, I, method, -1, NULL);
  gsl_matrix *XXp = mul(CblasNoTrans, X, CblasNoTrans, Xp);
  gsl_matrix *XpX = mul(CblasNoTrans, Xp, CblasNoTrans, X);
  gsl_matrix *XXpX = mul(CblasNoTrans, XXp, CblasNoTrans, X);
  gsl_matrix *XpXXp = mul(CblasNoTrans, Xp, CblasNoTrans, XXp);
  double e1 = fro_diff(XXpX, X) / fro(X);
  double e2 = fro_diff(XpXXp, Xp) / fro(Xp);
  gsl_matrix *T = gsl_matrix_alloc(n, n);
  gsl_matrix_transpose_memcpy(T, XXp);
  double e3 = fro_diff(T, XXp) / fro(XXp);
  gsl_matrix_free(T);
  T = gsl_matrix_alloc(p, p);
  gsl_matrix_transpose_memcpy(T, XpX);
  double e4 = fro_diff(T, XpX) / fro(XpX);
  gsl_matrix_free(T);
  ck_assert_msg(e1 <= t && e2 <= t && e3 <= t && e4 <= t,
                "%s: Penrose defects %.3g %.3g %.3g %.3g > %.3g",
                ir_minnorm_method_name(method), e1, e2, e3, e4, t);
  gsl_matrix_free(XXpX);
  gsl_matrix_free(XpXXp);
  gsl_matrix_free(XXp);
  gsl_matrix_free(XpX);
  gsl_matrix_free(Xp);
  gsl_matrix_free(I);
}

START_TEST(test_moore_penrose) {
  gsl_matrix *X = ir_test_gaussian(30, 50, 161);
  check_penrose(X, IR_MINNORM_SVD, cond_full(X));
  check_penrose(X, IR_MINNORM_COD, cond_full(X));
  gsl_matrix_free(X);
  X = ir_test_gaussian(50, 30, 162);
  check_penrose(X, IR_MINNORM_SVD, cond_full(X));
  check_penrose(X, IR_MINNORM_COD, cond_full(X));
  gsl_matrix_free(X);
  gsl_matrix *A, *B;
  X = low_rank(30, 50, 10, 163, &A, &B);
  check_penrose(X, IR_MINNORM_SVD, cond_r(X, 10));
  check_penrose(X, IR_MINNORM_COD, cond_r(X, 10));
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(X);
}
END_TEST

/* ---- normal: rank deficiency, cutoffs -------------------------------------
 */

static void rank_deficient_case(size_t n, size_t p, size_t r,
                                unsigned long seed) {
  /* X = A B of rank r.  The closed form X⁺ = B⁺A⁺ gives an independent
   * reference.  Its error is O(eps·(κ(A)² + κ(B)²)) (two Cholesky solves),
   * the truncated SVD and COD solutions are O(eps·κ_r²) away from (AB)⁺Y
   * (the rounding of the product AB is a perturbation of size
   * eps·‖A‖‖B‖ <= eps·κ(A)κ(B)·‖X‖ that the truncation removes), so
   * rtol = THRESH·max(n,p)·eps·(κ(A)·κ(B))² covers all of them. */
  gsl_matrix *A, *B;
  gsl_matrix *X = low_rank(n, p, r, seed, &A, &B);
  gsl_matrix *Y = ir_test_gaussian(n, 3, seed + 7);
  const double kab = cond_full(A) * cond_full(B);
  const double rtol = THRESH * dmax(n, p) * EPS * kab * kab;
  gsl_matrix *R = factored_reference(A, B, Y);
  ir_minnorm_diag ds, dc;
  gsl_matrix *Ws = solve(X, Y, IR_MINNORM_SVD, -1, &ds);
  gsl_matrix *Wc = solve(X, Y, IR_MINNORM_COD, -1, &dc);
  ck_assert_uint_eq(ds.rank, r);
  ck_assert_uint_eq(dc.rank, r);
  double es = ir_test_reldiff(Ws, R), ec = ir_test_reldiff(Wc, R),
         esc = ir_test_reldiff(Ws, Wc);
  ck_assert_msg(es <= rtol && ec <= rtol && esc <= rtol,
                "%zux%zu rank %zu: svd %.3g, cod %.3g, svd-cod %.3g > %.3g", n,
                p, r, es, ec, esc, rtol);
  /* The Gram method must refuse, pointing at the SVD. */
  gsl_matrix *Wg = gsl_matrix_alloc(p, 3);
  ir_error_clear();
  ck_assert_int_eq(ir_minnorm_solve(X, Y, IR_MINNORM_GRAM, -1, 1e-6, Wg, NULL),
                   IR_ESING);
  ck_assert_msg(strstr(ir_error_message(), "--method svd") != NULL,
                "message: %s", ir_error_message());
  gsl_matrix_free(Wg);
  gsl_matrix_free(Ws);
  gsl_matrix_free(Wc);
  gsl_matrix_free(R);
  gsl_matrix_free(A);
  gsl_matrix_free(B);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}

START_TEST(test_rank_deficient_wide) {
  rank_deficient_case(30, 50, 10, 171);
}
END_TEST

START_TEST(test_rank_deficient_tall) {
  rank_deficient_case(50, 30, 10, 172);
}
END_TEST

START_TEST(test_rcond_truncation) {
  /* X = U diag(1, 1e-6, 1e-12) Vᵀ with U (5×3) and V (7×3) orthonormal.
   * The cutoff keeps s_i > rcond·s_max: rank 3, 2, 1 for rcond = 1e-13,
   * 1e-9, 1e-3, and the solution is the truncated-SVD closed form
   * W_r = Σ_{i<r} v_i (u_iᵀY)/s_i.  Forming X rounds it by ~eps·‖X‖, which
   * perturbs W_r by O(eps·s_1/s_r) relatively (pseudo-inverse perturbation
   * with the rank preserved, Wedin), so rtol = THRESH·max(n,p)·eps·s_1/s_r. */
  const size_t n = 5, p = 7, K = 2;
  const double sv[3] = {1.0, 1e-6, 1e-12};
  const double rconds[3] = {1e-13, 1e-9, 1e-3};
  const size_t ranks[3] = {3, 2, 1};
  gsl_matrix *U = orthonormal(n, 3, 181), *V = orthonormal(p, 3, 182);
  gsl_matrix *US = gsl_matrix_alloc(n, 3);
  gsl_matrix_memcpy(US, U);
  for (size_t j = 0; j < 3; j++) {
    gsl_vector_view c = gsl_matrix_column(US, j);
    gsl_vector_scale(&c.vector, sv[j]);
  }
  gsl_matrix *X = mul(CblasNoTrans, US, CblasTrans, V);
  gsl_matrix *Y = ir_test_gaussian(n, K, 183);
  gsl_matrix *UtY = mul(CblasTrans, U, CblasNoTrans, Y);

  ir_minnorm *w = ir_minnorm_alloc(n, p, K);
  ck_assert_ptr_nonnull(w);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
  gsl_matrix *W = gsl_matrix_alloc(p, K), *R = gsl_matrix_alloc(p, K);
  for (size_t t = 0; t < 3; t++) {
    const size_t r = ranks[t];
    ck_assert_uint_eq(ir_minnorm_rank(w, rconds[t]), r);
    IR_ASSERT_OK(ir_minnorm_pinv(w, rconds[t], W));
    gsl_matrix_set_zero(R);
    for (size_t i = 0; i < r; i++)
      for (size_t a = 0; a < p; a++)
        for (size_t k = 0; k < K; k++)
          gsl_matrix_set(R, a, k,
                         gsl_matrix_get(R, a, k) +
                             gsl_matrix_get(V, a, i) *
                                 gsl_matrix_get(UtY, i, k) / sv[i]);
    const double kr = sv[0] / sv[r - 1];
    const double rtol = THRESH * dmax(n, p) * EPS * kr;
    double e = ir_test_reldiff(W, R);
    ck_assert_msg(e <= rtol, "rank %zu: rel. error %.3g > %.3g", r, e, rtol);

    /* Diagnostics for the same cutoff. */
    ir_minnorm_diag d;
    IR_ASSERT_OK(ir_minnorm_diagnose(w, rconds[t], X, Y, W, &d));
    ck_assert_uint_eq(d.rank, r);
    ck_assert(d.rcond == rconds[t]);
    IR_ASSERT_CLOSE(d.sigma_max, 1.0, THRESH * 7 * EPS, 0.0);
    /* A computed singular value is within c·eps·s_max of the exact one. */
    IR_ASSERT_CLOSE(d.sigma_min_kept, sv[r - 1], 0.0, THRESH * 7 * EPS);
    IR_ASSERT_CLOSE(d.cond, kr, THRESH * 7 * EPS * kr, 0.0);

    /* The one-shot solve makes the same rank decision. */
    ir_minnorm_diag d1;
    gsl_matrix *W1 = solve(X, Y, IR_MINNORM_SVD, rconds[t], &d1);
    ck_assert_uint_eq(d1.rank, r);
    gsl_matrix_free(W1);
  }
  gsl_matrix_free(W);
  gsl_matrix_free(R);
  ir_minnorm_free(w);
  gsl_matrix_free(UtY);
  gsl_matrix_free(Y);
  gsl_matrix_free(X);
  gsl_matrix_free(US);
  gsl_matrix_free(U);
  gsl_matrix_free(V);
}
END_TEST

START_TEST(test_default_rcond) {
  /* The default is eps·max(n, p), as numpy.linalg.lstsq(rcond=None). */
  ck_assert(ir_minnorm_default_rcond(3, 7) == DBL_EPSILON * 7);
  ck_assert(ir_minnorm_default_rcond(9, 2) == DBL_EPSILON * 9);
  /* A diagonal 4×6 matrix has its singular values on the diagonal, and the
   * SVD of a diagonal matrix is exact (every Householder reflector is the
   * identity and the bidiagonal splits at once).  With c = eps·6 the
   * values 1, 0.5, 2c, c/2 straddle the default cutoff c·s_max = c: the
   * default rank is 3. */
  const double c = ir_minnorm_default_rcond(4, 6);
  gsl_matrix *X = gsl_matrix_calloc(4, 6);
  gsl_matrix_set(X, 0, 0, 1.0);
  gsl_matrix_set(X, 1, 1, 0.5);
  gsl_matrix_set(X, 2, 2, 2 * c);
  gsl_matrix_set(X, 3, 3, 0.5 * c);
  ir_minnorm *w = ir_minnorm_alloc(4, 6, 1);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  ck_assert(gsl_vector_get(ir_minnorm_svd(w)->s, 2) == 2 * c);
  ck_assert_uint_eq(ir_minnorm_rank(w, -1), 3);
  ck_assert_uint_eq(ir_minnorm_rank(w, c), 3);
  ck_assert_uint_eq(ir_minnorm_rank(w, 0.0), 4);
  /* The rule is strict, s_i > rcond·s_max: with rcond = 2c the cutoff
   * equals the third singular value exactly (s_max = 1), which is dropped. */
  ck_assert_uint_eq(ir_minnorm_rank(w, 2 * c), 2);
  ir_minnorm_diag d;
  gsl_matrix *Y = ir_test_gaussian(4, 1, 191);
  gsl_matrix *W = solve(X, Y, IR_MINNORM_SVD, -1, &d);
  ck_assert(d.rcond == c);
  ck_assert_uint_eq(d.rank, 3);
  gsl_matrix_free(W);
  gsl_matrix_free(Y);
  ir_minnorm_free(w);
  gsl_matrix_free(X);
}
END_TEST

/* ---- normal: other methods agree ------------------------------------------
 */

START_TEST(test_gram_and_cod_vs_svd) {
  /* Well-conditioned Gaussian problems of both orientations.  COD has the
   * SVD's accuracy, O(eps·(κ + κ²)) in the inconsistent tall case; the Gram
   * method is O(eps·κ²).  So both are compared with
   * rtol = THRESH·max(n,p)·eps·(κ + κ²). */
  const size_t shapes[2][2] = {{50, 120}, {120, 50}};
  for (size_t s = 0; s < 2; s++) {
    const size_t n = shapes[s][0], p = shapes[s][1];
    gsl_matrix *X = ir_test_gaussian(n, p, 201 + s);
    gsl_matrix *Y = ir_test_gaussian(n, 3, 203 + s);
    const double kappa = cond_full(X);
    const double rtol = THRESH * dmax(n, p) * EPS * (kappa + kappa * kappa);
    ir_minnorm_diag ds, dc, dg;
    gsl_matrix *Ws = solve(X, Y, IR_MINNORM_SVD, -1, &ds);
    gsl_matrix *Wc = solve(X, Y, IR_MINNORM_COD, -1, &dc);
    gsl_matrix *Wg = solve(X, Y, IR_MINNORM_GRAM, -1, &dg);
    double ec = ir_test_reldiff(Wc, Ws), eg = ir_test_reldiff(Wg, Ws);
    ck_assert_msg(ec <= rtol, "%zux%zu cod: %.3g > %.3g", n, p, ec, rtol);
    ck_assert_msg(eg <= rtol, "%zux%zu gram: %.3g > %.3g", n, p, eg, rtol);
    ck_assert_int_eq(ds.method, IR_MINNORM_SVD);
    ck_assert_int_eq(dc.method, IR_MINNORM_COD);
    ck_assert_int_eq(dg.method, IR_MINNORM_GRAM);
    ck_assert_uint_eq(dc.rank, n < p ? n : p);
    ck_assert_uint_eq(dg.rank, n < p ? n : p);
    /* The Gram method's cond is the square root of LAPACK's estimate of the
     * 1-norm condition number of the Gram matrix.  κ₁(G) lies within a
     * factor m (the order of G) of κ₂(G) = κ² (norm equivalence), and the
     * estimator returns a lower bound of κ₁ that is rarely off by more than
     * a factor m itself (Higham §15.3), so the estimate lies in
     * [κ²/m², m·κ²] and its square root in [κ/m, κ·sqrt(m)]. */
    const double m = (double)(n < p ? n : p);
    ck_assert_msg(dg.cond >= kappa / m && dg.cond <= kappa * sqrt(m),
                  "gram cond %.3g vs kappa %.3g", dg.cond, kappa);
    IR_ASSERT_CLOSE(ds.cond, kappa, THRESH * dmax(n, p) * EPS * kappa * kappa,
                    0.0);
    gsl_matrix_free(Ws);
    gsl_matrix_free(Wc);
    gsl_matrix_free(Wg);
    gsl_matrix_free(X);
    gsl_matrix_free(Y);
  }
}
END_TEST

START_TEST(test_gram_accuracy_refusal) {
  /* Full rank but κ(X) = 1e6, so κ(Gram) = 1e12 and eps·κ(Gram) ≈ 2.2e-4.
   * Asking for 1e-6 must be refused; asking for 1e-2 must be granted,
   * since the 1-norm estimate is at most m·κ₂ = 10·1e12 (eps times that:
   * 2.2e-3 < 1e-2).  The granted solution is accurate to eps·κ² relative. */
  const size_t n = 10, p = 25, K = 2;
  gsl_matrix *U = orthonormal(n, n, 211), *V = orthonormal(p, n, 212);
  for (size_t j = 0; j < n; j++) {
    gsl_vector_view c = gsl_matrix_column(U, j);
    gsl_vector_scale(&c.vector, pow(10.0, -6.0 * (double)j / (double)(n - 1)));
  }
  gsl_matrix *X = mul(CblasNoTrans, U, CblasTrans, V);
  gsl_matrix *Y = ir_test_gaussian(n, K, 213);
  gsl_matrix *W = gsl_matrix_alloc(p, K);
  ck_assert_int_eq(ir_minnorm_solve(X, Y, IR_MINNORM_GRAM, -1, 1e-6, W, NULL),
                   IR_ESING);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "--method svd"));
  IR_ASSERT_OK(ir_minnorm_solve(X, Y, IR_MINNORM_GRAM, -1, 1e-2, W, NULL));
  gsl_matrix *Ws = solve(X, Y, IR_MINNORM_SVD, -1, NULL);
  const double kappa = 1e6;
  double e = ir_test_reldiff(W, Ws);
  ck_assert_msg(e <= THRESH * dmax(n, p) * EPS * kappa * kappa, "%.3g", e);
  gsl_matrix_free(Ws);
  gsl_matrix_free(W);
  gsl_matrix_free(Y);
  gsl_matrix_free(X);
  gsl_matrix_free(U);
  gsl_matrix_free(V);
}
END_TEST

/* ---- normal: ridge ----------------------------------------------------------
 */

/* (XᵀX + λI)⁻¹XᵀY by GSL's Cholesky. */
static gsl_matrix *ridge_reference(const gsl_matrix *X, const gsl_matrix *Y,
                                   double lambda) {
  gsl_matrix *G = mul(CblasTrans, X, CblasNoTrans, X);
  for (size_t i = 0; i < G->size1; i++)
    gsl_matrix_set(G, i, i, gsl_matrix_get(G, i, i) + lambda);
  gsl_matrix *B = mul(CblasTrans, X, CblasNoTrans, Y);
  gsl_matrix *W = chol_solve(G, B);
  gsl_matrix_free(G);
  gsl_matrix_free(B);
  return W;
}

/* The ridge system matrix XᵀX + λI has condition number
 * κ_λ = (s_max² + λ)/(s_min² + λ), with s_min = 0 when p > n; the Cholesky
 * reference has forward error O(eps·κ_λ) and the SVD formula
 * V diag(s/(s² + λ)) UᵀY is at least as accurate, so
 * rtol = THRESH·max(n,p)·eps·κ_λ. */
static double ridge_rtol(const gsl_matrix *X, double lambda) {
  const size_t n = X->size1, p = X->size2;
  const double kappa = cond_full(X);
  gsl_matrix *G = mul(CblasTrans, X, CblasNoTrans, X);
  gsl_vector *ev = gsl_vector_alloc(p);
  gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(p);
  gsl_eigen_symm(G, ev, ws);
  const double smax2 = gsl_vector_max(ev);
  const double smin2 = p > n ? 0.0 : smax2 / (kappa * kappa);
  gsl_eigen_symm_free(ws);
  gsl_vector_free(ev);
  gsl_matrix_free(G);
  return THRESH * dmax(n, p) * EPS * (smax2 + lambda) / (smin2 + lambda);
}

START_TEST(test_ridge_vs_cholesky) {
  const size_t shapes[2][2] = {{40, 60}, {60, 40}};
  const double lambdas[] = {1e-3, 0.1, 1.0, 10.0, 1e3};
  for (size_t s = 0; s < 2; s++) {
    const size_t n = shapes[s][0], p = shapes[s][1], K = 3;
    gsl_matrix *X = ir_test_gaussian(n, p, 221 + s);
    gsl_matrix *Y = ir_test_gaussian(n, K, 223 + s);
    ir_minnorm *w = ir_minnorm_alloc(n, p, K);
    IR_ASSERT_OK(ir_minnorm_factor(w, X));
    IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
    gsl_matrix *W = gsl_matrix_alloc(p, K);
    for (size_t l = 0; l < 5; l++) {
      IR_ASSERT_OK(ir_minnorm_ridge(w, lambdas[l], W));
      gsl_matrix *R = ridge_reference(X, Y, lambdas[l]);
      double e = ir_test_reldiff(W, R), t = ridge_rtol(X, lambdas[l]);
      ck_assert_msg(e <= t, "%zux%zu lambda %g: %.3g > %.3g", n, p, lambdas[l],
                    e, t);
      gsl_matrix_free(R);
    }
    /* λ = 0 is the pseudo-inverse with the default cutoff: the very same
     * formula, so agreement to rounding of the filter factors (1/s versus
     * s/(s² + 0)), i.e. a few eps. */
    gsl_matrix *P = gsl_matrix_alloc(p, K);
    IR_ASSERT_OK(ir_minnorm_ridge(w, 0.0, W));
    IR_ASSERT_OK(ir_minnorm_pinv(w, -1, P));
    ck_assert(ir_test_reldiff(W, P) <= 4 * EPS);
    gsl_matrix_free(P);
    gsl_matrix_free(W);
    ir_minnorm_free(w);
    gsl_matrix_free(X);
    gsl_matrix_free(Y);
  }
}
END_TEST

START_TEST(test_ridge_path) {
  /* 50 values of λ, log-spaced over 1e-4..1e4, from one factorization:
   * each equals its own Cholesky solve, and ‖W_λ‖ strictly decreases in λ
   * (each SVD component s_i c_i/(s_i² + λ) does). */
  const size_t n = 30, p = 70, K = 3, L = 50;
  gsl_matrix *X = ir_test_gaussian(n, p, 231), *Y = ir_test_gaussian(n, K, 232);
  ir_minnorm *w = ir_minnorm_alloc(n, p, K);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
  gsl_matrix *W = gsl_matrix_alloc(p, K);
  double prev = INFINITY;
  for (size_t l = 0; l < L; l++) {
    double lambda = pow(10.0, -4.0 + 8.0 * (double)l / (double)(L - 1));
    IR_ASSERT_OK(ir_minnorm_ridge(w, lambda, W));
    gsl_matrix *R = ridge_reference(X, Y, lambda);
    double e = ir_test_reldiff(W, R), t = ridge_rtol(X, lambda);
    ck_assert_msg(e <= t, "lambda %g: %.3g > %.3g", lambda, e, t);
    double nw = fro(W);
    ck_assert(nw < prev);
    prev = nw;
    gsl_matrix_free(R);
  }
  gsl_matrix_free(W);
  ir_minnorm_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_ridge_eigen) {
  /* The Gram-eigendecomposition route against the Cholesky reference, in
   * both the dual (n < p) and the primal (n >= p) form.  Eigenvalues of the
   * Gram matrix carry absolute errors ~eps·s_max², so 1/(Λ + λ) is accurate
   * to ~eps·s_max²/λ <= eps·κ_λ relative: the Cholesky reference's own
   * bound.  The two errors add: 2·ridge_rtol. */
  const size_t shapes[3][2] = {{40, 60}, {60, 40}, {50, 50}};
  const double lambdas[] = {1e-3, 0.1, 1.0, 10.0, 1e3};
  for (size_t sh = 0; sh < 3; sh++) {
    const size_t n = shapes[sh][0], p = shapes[sh][1], K = 3;
    gsl_matrix *X = ir_test_gaussian(n, p, 261 + sh);
    gsl_matrix *Y = ir_test_gaussian(n, K, 263 + sh);
    ir_ridge *r = ir_ridge_alloc(n, p, K);
    ck_assert_ptr_nonnull(r);
    gsl_matrix *W = gsl_matrix_alloc(p, K);
    ck_assert_int_eq(ir_ridge_set_rhs(r, Y), IR_EINVAL);
    IR_ASSERT_OK(ir_ridge_factor(r, X));
    IR_ASSERT_OK(ir_ridge_set_rhs(r, Y));
    for (size_t l = 0; l < 5; l++) {
      IR_ASSERT_OK(ir_ridge_solve(r, lambdas[l], W));
      gsl_matrix *R = ridge_reference(X, Y, lambdas[l]);
      double e = ir_test_reldiff(W, R), t = 2 * ridge_rtol(X, lambdas[l]);
      ck_assert_msg(e <= t, "%zux%zu lambda %g: %.3g > %.3g", n, p, lambdas[l],
                    e, t);
      gsl_matrix_free(R);
    }
    /* The whole path in one call: each block equals its own solve (the
     * same arithmetic per entry, a different BLAS blocking: rounding). */
    gsl_matrix *Wp = gsl_matrix_alloc(p, 5 * K);
    IR_ASSERT_OK(ir_ridge_solve_path(r, lambdas, 5, Wp));
    for (size_t l = 0; l < 5; l++) {
      IR_ASSERT_OK(ir_ridge_solve(r, lambdas[l], W));
      gsl_matrix_view B = gsl_matrix_submatrix(Wp, 0, l * K, p, K);
      double e = ir_test_reldiff(&B.matrix, W);
      ck_assert_msg(e <= 100 * (double)(n + p) * EPS, "path block %zu: %.3g",
                    l, e);
    }
    const double bad[2] = {1.0, 0.0};
    ck_assert_int_eq(ir_ridge_solve_path(r, bad, 2, Wp), IR_EDOM);
    ck_assert_int_eq(ir_ridge_solve_path(r, lambdas, 4, Wp), IR_ESHAPE);
    gsl_matrix_free(Wp);
    ck_assert_int_eq(ir_ridge_solve(r, 0.0, W), IR_EDOM);
    ck_assert_int_eq(ir_ridge_solve(r, -1.0, W), IR_EDOM);
    ck_assert_int_eq(ir_ridge_solve(r, NAN, W), IR_EDOM);
    gsl_matrix *Wbad = gsl_matrix_alloc(p + 1, K);
    ck_assert_int_eq(ir_ridge_solve(r, 1.0, Wbad), IR_ESHAPE);
    gsl_matrix_free(Wbad);
    gsl_matrix_free(W);
    ir_ridge_free(r);
    gsl_matrix_free(X);
    gsl_matrix_free(Y);
  }
  ir_ridge_free(NULL);
}
END_TEST

/* Largest eigenvalue of XᵀX (GSL's symmetric QR, independent of the
 * library): ‖X‖₂². */
static double smax2_of(const gsl_matrix *X) {
  gsl_matrix *G = mul(CblasTrans, X, CblasNoTrans, X);
  gsl_vector *ev = gsl_vector_alloc(G->size1);
  gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(G->size1);
  ck_assert_int_eq(gsl_eigen_symm(G, ev, ws), 0);
  const double m = gsl_vector_max(ev);
  gsl_eigen_symm_free(ws);
  gsl_vector_free(ev);
  gsl_matrix_free(G);
  return m;
}

START_TEST(test_ridge_path_tridiagonal) {
  /* ir_ridge_solve_path_resid (tridiagonal reduction of the Gram matrix)
   * against independent per-λ solves: GSL's Cholesky of XᵀX + λI
   * (ridge_reference) and the SVD formula (ir_minnorm_ridge), in the dual
   * (n < p), primal (n > p) and square forms, with X of full rank and of
   * rank r < min(n, p), for λ from 1e-8 to 1e4.  The reduction is backward
   * stable (HTHᵀ = G + E, ‖E‖ ~ m·eps·‖G‖) and the LDLᵀ solve of T + λI
   * too, so W_λ has relative error O(m·eps·κ_λ), κ_λ = (s_max² + λ)/
   * (s_min² + λ) with s_min = 0 when X is wide or rank-deficient — the
   * Cholesky reference's own bound (ridge_rtol); the errors add: 2·rtol.
   * The residuals ‖XW_λ − Y‖_F (from the reduced form, or explicitly where
   * the quadratic form cancels) against ‖XW_ref − Y‖ computed explicitly:
   * ρ is 1-Lipschitz in XW, so they differ by at most ‖X‖₂·‖ΔW‖ plus the
   * rounding of the product. */
  const struct {
    size_t n, p, r; /* r = 0: full rank (Gaussian) */
  } cases[] = {{40, 60, 0}, {60, 40, 0}, {50, 50, 0}, {40, 60, 25},
               {60, 40, 25}, {50, 50, 30}};
  const double lambdas[] = {1e-8, 1e-6, 1e-4, 1e-2, 1.0, 1e2, 1e4};
  const size_t L = sizeof lambdas / sizeof lambdas[0], K = 3;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const size_t n = cases[c].n, p = cases[c].p, rk = cases[c].r;
    gsl_matrix *A = NULL, *B = NULL;
    gsl_matrix *X = rk ? low_rank(n, p, rk, 271 + c, &A, &B)
                       : ir_test_gaussian(n, p, 271 + c);
    gsl_matrix *Y = ir_test_gaussian(n, K, 281 + c);
    const double smax2 = smax2_of(X), smax = sqrt(smax2), ny = fro(Y);
    ir_ridge *r = ir_ridge_alloc(n, p, K);
    ir_minnorm *w = ir_minnorm_alloc(n, p, K);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(w);
    IR_ASSERT_OK(ir_ridge_factor(r, X));
    IR_ASSERT_OK(ir_ridge_set_rhs(r, Y));
    IR_ASSERT_OK(ir_minnorm_factor(w, X));
    IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
    gsl_matrix *Wp = gsl_matrix_alloc(p, L * K), *Ws = gsl_matrix_alloc(p, K);
    gsl_matrix *R = gsl_matrix_alloc(n, K);
    double res[sizeof lambdas / sizeof lambdas[0]];
    IR_ASSERT_OK(ir_ridge_solve_path_resid(r, lambdas, L, Wp, res));
    for (size_t l = 0; l < L; l++) {
      const double lam = lambdas[l];
      const double rtol =
          rk || p > n ? THRESH * dmax(n, p) * EPS * (smax2 + lam) / lam
                      : ridge_rtol(X, lam);
      gsl_matrix_view Wl = gsl_matrix_submatrix(Wp, 0, l * K, p, K);
      gsl_matrix *Wc = ridge_reference(X, Y, lam);
      IR_ASSERT_OK(ir_minnorm_ridge(w, lam, Ws));
      const double ec = ir_test_reldiff(&Wl.matrix, Wc);
      const double es = ir_test_reldiff(&Wl.matrix, Ws);
      ck_assert_msg(ec <= 2 * rtol && es <= 2 * rtol,
                    "%zux%zu rank %zu lambda %g: vs Cholesky %.3g, vs SVD "
                    "%.3g, tol %.3g",
                    n, p, rk, lam, ec, es, 2 * rtol);
      /* Explicit residual of the reference. */
      gsl_matrix_memcpy(R, Y);
      gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, X, Wc, -1.0, R);
      const double rho = fro(R), nw = fro(Wc);
      const double rt = smax * nw * 2 * rtol +
                        THRESH * dmax(n, p) * EPS * (ny + smax * nw);
      ck_assert_msg(fabs(res[l] - rho) <= rt,
                    "%zux%zu rank %zu lambda %g: residual %.17g, explicit "
                    "%.17g, tol %.3g",
                    n, p, rk, lam, res[l], rho, rt);
      /* The single-λ solve is the same computation with a different BLAS
       * blocking: rounding, amplified by κ_λ in the dual form (W = XᵀHu
       * with u ~ 1/λ cancels). */
      IR_ASSERT_OK(ir_ridge_solve(r, lam, Ws));
      ck_assert_msg(ir_test_reldiff(Ws, &Wl.matrix) <=
                        fmax(100 * (double)(n + p) * EPS, 2 * rtol),
                    "%zux%zu lambda %g: single solve differs", n, p, lam);
      gsl_matrix_free(Wc);
    }
    /* Without residuals: the same solutions. */
    gsl_matrix *Wq = gsl_matrix_alloc(p, L * K);
    IR_ASSERT_OK(ir_ridge_solve_path(r, lambdas, L, Wq));
    ck_assert(ir_test_reldiff(Wq, Wp) == 0.0);
    gsl_matrix_free(Wq);
    gsl_matrix_free(R);
    gsl_matrix_free(Ws);
    gsl_matrix_free(Wp);
    ir_minnorm_free(w);
    ir_ridge_free(r);
    gsl_matrix_free(X);
    gsl_matrix_free(Y);
    if (A)
      gsl_matrix_free(A);
    if (B)
      gsl_matrix_free(B);
  }
}
END_TEST

START_TEST(test_ridge_resid_both_routes) {
  /* The primal residual comes from the quadratic form ‖Y‖² − 2⟨b, u⟩ +
   * ⟨u, Tu⟩ unless it cancels; with Y = XB + noise·E the residual shrinks
   * with the noise level, which walks it from the quadratic route (noise
   * 1) into the explicit one (noise 1e-6, residual ~1e-6·‖Y‖ at small λ:
   * ρ² ~ 1e-12 of the terms).  Both must equal ‖XW − Y‖ of the returned W,
   * formed here explicitly, to the rounding of that product. */
  const size_t n = 60, p = 40, K = 2;
  gsl_matrix *X = ir_test_gaussian(n, p, 291);
  gsl_matrix *Bt = ir_test_gaussian(p, K, 292), *E = ir_test_gaussian(n, K, 293);
  const double noise[] = {1.0, 1e-6};
  const double lambdas[] = {1e-6, 1e-2, 1.0};
  const double smax = sqrt(smax2_of(X));
  for (size_t q = 0; q < 2; q++) {
    gsl_matrix *Y = mul(CblasNoTrans, X, CblasNoTrans, Bt);
    gsl_matrix_scale(E, q == 0 ? 1.0 : 1e-6);
    gsl_matrix_add(Y, E);
    gsl_matrix_scale(E, q == 0 ? 1.0 : 1e6);
    ir_ridge *r = ir_ridge_alloc(n, p, K);
    IR_ASSERT_OK(ir_ridge_factor(r, X));
    IR_ASSERT_OK(ir_ridge_set_rhs(r, Y));
    gsl_matrix *Wp = gsl_matrix_alloc(p, 3 * K), *R = gsl_matrix_alloc(n, K);
    double res[3];
    IR_ASSERT_OK(ir_ridge_solve_path_resid(r, lambdas, 3, Wp, res));
    for (size_t l = 0; l < 3; l++) {
      gsl_matrix_view Wl = gsl_matrix_submatrix(Wp, 0, l * K, p, K);
      gsl_matrix_memcpy(R, Y);
      gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, X, &Wl.matrix, -1.0, R);
      const double rho = fro(R);
      /* Quadratic route: relative error of ρ² <= m·eps/1e-3 (the guard),
       * of ρ half that; explicit route: the product's rounding,
       * THRESH·n·eps·(‖Y‖ + ‖X‖‖W‖). */
      const double tq = 0.5 * (double)p * EPS / 1e-3 * rho;
      const double te =
          THRESH * (double)n * EPS * (fro(Y) + smax * fro(&Wl.matrix));
      ck_assert_msg(fabs(res[l] - rho) <= tq + te,
                    "noise %g lambda %g: %.17g vs %.17g (tol %.3g)", noise[q],
                    lambdas[l], res[l], rho, tq + te);
    }
    gsl_matrix_free(R);
    gsl_matrix_free(Wp);
    ir_ridge_free(r);
    gsl_matrix_free(Y);
  }
  gsl_matrix_free(E);
  gsl_matrix_free(Bt);
  gsl_matrix_free(X);
}
END_TEST

START_TEST(test_workspace_many_rhs) {
  /* Factor once, then set two different right-hand sides (K = 3 and K = 1
   * <= Kmax): each solution must equal the Cholesky route Xᵀ(XXᵀ)⁻¹Y for
   * its own right-hand side, to THRESH·max(n,p)·eps·κ² as in
   * test_wide_vs_cholesky (the first right-hand side must not leak into the
   * second solve). */
  const size_t n = 20, p = 45;
  gsl_matrix *X = ir_test_gaussian(n, p, 241);
  gsl_matrix *Y3 = ir_test_gaussian(n, 3, 242),
             *Y1 = ir_test_gaussian(n, 1, 243);
  const double kappa = cond_full(X);
  const double rtol = THRESH * dmax(n, p) * EPS * kappa * kappa;
  ir_minnorm *w = ir_minnorm_alloc(n, p, 3);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  gsl_matrix *W3 = gsl_matrix_alloc(p, 3), *W1 = gsl_matrix_alloc(p, 1);
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y3));
  IR_ASSERT_OK(ir_minnorm_pinv(w, -1, W3));
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y1));
  IR_ASSERT_OK(ir_minnorm_pinv(w, -1, W1));
  /* After switching to K = 1, a 3-column output is a shape error. */
  ck_assert_int_eq(ir_minnorm_pinv(w, -1, W3), IR_ESHAPE);
  gsl_matrix *R3 = wide_reference(X, Y3), *R1 = wide_reference(X, Y1);
  ck_assert(ir_test_reldiff(W3, R3) <= rtol);
  ck_assert(ir_test_reldiff(W1, R1) <= rtol);
  gsl_matrix_free(R3);
  gsl_matrix_free(R1);
  gsl_matrix_free(W3);
  gsl_matrix_free(W1);
  ir_minnorm_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(Y3);
  gsl_matrix_free(Y1);
}
END_TEST

START_TEST(test_nullspace_fraction) {
  /* ‖(I − X⁺X)W‖/‖W‖ against the independent projector P = Xᵀ(XXᵀ)⁻¹X for
   * a full-row-rank 20×50 X and W = PG + (I − P)H: the fraction is
   * ‖(I − P)H‖/‖W‖.  The library's V_r spans the row space to within
   * eps·κ (Wedin) and P is accurate to c·eps·κ², so the two fractions agree
   * to THRESH·max(n,p)·eps·κ² in absolute terms (a fraction is <= 1). */
  const size_t n = 20, p = 50, K = 2;
  gsl_matrix *X = ir_test_gaussian(n, p, 311);
  const double kappa = cond_full(X);
  const double tol = THRESH * dmax(n, p) * EPS * kappa * kappa;
  gsl_matrix *P = row_projector(X);
  gsl_matrix *G = ir_test_gaussian(p, K, 312), *H = ir_test_gaussian(p, K, 313);
  gsl_matrix *Wr = mul(CblasNoTrans, P, CblasNoTrans, G);
  gsl_matrix *PH = mul(CblasNoTrans, P, CblasNoTrans, H);
  gsl_matrix *Wn = gsl_matrix_alloc(p, K);
  gsl_matrix_memcpy(Wn, H);
  gsl_matrix_sub(Wn, PH);
  gsl_matrix *W = gsl_matrix_alloc(p, K);
  gsl_matrix_memcpy(W, Wr);
  gsl_matrix_add(W, Wn);

  ir_minnorm *w = ir_minnorm_alloc(n, p, K);
  /* Before any factorization there is no row space: NAN. */
  ck_assert(isnan(ir_minnorm_nullspace_fraction(w, -1, W)));
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  IR_ASSERT_CLOSE(ir_minnorm_nullspace_fraction(w, -1, Wr), 0.0, 0.0, tol);
  IR_ASSERT_CLOSE(ir_minnorm_nullspace_fraction(w, -1, Wn), 1.0, 0.0, tol);
  IR_ASSERT_CLOSE(ir_minnorm_nullspace_fraction(w, -1, W), fro(Wn) / fro(W),
                  0.0, tol);
  /* The min-norm solution itself lies in the row space. */
  gsl_matrix *Y = ir_test_gaussian(n, K, 314);
  gsl_matrix *Wmn = solve(X, Y, IR_MINNORM_SVD, -1, NULL);
  IR_ASSERT_CLOSE(ir_minnorm_nullspace_fraction(w, -1, Wmn), 0.0, 0.0, tol);
  /* rcond = 1 keeps no direction (s_1 > 1·s_1 is false): everything is
   * outside, exactly. */
  ck_assert(ir_minnorm_nullspace_fraction(w, 1.0, W) == 1.0);
  gsl_matrix *Z = gsl_matrix_calloc(p, K), *Wbad = gsl_matrix_calloc(p + 1, K);
  ck_assert(ir_minnorm_nullspace_fraction(w, -1, Z) == 0.0);
  ck_assert(isnan(ir_minnorm_nullspace_fraction(w, -1, Wbad)));
  gsl_matrix_free(Z);
  gsl_matrix_free(Wbad);
  gsl_matrix_free(Wmn);
  gsl_matrix_free(Y);
  ir_minnorm_free(w);
  gsl_matrix_free(W);
  gsl_matrix_free(Wn);
  gsl_matrix_free(PH);
  gsl_matrix_free(Wr);
  gsl_matrix_free(G);
  gsl_matrix_free(H);
  gsl_matrix_free(P);
  gsl_matrix_free(X);
}
END_TEST

/* ---- edge
 * ---------------------------------------------------------------------- */

START_TEST(test_one_sample) {
  /* n = 1: X = xᵀ (1×p), W = x yᵀ/‖x‖² (closed form).  κ = 1, so every
   * method must agree to THRESH·p·eps. */
  const size_t p = 40, K = 3;
  gsl_matrix *x = ir_test_gaussian(1, p, 251), *Y = ir_test_gaussian(1, K, 252);
  double nx2 = 0;
  for (size_t j = 0; j < p; j++)
    nx2 += gsl_matrix_get(x, 0, j) * gsl_matrix_get(x, 0, j);
  gsl_matrix *R = gsl_matrix_alloc(p, K);
  for (size_t j = 0; j < p; j++)
    for (size_t k = 0; k < K; k++)
      gsl_matrix_set(R, j, k,
                     gsl_matrix_get(x, 0, j) * gsl_matrix_get(Y, 0, k) / nx2);
  const int methods[] = {IR_MINNORM_SVD, IR_MINNORM_COD, IR_MINNORM_GRAM};
  for (size_t m = 0; m < 3; m++) {
    ir_minnorm_diag d;
    gsl_matrix *W = solve(x, Y, methods[m], -1, &d);
    ck_assert_msg(ir_test_reldiff(W, R) <= THRESH * p * EPS, "%s: %.3g",
                  ir_minnorm_method_name(methods[m]), ir_test_reldiff(W, R));
    ck_assert_uint_eq(d.rank, 1);
    gsl_matrix_free(W);
  }
  gsl_matrix_free(R);
  gsl_matrix_free(x);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_one_by_one) {
  gsl_matrix *X = gsl_matrix_alloc(1, 1), *Y = gsl_matrix_alloc(1, 1);
  gsl_matrix_set(X, 0, 0, -4.0);
  gsl_matrix_set(Y, 0, 0, 2.0);
  const int methods[] = {IR_MINNORM_SVD, IR_MINNORM_COD, IR_MINNORM_GRAM};
  for (size_t m = 0; m < 3; m++) {
    gsl_matrix *W = solve(X, Y, methods[m], -1, NULL);
    /* 2/(−4) = −0.5 is exact in binary; allow one rounding per operation. */
    IR_ASSERT_CLOSE(gsl_matrix_get(W, 0, 0), -0.5, 4 * EPS, 0.0);
    gsl_matrix_free(W);
  }
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_zero_matrix) {
  /* X = 0: every singular value is 0, the rank is 0 whatever the cutoff,
   * and W = 0 exactly; the Gram method cannot factor 0 and refuses. */
  gsl_matrix *X = gsl_matrix_calloc(8, 12), *Y = ir_test_gaussian(8, 3, 261);
  ir_minnorm_diag d;
  gsl_matrix *W = solve(X, Y, IR_MINNORM_SVD, -1, &d);
  ck_assert(gsl_matrix_isnull(W));
  ck_assert_uint_eq(d.rank, 0);
  ck_assert(d.sigma_max == 0.0);
  IR_ASSERT_CLOSE(d.residual, fro(Y), 4 * EPS * 24, 0.0);
  gsl_matrix_free(W);
  W = solve(X, Y, IR_MINNORM_SVD, 0.0, &d);
  ck_assert(gsl_matrix_isnull(W));
  ck_assert_uint_eq(d.rank, 0);
  gsl_matrix_free(W);
  W = solve(X, Y, IR_MINNORM_COD, -1, &d);
  ck_assert(gsl_matrix_isnull(W));
  ck_assert_uint_eq(d.rank, 0);
  ck_assert_int_eq(ir_minnorm_solve(X, Y, IR_MINNORM_GRAM, -1, 1e-6, W, NULL),
                   IR_ESING);
  /* Ridge of the zero matrix is 0 for every λ > 0. */
  ir_minnorm *w = ir_minnorm_alloc(8, 12, 3);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
  IR_ASSERT_OK(ir_minnorm_ridge(w, 1.0, W));
  ck_assert(gsl_matrix_isnull(W));
  ir_minnorm_free(w);
  gsl_matrix_free(W);
  /* Y = 0 gives W = 0 and a relative residual defined as 0. */
  gsl_matrix *X2 = ir_test_gaussian(8, 12, 262), *Y0 = gsl_matrix_calloc(8, 3);
  W = solve(X2, Y0, IR_MINNORM_SVD, -1, &d);
  ck_assert(gsl_matrix_isnull(W));
  ck_assert(d.rel_residual == 0.0);
  gsl_matrix_free(W);
  gsl_matrix_free(X2);
  gsl_matrix_free(Y0);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_extreme_scale) {
  /* W(αX) = W(X)/α.  Multiplying by α = 1e±150 (not a power of two)
   * rounds each entry once, a relative perturbation eps of X, which moves
   * the solution by O(eps·κ) (SVD, COD; consistent system since n < p) or
   * O(eps·κ²) (Gram); the two solves themselves add the same amounts. */
  const size_t n = 25, p = 50, K = 3;
  gsl_matrix *X = ir_test_gaussian(n, p, 271), *Y = ir_test_gaussian(n, K, 272);
  const double kappa = cond_full(X);
  const double alphas[] = {1e-150, 1e150};
  const int methods[] = {IR_MINNORM_SVD, IR_MINNORM_COD, IR_MINNORM_GRAM};
  for (size_t m = 0; m < 3; m++) {
    gsl_matrix *W = solve(X, Y, methods[m], -1, NULL);
    for (size_t a = 0; a < 2; a++) {
      gsl_matrix *Xs = gsl_matrix_alloc(n, p);
      gsl_matrix_memcpy(Xs, X);
      gsl_matrix_scale(Xs, alphas[a]);
      ir_minnorm_diag d;
      gsl_matrix *Ws = solve(Xs, Y, methods[m], -1, &d);
      ck_assert_uint_eq(d.rank, n);
      gsl_matrix_scale(Ws, alphas[a]);
      double k = methods[m] == IR_MINNORM_GRAM ? kappa * kappa : kappa;
      double e = ir_test_reldiff(Ws, W), t = THRESH * dmax(n, p) * EPS * k;
      ck_assert_msg(e <= t, "%s alpha %g: %.3g > %.3g",
                    ir_minnorm_method_name(methods[m]), alphas[a], e, t);
      gsl_matrix_free(Ws);
      gsl_matrix_free(Xs);
    }
    gsl_matrix_free(W);
  }
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

START_TEST(test_submatrix_views) {
  /* X, Y and W as windows of bigger matrices (tda ≠ number of columns):
   * every method must give the same solution as for contiguous copies
   * (the same numbers reach the same algorithm, so agreement is to the
   * last bit or, where the blocking of BLAS may differ with the stride, to
   * THRESH·max(n,p)·eps·κ²). */
  const size_t n = 15, p = 35, K = 3;
  gsl_matrix *BX = ir_test_gaussian(40, 60, 321),
             *BY = ir_test_gaussian(30, 9, 322);
  gsl_matrix *BW = gsl_matrix_calloc(50, 11);
  gsl_matrix_view X = gsl_matrix_submatrix(BX, 3, 5, n, p);
  gsl_matrix_view Y = gsl_matrix_submatrix(BY, 2, 4, n, K);
  gsl_matrix_view W = gsl_matrix_submatrix(BW, 6, 2, p, K);
  gsl_matrix *Xc = gsl_matrix_alloc(n, p), *Yc = gsl_matrix_alloc(n, K);
  gsl_matrix_memcpy(Xc, &X.matrix);
  gsl_matrix_memcpy(Yc, &Y.matrix);
  const double kappa = cond_full(Xc);
  for (int m = 0; m < 3; m++) {
    gsl_matrix_set_all(BW, 7.0);
    IR_ASSERT_OK(
        ir_minnorm_solve(&X.matrix, &Y.matrix, m, -1, 1e-6, &W.matrix, NULL));
    gsl_matrix *Wc = solve(Xc, Yc, m, -1, NULL);
    double e = ir_test_reldiff(&W.matrix, Wc);
    ck_assert_msg(e <= THRESH * dmax(n, p) * EPS * kappa * kappa, "%s: %.3g",
                  ir_minnorm_method_name(m), e);
    /* Nothing outside the window of W was written. */
    for (size_t i = 0; i < 50; i++)
      for (size_t j = 0; j < 11; j++)
        if (i < 6 || i >= 6 + p || j < 2 || j >= 2 + K)
          ck_assert(gsl_matrix_get(BW, i, j) == 7.0);
    gsl_matrix_free(Wc);
  }
  gsl_matrix_free(Xc);
  gsl_matrix_free(Yc);
  gsl_matrix_free(BX);
  gsl_matrix_free(BY);
  gsl_matrix_free(BW);
}
END_TEST

START_TEST(test_ridge_huge_scale) {
  /* For λ ≪ s_min² the ridge solution equals the pseudo-inverse solution up
   * to a relative λ/s_min².  With entries of order 1e160 (singular values
   * ~1e161, still far below DBL_MAX ≈ 1.8e308, and handled by the SVD as
   * test_extreme_scale shows) and λ = 1, that is ~1e-322: the two must agree
   * to rounding, THRESH·max(n,p)·eps·κ.  Evaluating s/(s² + λ) literally
   * overflows s² to +Inf and returns W = 0. */
  const size_t n = 10, p = 20, K = 2;
  gsl_matrix *X = ir_test_gaussian(n, p, 331), *Y = ir_test_gaussian(n, K, 332);
  const double kappa = cond_full(X);
  gsl_matrix_scale(X, 1e160);
  ir_minnorm *w = ir_minnorm_alloc(n, p, K);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
  gsl_matrix *Wr = gsl_matrix_alloc(p, K), *Wp = gsl_matrix_alloc(p, K);
  IR_ASSERT_OK(ir_minnorm_pinv(w, -1, Wp));
  IR_ASSERT_OK(ir_minnorm_ridge(w, 1.0, Wr));
  double e = ir_test_reldiff(Wr, Wp);
  ck_assert_msg(e <= THRESH * dmax(n, p) * EPS * kappa,
                "ridge vs pinv at scale 1e160: rel. diff %.3g (‖ridge‖ = %.3g, "
                "‖pinv‖ = %.3g)",
                e, fro(Wr), fro(Wp));
  gsl_matrix_free(Wr);
  gsl_matrix_free(Wp);
  ir_minnorm_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* ---- errors
 * ---------------------------------------------------------------------- */

START_TEST(test_shape_errors) {
  gsl_matrix *X = ir_test_gaussian(5, 8, 281), *Y = ir_test_gaussian(5, 2, 282);
  gsl_matrix *Ybad = ir_test_gaussian(6, 2, 283);
  gsl_matrix *W = gsl_matrix_alloc(8, 2), *Wbad = gsl_matrix_alloc(5, 2),
             *Wbad2 = gsl_matrix_alloc(8, 3);
  for (int m = 0; m < 3; m++) {
    ck_assert_int_eq(ir_minnorm_solve(X, Ybad, m, -1, 1e-6, W, NULL),
                     IR_ESHAPE);
    ck_assert_int_eq(ir_minnorm_solve(X, Y, m, -1, 1e-6, Wbad, NULL),
                     IR_ESHAPE);
    ck_assert_int_eq(ir_minnorm_solve(X, Y, m, -1, 1e-6, Wbad2, NULL),
                     IR_ESHAPE);
  }
  ir_minnorm *w = ir_minnorm_alloc(5, 8, 2);
  gsl_matrix *Xt = ir_test_gaussian(8, 5, 284);
  ck_assert_int_eq(ir_minnorm_factor(w, Xt), IR_ESHAPE);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  ck_assert_int_eq(ir_minnorm_set_rhs(w, Ybad), IR_ESHAPE);
  gsl_matrix *Y3 = ir_test_gaussian(5, 3, 285); /* more columns than Kmax */
  ck_assert_int_eq(ir_minnorm_set_rhs(w, Y3), IR_ESHAPE);
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
  ck_assert_int_eq(ir_minnorm_pinv(w, -1, Wbad), IR_ESHAPE);
  ck_assert_int_eq(ir_minnorm_ridge(w, 1.0, Wbad2), IR_ESHAPE);
  ir_minnorm_free(w);
  gsl_matrix_free(Xt);
  gsl_matrix_free(Y3);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  gsl_matrix_free(Ybad);
  gsl_matrix_free(W);
  gsl_matrix_free(Wbad);
  gsl_matrix_free(Wbad2);
}
END_TEST

START_TEST(test_nonfinite_errors) {
  gsl_matrix *X = ir_test_gaussian(5, 8, 291), *Y = ir_test_gaussian(5, 2, 292);
  gsl_matrix *W = gsl_matrix_alloc(8, 2);
  for (int m = 0; m < 3; m++) {
    gsl_matrix_set(X, 1, 6, NAN);
    ck_assert_int_eq(ir_minnorm_solve(X, Y, m, -1, 1e-6, W, NULL), IR_EBADDATA);
    gsl_matrix_set(X, 1, 6, INFINITY);
    ck_assert_int_eq(ir_minnorm_solve(X, Y, m, -1, 1e-6, W, NULL), IR_EBADDATA);
    gsl_matrix_set(X, 1, 6, 0.5);
    gsl_matrix_set(Y, 4, 1, NAN);
    ck_assert_int_eq(ir_minnorm_solve(X, Y, m, -1, 1e-6, W, NULL), IR_EBADDATA);
    gsl_matrix_set(Y, 4, 1, 1.0);
  }
  ir_minnorm *w = ir_minnorm_alloc(5, 8, 2);
  gsl_matrix_set(X, 0, 0, NAN);
  ck_assert_int_eq(ir_minnorm_factor(w, X), IR_EBADDATA);
  /* A failed factorization leaves no usable factor behind. */
  ck_assert_int_eq(ir_minnorm_set_rhs(w, Y), IR_EINVAL);
  gsl_matrix_set(X, 0, 0, 1.0);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  gsl_matrix_set(Y, 0, 0, -INFINITY);
  ck_assert_int_eq(ir_minnorm_set_rhs(w, Y), IR_EBADDATA);
  ir_minnorm_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  gsl_matrix_free(W);
}
END_TEST

START_TEST(test_argument_errors) {
  gsl_matrix *X = ir_test_gaussian(5, 8, 301), *Y = ir_test_gaussian(5, 2, 302);
  gsl_matrix *W = gsl_matrix_alloc(8, 2);
  ck_assert_int_eq(ir_minnorm_solve(X, Y, 7, -1, 1e-6, W, NULL), IR_EINVAL);
  ck_assert_int_eq(ir_minnorm_solve(X, Y, IR_MINNORM_SVD, NAN, 1e-6, W, NULL),
                   IR_EDOM);
  ck_assert_int_eq(
      ir_minnorm_solve(X, Y, IR_MINNORM_SVD, INFINITY, 1e-6, W, NULL), IR_EDOM);
  ck_assert_int_eq(ir_minnorm_solve(X, Y, IR_MINNORM_GRAM, -1, 0.0, W, NULL),
                   IR_EDOM);
  ck_assert_int_eq(ir_minnorm_solve(X, Y, IR_MINNORM_GRAM, -1, NAN, W, NULL),
                   IR_EDOM);

  ir_minnorm *w = ir_minnorm_alloc(5, 8, 2);
  ck_assert_int_eq(ir_minnorm_set_rhs(w, Y), IR_EINVAL); /* before factor */
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  ck_assert_int_eq(ir_minnorm_pinv(w, -1, W), IR_EINVAL); /* before rhs */
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
  ck_assert_int_eq(ir_minnorm_ridge(w, -1e-3, W), IR_EDOM);
  ck_assert_int_eq(ir_minnorm_ridge(w, NAN, W), IR_EDOM);
  ck_assert_int_eq(ir_minnorm_ridge(w, INFINITY, W), IR_EDOM);
  ir_minnorm_free(w);
  ck_assert_ptr_null(ir_minnorm_alloc(5, 8, 0));
  ck_assert_ptr_null(ir_minnorm_alloc(0, 8, 1));
  ir_minnorm_free(NULL);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  gsl_matrix_free(W);
}
END_TEST

START_TEST(test_diagnose_errors) {
  /* Like every fallible function, ir_minnorm_diagnose must validate its
   * arguments and return a status: IR_ESHAPE when X, Y or W do not match
   * the workspace, IR_EINVAL before a factorization.  GSL's abort handler
   * is replaced for this test (as the drivers do), so that a missing check
   * shows up as a wrong status rather than an abort inside BLAS; the
   * previous handler is restored at the end. */
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  const size_t n = 5, p = 8, K = 2;
  gsl_matrix *X = ir_test_gaussian(n, p, 341), *Y = ir_test_gaussian(n, K, 342);
  gsl_matrix *W = gsl_matrix_calloc(p, K), *Wbad = gsl_matrix_calloc(p - 1, K);
  gsl_matrix *Ybad = ir_test_gaussian(n + 1, K, 343);
  gsl_matrix *Xbad = ir_test_gaussian(n, p + 1, 344);
  ir_minnorm_diag d;
  ir_minnorm *w = ir_minnorm_alloc(n, p, K);
  ck_assert_int_eq(ir_minnorm_diagnose(w, -1, X, Y, W, &d), IR_EINVAL);
  IR_ASSERT_OK(ir_minnorm_factor(w, X));
  IR_ASSERT_OK(ir_minnorm_set_rhs(w, Y));
  IR_ASSERT_OK(ir_minnorm_pinv(w, -1, W));
  IR_ASSERT_OK(ir_minnorm_diagnose(w, -1, X, Y, W, &d));
  ck_assert_int_eq(ir_minnorm_diagnose(w, -1, X, Y, Wbad, &d), IR_ESHAPE);
  ck_assert_int_eq(ir_minnorm_diagnose(w, -1, X, Ybad, W, &d), IR_ESHAPE);
  ck_assert_int_eq(ir_minnorm_diagnose(w, -1, Xbad, Y, W, &d), IR_ESHAPE);
  ir_minnorm_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  gsl_matrix_free(W);
  gsl_matrix_free(Wbad);
  gsl_matrix_free(Ybad);
  gsl_matrix_free(Xbad);
  gsl_set_error_handler(old);
}
END_TEST

START_TEST(test_parse_method) {
  int m = -1;
  IR_ASSERT_OK(ir_minnorm_parse_method("svd", &m));
  ck_assert_int_eq(m, IR_MINNORM_SVD);
  IR_ASSERT_OK(ir_minnorm_parse_method("cod", &m));
  ck_assert_int_eq(m, IR_MINNORM_COD);
  IR_ASSERT_OK(ir_minnorm_parse_method("gram", &m));
  ck_assert_int_eq(m, IR_MINNORM_GRAM);
  const char *bad[] = {"", "SVD", "qr", "svd ", "gramm"};
  for (size_t i = 0; i < 5; i++) {
    m = -1;
    ck_assert_int_eq(ir_minnorm_parse_method(bad[i], &m), IR_EINVAL);
    ck_assert_int_eq(m, -1);
  }
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "gramm"));
  /* Names round-trip through the parser. */
  for (int k = 0; k < 3; k++) {
    IR_ASSERT_OK(ir_minnorm_parse_method(ir_minnorm_method_name(k), &m));
    ck_assert_int_eq(m, k);
  }
  ck_assert_str_eq(ir_minnorm_method_name(42), "unknown");
}
END_TEST

static Suite *minnorm_suite(void) {
  Suite *s = suite_create("minnorm");
  TCase *tc = tcase_create("normal");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_wide_vs_cholesky);
  tcase_add_test(tc, test_tall_vs_qr);
  tcase_add_test(tc, test_square_vs_lu);
  tcase_add_test(tc, test_properties_wide);
  tcase_add_test(tc, test_properties_tall);
  tcase_add_test(tc, test_properties_rank_deficient);
  tcase_add_test(tc, test_moore_penrose);
  tcase_add_test(tc, test_rank_deficient_wide);
  tcase_add_test(tc, test_rank_deficient_tall);
  tcase_add_test(tc, test_rcond_truncation);
  tcase_add_test(tc, test_default_rcond);
  tcase_add_test(tc, test_gram_and_cod_vs_svd);
  tcase_add_test(tc, test_gram_accuracy_refusal);
  tcase_add_test(tc, test_ridge_vs_cholesky);
  tcase_add_test(tc, test_ridge_path);
  tcase_add_test(tc, test_ridge_eigen);
  tcase_add_test(tc, test_ridge_path_tridiagonal);
  tcase_add_test(tc, test_ridge_resid_both_routes);
  tcase_add_test(tc, test_workspace_many_rhs);
  tcase_add_test(tc, test_nullspace_fraction);
  suite_add_tcase(s, tc);

  tc = tcase_create("edge");
  tcase_add_test(tc, test_one_sample);
  tcase_add_test(tc, test_one_by_one);
  tcase_add_test(tc, test_zero_matrix);
  tcase_add_test(tc, test_extreme_scale);
  tcase_add_test(tc, test_submatrix_views);
  tcase_add_test(tc, test_ridge_huge_scale);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_shape_errors);
  tcase_add_test(tc, test_nonfinite_errors);
  tcase_add_test(tc, test_argument_errors);
  tcase_add_test(tc, test_diagnose_errors);
  tcase_add_test(tc, test_parse_method);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(minnorm_suite());
}
