/* test_theory.c — the closed forms of docs/theory.md §1–§3 against independent
 * computations: gradient descent iterated step by step in this file, the
 * pseudo-inverse formed by Cholesky, the Marchenko–Pastur density integrated
 * numerically, finite differences, Gaussian moments in closed form or by
 * Simpson's rule, the Mei–Montanari formula transcribed literally, and the
 * reference numbers of docs/theory.md.
 *
 * Tolerances for matrix computations follow LAPACK's test convention: an
 * error divided by (problem size)·eps·(scale) must stay below THRESH = 30
 * (LAPACK TESTING/dtest.in).  Scalar formulas are checked to a stated number
 * of roundings.
 */
#include "implreg/theory.h"

#include "implreg/linalg.h"
#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_complex_math.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_poly.h>
#include <math.h>
#include <string.h>

#define EPS DBL_EPSILON
/* LAPACK's test threshold for normalized error ratios. */
#define THRESH 30.0

/* ---- helpers ------------------------------------------------------------ */

static double fro(const gsl_matrix *A) {
  double s = 0;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++)
      s += gsl_matrix_get(A, i, j) * gsl_matrix_get(A, i, j);
  return sqrt(s);
}

static double fro_diff(const gsl_matrix *A, const gsl_matrix *B) {
  double s = 0;
  for (size_t i = 0; i < A->size1; i++)
    for (size_t j = 0; j < A->size2; j++) {
      double d = gsl_matrix_get(A, i, j) - gsl_matrix_get(B, i, j);
      s += d * d;
    }
  return sqrt(s);
}

static gsl_matrix *mul(CBLAS_TRANSPOSE_t ta, const gsl_matrix *A,
                       CBLAS_TRANSPOSE_t tb, const gsl_matrix *B) {
  size_t m = ta == CblasNoTrans ? A->size1 : A->size2;
  size_t k = tb == CblasNoTrans ? B->size2 : B->size1;
  gsl_matrix *C = gsl_matrix_alloc(m, k);
  gsl_blas_dgemm(ta, tb, 1.0, A, B, 0.0, C);
  return C;
}

/* A GD problem of docs/theory.md §1: X (n×p, n < p, Gaussian), Y (n×K), the
 * extreme eigenvalues of XᵀX/n computed independently (GSL's symmetric
 * eigensolver; the nonzero spectrum of XᵀX/n is that of XXᵀ/n, so the
 * smallest nonzero one is the smallest eigenvalue of XXᵀ/n), the
 * pseudo-inverse X⁺ = Xᵀ(XXᵀ)⁻¹ by GSL's Cholesky, and the SVD the
 * trajectory borrows. */
typedef struct {
  size_t n, p, K;
  gsl_matrix *X, *Y, *Xp;
  double lmax, lmin, kappa2; /* of XᵀX/n; kappa2 = lmax/lmin = κ(X)² */
  ir_svd *svd;
} gd_problem;

static void gd_problem_init(gd_problem *g, size_t n, size_t p, size_t K,
                            unsigned long seed) {
  g->n = n;
  g->p = p;
  g->K = K;
  g->X = ir_test_gaussian(n, p, seed);
  g->Y = ir_test_gaussian(n, K, seed + 1);
  gsl_matrix *H = mul(CblasTrans, g->X, CblasNoTrans, g->X);
  gsl_matrix_scale(H, 1.0 / (double)n);
  gsl_vector *ev = gsl_vector_alloc(p);
  gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(p);
  ck_assert_int_eq(gsl_eigen_symm(H, ev, w), 0);
  g->lmax = gsl_vector_max(ev);
  gsl_eigen_symm_free(w);
  gsl_vector_free(ev);
  gsl_matrix_free(H);
  gsl_matrix *G = mul(CblasNoTrans, g->X, CblasTrans, g->X);
  gsl_matrix *S = gsl_matrix_alloc(n, n);
  gsl_matrix_memcpy(S, G);
  gsl_matrix_scale(S, 1.0 / (double)n);
  ev = gsl_vector_alloc(n);
  w = gsl_eigen_symm_alloc(n);
  ck_assert_int_eq(gsl_eigen_symm(S, ev, w), 0);
  g->lmin = gsl_vector_min(ev);
  g->kappa2 = g->lmax / g->lmin;
  gsl_eigen_symm_free(w);
  gsl_vector_free(ev);
  gsl_matrix_free(S);
  /* X⁺ = Xᵀ(XXᵀ)⁻¹: solve (XXᵀ) Z = X, then X⁺ = Zᵀ. */
  ck_assert_int_eq(gsl_linalg_cholesky_decomp1(G), 0);
  gsl_matrix *Z = gsl_matrix_alloc(n, p);
  ck_assert_int_eq(gsl_linalg_cholesky_solve_mat(G, g->X, Z), 0);
  g->Xp = gsl_matrix_alloc(p, n);
  gsl_matrix_transpose_memcpy(g->Xp, Z);
  gsl_matrix_free(Z);
  gsl_matrix_free(G);
  g->svd = ir_svd_alloc(n, p);
  ck_assert_ptr_nonnull(g->svd);
  IR_ASSERT_OK(ir_svd_decomp(g->svd, g->X));
}

static void gd_problem_free(gd_problem *g) {
  gsl_matrix_free(g->X);
  gsl_matrix_free(g->Y);
  gsl_matrix_free(g->Xp);
  ir_svd_free(g->svd);
}

/* The limit X⁺Y + (I − X⁺X)W₀ from the independently formed X⁺
 * (W0 == NULL: zero). */
static gsl_matrix *gd_limit_reference(const gd_problem *g,
                                      const gsl_matrix *W0) {
  gsl_matrix *L = mul(CblasNoTrans, g->Xp, CblasNoTrans, g->Y);
  if (W0 != NULL) {
    gsl_matrix *XW0 = mul(CblasNoTrans, g->X, CblasNoTrans, W0);
    gsl_matrix *P = mul(CblasNoTrans, g->Xp, CblasNoTrans, XW0);
    gsl_matrix_add(L, W0);
    gsl_matrix_sub(L, P);
    gsl_matrix_free(P);
    gsl_matrix_free(XW0);
  }
  return L;
}

/* One step of GD on L(W) = (1/2n)‖XW − Y‖_F²:
 * W ← W − (η/n) Xᵀ(XW − Y).  R (n×K) is scratch. */
static void gd_step(const gd_problem *g, double eta, gsl_matrix *W,
                    gsl_matrix *R) {
  gsl_matrix_memcpy(R, g->Y);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, g->X, W, -1.0, R);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, -eta / (double)g->n, g->X, R, 1.0,
                 W);
}

/* Iterates GD from W0 (NULL: zero) and compares each checkpoint with
 * ir_gd_traj_at.  Error budget: every step of the loop rounds with an error
 * of at most c·eps·M, c = THRESH·(n + p), where M bounds
 * ‖W_t‖ + (η/n)‖X‖‖XW_t − Y‖ along the path: with ‖I − ηXᵀX/n‖ <= 1 the
 * iterates stay within ‖W*‖ + ‖W₀ − W*‖ of the origin, so
 * M = 2(2‖W*‖ + ‖W₀‖) + (η/n)‖X‖_F‖Y‖_F.  The iteration matrix does not
 * amplify those errors (norm <= 1) but does not damp them in the null space
 * of X either, so after t steps they add up to at most t·c·eps·M.  The
 * closed form is evaluated from an SVD with backward error c·eps·‖X‖, to
 * which W_t (a polynomial in XᵀX applied to XᵀY, tending to the
 * pseudo-inverse) is sensitive at most like κ(X)²: c·eps·κ²·M.  Total:
 * ‖W_t(closed) − W_t(loop)‖ <= c·eps·(t + κ²)·M. */
static void gd_compare(const gd_problem *g, const gsl_matrix *W0, double eta) {
  const size_t p = g->p, K = g->K;
  const double checkpoints[] = {0, 1, 2, 5, 10, 100, 1000};
  ir_gd_traj *tr = ir_gd_traj_alloc(g->svd, g->Y, W0, eta);
  ck_assert_ptr_nonnull(tr);
  gsl_matrix *W = gsl_matrix_calloc(p, K), *Wt = gsl_matrix_alloc(p, K);
  gsl_matrix *R = gsl_matrix_alloc(g->n, K);
  if (W0 != NULL)
    gsl_matrix_memcpy(W, W0);
  gsl_matrix *Winf = gd_limit_reference(g, W0);
  gsl_matrix *Wstar = gd_limit_reference(g, NULL);
  const double M = 2 * (2 * fro(Wstar) + (W0 ? fro(W0) : 0)) +
                   eta / (double)g->n * fro(g->X) * fro(g->Y);
  const double c = THRESH * (double)(g->n + p) * EPS;
  size_t t = 0;
  for (size_t k = 0; k < sizeof checkpoints / sizeof *checkpoints; k++) {
    while ((double)t < checkpoints[k]) {
      gd_step(g, eta, W, R);
      t++;
    }
    IR_ASSERT_OK(ir_gd_traj_at(tr, (double)t, Wt));
    double e = fro_diff(Wt, W), tol = c * ((double)t + g->kappa2) * M;
    ck_assert_msg(e <= tol, "t = %zu: |closed − loop| = %.3g > %.3g", t, e,
                  tol);
  }
  /* After 1000 steps the loop is at the limit up to the contraction
   * ρ^1000·‖W₀ − W∞‖, ρ = 1 − λ_min/λ_max (η = 1/λ_max), plus the rounding
   * budget above; the library's limit equals the independent reference
   * X⁺Y + (I − X⁺X)W₀ to c·eps·κ²·M (the reference's Cholesky squares κ). */
  const double rho = 1 - g->lmin / g->lmax;
  gsl_matrix *D = gsl_matrix_alloc(p, K);
  gsl_matrix_memcpy(D, Winf);
  if (W0 != NULL)
    gsl_matrix_sub(D, W0);
  double e0 = fro(D);
  gsl_matrix_free(D);
  double el = fro_diff(W, Winf);
  double tl = pow(rho, 1000.0) * e0 + c * (1000.0 + g->kappa2) * M;
  ck_assert_msg(el <= tl, "loop vs limit %.3g > %.3g", el, tl);
  gsl_matrix *L = gsl_matrix_alloc(p, K);
  IR_ASSERT_OK(ir_gd_traj_limit(tr, -1, L));
  double eL = fro_diff(L, Winf);
  ck_assert_msg(eL <= c * g->kappa2 * M, "limit %.3g > %.3g", eL,
                c * g->kappa2 * M);
  /* GD never leaves W₀ + row space(X): (I − X⁺X)(W_t − W₀) = 0 to the
   * accumulated rounding. */
  if (W0 != NULL)
    gsl_matrix_sub(W, W0);
  gsl_matrix *XW = mul(CblasNoTrans, g->X, CblasNoTrans, W);
  gsl_matrix *PW = mul(CblasNoTrans, g->Xp, CblasNoTrans, XW);
  double off = fro_diff(PW, W);
  ck_assert_msg(off <= c * (1000.0 + g->kappa2) * M, "left row space: %.3g",
                off);
  gsl_matrix_free(XW);
  gsl_matrix_free(PW);
  gsl_matrix_free(L);
  gsl_matrix_free(Winf);
  gsl_matrix_free(Wstar);
  gsl_matrix_free(R);
  gsl_matrix_free(Wt);
  gsl_matrix_free(W);
  ir_gd_traj_free(tr);
}

/* ---- §1: GD trajectory ----------------------------------------------------
 */

START_TEST(test_gd_from_zero) {
  /* docs/theory.md §1 reference case: n = 20, p = 50, Gaussian X,
   * η = 1/λ_max(XᵀX/n). */
  gd_problem g;
  gd_problem_init(&g, 20, 50, 2, 401);
  gd_compare(&g, NULL, 1.0 / g.lmax);
  gd_problem_free(&g);
}
END_TEST

START_TEST(test_gd_from_random_start) {
  gd_problem g;
  gd_problem_init(&g, 20, 50, 2, 411);
  gsl_matrix *W0 = ir_test_gaussian(50, 2, 413);
  gd_compare(&g, W0, 1.0 / g.lmax);
  /* At t = 0 the closed form is W₀ itself: N0 + V VᵀW₀ = W₀ up to the
   * rounding of two products with orthonormal factors. */
  ir_gd_traj *tr = ir_gd_traj_alloc(g.svd, g.Y, W0, 1.0 / g.lmax);
  gsl_matrix *Wt = gsl_matrix_alloc(50, 2);
  IR_ASSERT_OK(ir_gd_traj_at(tr, 0, Wt));
  ck_assert(ir_test_reldiff(Wt, W0) <= THRESH * 70 * EPS);
  gsl_matrix_free(Wt);
  ir_gd_traj_free(tr);
  gsl_matrix_free(W0);
  gd_problem_free(&g);
}
END_TEST

START_TEST(test_gd_rate) {
  /* With η = 1/λ_max the contraction factors are 1 − λ_i/λ_max ∈ [0, 1),
   * the largest at the smallest nonzero eigenvalue: 1 − η·s_min²/n.  The
   * eigenvalues are accurate to c·eps·λ_max, hence the rate to c·eps. */
  gd_problem g;
  gd_problem_init(&g, 20, 50, 1, 421);
  const double eta = 1.0 / g.lmax;
  ir_gd_traj *tr = ir_gd_traj_alloc(g.svd, g.Y, NULL, eta);
  IR_ASSERT_CLOSE(ir_gd_traj_rate(tr), 1 - eta * g.lmin, 0.0,
                  THRESH * 50 * EPS);
  ck_assert(ir_gd_traj_rate(tr) < 1);
  ir_gd_traj_free(tr);
  /* The stability threshold 2/λ_max (docs/theory.md §7). */
  ck_assert(ir_theory_gd_max_lr(g.lmax) == 2.0 / g.lmax);
  gd_problem_free(&g);
}
END_TEST

START_TEST(test_gd_converges_below_threshold) {
  /* η = 1.99/λ_max converges (docs/theory.md §1): the rate is
   * ρ = max(|1 − 1.99|, |1 − 1.99·λ_min/λ_max|) < 1, and after t = 4000
   * steps the loop is within ρ^t‖W*‖ + c·eps·t·M of X⁺Y (budget as in
   * gd_compare, with the iteration norm still <= 1). */
  gd_problem g;
  gd_problem_init(&g, 20, 50, 1, 431);
  const double eta = 1.99 / g.lmax;
  const double rho = fmax(0.99, fabs(1 - 1.99 * g.lmin / g.lmax));
  ir_gd_traj *tr = ir_gd_traj_alloc(g.svd, g.Y, NULL, eta);
  IR_ASSERT_CLOSE(ir_gd_traj_rate(tr), rho, 0.0, THRESH * 50 * EPS);
  ck_assert(eta < ir_theory_gd_max_lr(g.lmax));
  gsl_matrix *W = gsl_matrix_calloc(50, 1), *R = gsl_matrix_alloc(20, 1);
  for (int t = 0; t < 4000; t++)
    gd_step(&g, eta, W, R);
  gsl_matrix *Ws = gd_limit_reference(&g, NULL);
  const double M = 4 * fro(Ws) + eta / 20 * fro(g.X) * fro(g.Y);
  const double tol =
      pow(rho, 4000) * fro(Ws) + THRESH * 70 * EPS * (4000 + g.kappa2) * M;
  ck_assert_msg(fro_diff(W, Ws) <= tol, "%.3g > %.3g", fro_diff(W, Ws), tol);
  gsl_matrix_free(Ws);
  gsl_matrix_free(W);
  gsl_matrix_free(R);
  ir_gd_traj_free(tr);
  gd_problem_free(&g);
}
END_TEST

START_TEST(test_gd_diverges_above_threshold) {
  /* η = 2.01/λ_max: along the top eigenvector v₁ of XᵀX/n the error
   * e_t = v₁ᵀ(W_t − W*) is multiplied by exactly 1 − ηλ_max = −1.01 per
   * step, so |e_1000|/|e_500| = 1.01^500 and the trajectory norm grows.
   * The loop's e_t carries the rounding budget t·c·eps·M_t with M_t of the
   * size of ‖W_t‖ <= |e_t| + 2‖W*‖; relative to |e_t| that is
   * t·c·eps·(1 + 2‖W*‖/|e_t|) for each of the two values. */
  gd_problem g;
  gd_problem_init(&g, 20, 50, 1, 441);
  const double eta = 2.01 / g.lmax;
  ir_gd_traj *tr = ir_gd_traj_alloc(g.svd, g.Y, NULL, eta);
  IR_ASSERT_CLOSE(ir_gd_traj_rate(tr), 1.01, 0.0, THRESH * 50 * EPS);
  ck_assert(ir_gd_traj_rate(tr) > 1);
  ck_assert(eta > ir_theory_gd_max_lr(g.lmax));

  /* Top eigenvector of XᵀX/n by gsl_eigen_symmv. */
  gsl_matrix *H = mul(CblasTrans, g.X, CblasNoTrans, g.X);
  gsl_matrix_scale(H, 1.0 / 20);
  gsl_vector *ev = gsl_vector_alloc(50);
  gsl_matrix *evec = gsl_matrix_alloc(50, 50);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(50);
  gsl_eigen_symmv(H, ev, evec, ws);
  gsl_eigen_symmv_sort(ev, evec, GSL_EIGEN_SORT_VAL_DESC);
  gsl_vector_view v1 = gsl_matrix_column(evec, 0);

  gsl_matrix *Ws = gd_limit_reference(&g, NULL);
  gsl_matrix *W = gsl_matrix_calloc(50, 1), *R = gsl_matrix_alloc(20, 1);
  gsl_matrix *Wt = gsl_matrix_alloc(50, 1);
  gsl_vector *d = gsl_vector_alloc(50);
  double e[2], nrm[3];
  nrm[0] = 0;
  const double c = THRESH * 70 * EPS;
  for (int t = 1, k = 0; t <= 1000; t++) {
    gd_step(&g, eta, W, R);
    if (t == 500 || t == 1000) {
      gsl_vector_view col = gsl_matrix_column(W, 0);
      gsl_vector_memcpy(d, &col.vector);
      gsl_vector_const_view sc = gsl_matrix_const_column(Ws, 0);
      gsl_vector_sub(d, &sc.vector);
      gsl_blas_ddot(&v1.vector, d, &e[k]);
      nrm[k + 1] = fro(W);
      /* The closed form agrees with the loop relative to ‖W_t‖, with the
       * budget of gd_compare. */
      IR_ASSERT_OK(ir_gd_traj_at(tr, (double)t, Wt));
      double err = fro_diff(Wt, W);
      ck_assert_msg(err <= c * (t + g.kappa2) * (fro(W) + 4 * fro(Ws)),
                    "t = %d: %.3g", t, err);
      k++;
    }
  }
  ck_assert(nrm[2] > nrm[1] && nrm[1] > nrm[0]);
  const double ratio = fabs(e[1] / e[0]), expect = pow(1.01, 500);
  const double rt = 2 * c * 1000 * (1 + 2 * fro(Ws) / fabs(e[0]));
  IR_ASSERT_CLOSE(ratio, expect, rt, 0.0);
  gsl_vector_free(d);
  gsl_matrix_free(Wt);
  gsl_matrix_free(W);
  gsl_matrix_free(R);
  gsl_matrix_free(Ws);
  gsl_eigen_symmv_free(ws);
  gsl_matrix_free(evec);
  gsl_vector_free(ev);
  gsl_matrix_free(H);
  ir_gd_traj_free(tr);
  gd_problem_free(&g);
}
END_TEST

/* ---- §7: heavy-ball momentum on a quadratic
 * ------------------------------------- */

/* The largest root modulus of r² − (1 + β − ηλ)r + β by GSL's complex
 * quadratic solver, with the discriminant a² − 4β in *disc. */
static double hb_radius_gsl(double eta, double beta, double lambda,
                            double *disc) {
  const double a = 1 + beta - eta * lambda;
  gsl_complex z0, z1;
  int nr = gsl_poly_complex_solve_quadratic(1.0, -a, beta, &z0, &z1);
  ck_assert_int_eq(nr, 2);
  if (disc != NULL)
    *disc = a * a - 4 * beta;
  return fmax(gsl_complex_abs(z0), gsl_complex_abs(z1));
}

/* Roots of a monic quadratic with coefficients known to ~eps·(a² + β):
 * away from a double root a root moves by ~eps·(|a| + 1); at a double root
 * by up to sqrt(eps·(a² + 4β)) (the discriminant's error under the square
 * root).  Both solvers round alike, so twice the sum bounds their
 * difference. */
static double hb_tol(double eta, double beta, double lambda) {
  const double a = 1 + beta - eta * lambda;
  return 2 * (16 * EPS * (fabs(a) + 1) + sqrt(16 * EPS * (a * a + 4 * beta)));
}

START_TEST(test_heavy_ball_radius) {
  const double betas[] = {0.0, 0.1, 0.5, 0.9};
  const double etalams[] = {1e-3, 0.05, 0.5, 1.0, 1.9, 2.5, 3.5, 3.9, 5.0};
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 9; j++) {
      const double b = betas[i], el = etalams[j];
      IR_ASSERT_CLOSE(ir_theory_heavy_ball_radius(1.0, b, el),
                      hb_radius_gsl(1.0, b, el, NULL), 0.0, hb_tol(1.0, b, el));
    }
  /* β = 0 is plain GD: the radius is |1 − ηλ| (one rounding in each). */
  IR_ASSERT_CLOSE(ir_theory_heavy_ball_radius(0.5, 0.0, 3.0), 0.5, 0.0,
                  4 * EPS);
  /* Stable iff 0 < ηλ < 2 + 2β (docs/theory.md §7): just inside and just outside
   * the threshold, 1e-3 relative away from it.  The radius there moves by
   * ~1e-3/(1 + ...)·O(1), far more than any rounding. */
  const double beta = 0.9, thr = 2 + 2 * beta;
  ck_assert(ir_theory_heavy_ball_radius(1.0, beta, thr * (1 - 1e-3)) < 1);
  ck_assert(ir_theory_heavy_ball_radius(1.0, beta, thr * (1 + 1e-3)) > 1);
  /* Complex roots (small ηλ with β large): |r| = √β. */
  IR_ASSERT_CLOSE(ir_theory_heavy_ball_radius(1.0, 0.81, 1.0), 0.9, 4 * EPS,
                  0.0);
}
END_TEST

START_TEST(test_heavy_ball_rate) {
  /* The rate over the curvatures s_i²/n equals the largest radius over the
   * eigenvalues of XXᵀ/n (computed by GSL, independent of the SVD), with
   * η = 1/λ_max.  β = 0.9: every ηλ_i lies above (1 − √β)² ≈ 0.0026 (the
   * smallest is 1/κ² ≈ 0.05 here), so all roots are complex and the rate is
   * √β.  β = 0.1: the smallest curvature has real roots and dominates; the
   * test first checks that the discriminant d at the maximizing eigenvalue
   * is away from 0, so the radius is Lipschitz there, with
   * |d radius/d(ηλ)| <= (1 + |a|/√d)/2, |a| <= 2; the eigenvalue error
   * c·eps·λ_max then moves it by at most c·eps·(1 + 2/√d). */
  gd_problem g;
  gd_problem_init(&g, 20, 50, 1, 451);
  const double eta = 1.0 / g.lmax;
  gsl_matrix *S = mul(CblasNoTrans, g.X, CblasTrans, g.X);
  gsl_matrix_scale(S, 1.0 / 20);
  gsl_vector *ev = gsl_vector_alloc(20);
  gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(20);
  gsl_eigen_symm(S, ev, ws);
  const double betas[] = {0.9, 0.1};
  for (size_t b = 0; b < 2; b++) {
    double ref = 0, dref = 0;
    for (size_t i = 0; i < 20; i++) {
      double d, r = hb_radius_gsl(eta, betas[b], gsl_vector_get(ev, i), &d);
      if (r > ref) {
        ref = r;
        dref = fabs(d);
      }
    }
    ck_assert_msg(dref > 0.05, "discriminant %.3g at the maximum", dref);
    IR_ASSERT_CLOSE(ir_theory_heavy_ball_rate(g.svd, eta, betas[b], -1), ref,
                    0.0, THRESH * 20 * EPS * (1 + 2 / sqrt(dref)));
  }
  IR_ASSERT_CLOSE(ir_theory_heavy_ball_rate(g.svd, eta, 0.9, -1), sqrt(0.9),
                  4 * EPS, 0.0);
  gsl_eigen_symm_free(ws);
  gsl_vector_free(ev);
  gsl_matrix_free(S);
  gd_problem_free(&g);
}
END_TEST

/* ---- §2: Hastie et al.
 * ------------------------------------------------------- */

START_TEST(test_hastie_reference) {
  double B, V;
  /* docs/theory.md §2: r² = σ² = 1, γ = 2 → B = 0.5, V = 1 (both exact in
   * binary: 1 − 1/2 and 1/(2 − 1)). */
  IR_ASSERT_OK(ir_theory_hastie(2.0, 1.0, 1.0, &B, &V));
  ck_assert(B == 0.5);
  ck_assert(V == 1.0);
  /* γ < 1: B = 0, V = σ²γ/(1 − γ): 0.5 at σ² = 1 → 1. */
  IR_ASSERT_OK(ir_theory_hastie(0.5, 1.0, 1.0, &B, &V));
  ck_assert(B == 0.0);
  ck_assert(V == 1.0);
  /* γ = 1: the interpolation peak. */
  IR_ASSERT_OK(ir_theory_hastie(1.0, 1.0, 1.0, &B, &V));
  ck_assert(isinf(V) && V > 0);
}
END_TEST

START_TEST(test_hastie_nakkiran) {
  /* Sample-wise non-monotonicity (docs/theory.md §2, Nakkiran): p = 100,
   * r² = 1, σ² = 0.1: risk 0.55 at n = 75 (γ = 4/3: 0.25 + 0.3) and 1.0 at
   * n = 90 (γ = 10/9: 0.1 + 0.9).  γ = p/n is rounded once and each of
   * 1/γ, γ − 1 and the quotient adds a rounding, amplified at most by
   * 1/(γ − 1) <= 9: 16·9·eps covers it. */
  double B, V;
  IR_ASSERT_OK(ir_theory_hastie(100.0 / 75.0, 1.0, 0.1, &B, &V));
  const double r75 = B + V;
  IR_ASSERT_CLOSE(r75, 0.55, 16 * 9 * EPS, 0.0);
  IR_ASSERT_OK(ir_theory_hastie(100.0 / 90.0, 1.0, 0.1, &B, &V));
  const double r90 = B + V;
  IR_ASSERT_CLOSE(r90, 1.0, 16 * 9 * EPS, 0.0);
  ck_assert(r90 > r75); /* more data hurts */
  /* For SNR = r²/σ² = 4 > 1 the risk over γ > 1 is smallest at
   * γ* = √SNR/(√SNR − 1) = 2: check against its neighbours. */
  double Bm, Vm, Bp, Vp;
  IR_ASSERT_OK(ir_theory_hastie(2.0, 4.0, 1.0, &B, &V));
  IR_ASSERT_OK(ir_theory_hastie(1.99, 4.0, 1.0, &Bm, &Vm));
  IR_ASSERT_OK(ir_theory_hastie(2.01, 4.0, 1.0, &Bp, &Vp));
  ck_assert(B + V < Bm + Vm && B + V < Bp + Vp);
}
END_TEST

START_TEST(test_hastie_exact) {
  double B, V;
  /* docs/theory.md §2: n = 40, p = 100, r² = 1, σ² = 0.25 → 0.76949 (five
   * digits): B = 1 − 40/100 = 0.6, V = 0.25·40/59. */
  IR_ASSERT_OK(ir_theory_hastie_exact(40, 100, 1.0, 0.25, &B, &V));
  IR_ASSERT_CLOSE(B + V, 0.76949, 0.0, 5e-6);
  IR_ASSERT_CLOSE(B, 0.6, 4 * EPS, 0.0);
  IR_ASSERT_CLOSE(V, 10.0 / 59.0, 4 * EPS, 0.0);
  /* Infinite within one of the threshold, finite two away. */
  const size_t n = 40;
  for (size_t p = n - 1; p <= n + 1; p++) {
    IR_ASSERT_OK(ir_theory_hastie_exact(n, p, 1.0, 0.25, &B, &V));
    ck_assert_msg(isinf(V) && V > 0, "p = %zu: V = %g", p, V);
  }
  IR_ASSERT_OK(ir_theory_hastie_exact(n, n - 2, 1.0, 0.25, &B, &V));
  IR_ASSERT_CLOSE(V, 0.25 * 38.0, 4 * EPS, 0.0); /* σ²p/(n − p − 1) */
  ck_assert(B == 0.0);
  IR_ASSERT_OK(ir_theory_hastie_exact(n, n + 2, 1.0, 0.25, &B, &V));
  IR_ASSERT_CLOSE(V, 0.25 * 40.0, 4 * EPS, 0.0); /* σ²n/(p − n − 1) */
  /* The exact expectation tends to the asymptotic formula at fixed γ:
   * V_exact − V_∞ = σ²[1/(γ − 1 − 1/n) − 1/(γ − 1)] ≈ σ²/(n(γ − 1)²),
   * and likewise for γ < 1 the difference is ≈ σ²γ/(n(1 − γ)²).  At
   * n = 10⁴ twice that first-order term bounds the difference. */
  double Ba, Va;
  IR_ASSERT_OK(ir_theory_hastie_exact(10000, 20000, 1.0, 1.0, &B, &V));
  IR_ASSERT_OK(ir_theory_hastie(2.0, 1.0, 1.0, &Ba, &Va));
  IR_ASSERT_CLOSE(B, Ba, 4 * EPS, 0.0);
  IR_ASSERT_CLOSE(V, Va, 0.0, 2.0 / 10000);
  IR_ASSERT_OK(ir_theory_hastie_exact(10000, 5000, 1.0, 1.0, &B, &V));
  IR_ASSERT_OK(ir_theory_hastie(0.5, 1.0, 1.0, &Ba, &Va));
  IR_ASSERT_CLOSE(V, Va, 0.0, 2.0 * 0.5 / (10000 * 0.25));
}
END_TEST

/* ---- §2: Marchenko–Pastur Stieltjes transform ---------------------------- */

typedef struct {
  double gamma, lambda;
  int power; /* integrand density/(x + λ)^power */
} mp_params;

/* The continuous part of the Marchenko–Pastur law of XᵀX/n with ratio γ
 * (unit variance): sqrt((b − x)(x − a))/(2πγx) on [a, b],
 * a = (1 − √γ)², b = (1 + √γ)²; its mass is min(1, 1/γ). */
static double mp_density(double x, double gamma) {
  const double a = (1 - sqrt(gamma)) * (1 - sqrt(gamma));
  const double b = (1 + sqrt(gamma)) * (1 + sqrt(gamma));
  if (x <= a || x >= b)
    return 0.0;
  return sqrt((b - x) * (x - a)) / (2 * M_PI * gamma * x);
}

static double mp_integrand(double x, void *params) {
  const mp_params *q = params;
  return mp_density(x, q->gamma) / pow(x + q->lambda, q->power);
}

/* ∫ density(x)/(x + λ)^power dx over [a, b] by gsl_integration_qags (the
 * square-root endpoint behaviour is handled by its extrapolation), with the
 * error estimate in *err. */
static double mp_integral(double gamma, double lambda, int power, double *err) {
  const double a = (1 - sqrt(gamma)) * (1 - sqrt(gamma));
  const double b = (1 + sqrt(gamma)) * (1 + sqrt(gamma));
  mp_params q = {gamma, lambda, power};
  gsl_function f = {mp_integrand, &q};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
  double res = 0;
  ck_assert_int_eq(
      gsl_integration_qags(&f, a, b, 0.0, 1e-12, 1000, w, &res, err), 0);
  gsl_integration_workspace_free(w);
  return res;
}

/* MP moments: the closed form (Narayana polynomials) against Monte Carlo-
 * free references (1, 1 + γ, 1 + 3γ + γ², 1 + 6γ + 6γ² + γ³) and against
 * the quadrature of the density; the CDF at the edges and its mass. */
START_TEST(test_mp_moments_cdf) {
  const double gs[] = {0.1, 0.5, 1.0, 2.0, 4.0};
  for (size_t i = 0; i < 5; i++) {
    const double g = gs[i];
    IR_ASSERT_CLOSE(ir_theory_mp_moment(g, 0), 1.0, 0, 0);
    IR_ASSERT_CLOSE(ir_theory_mp_moment(g, 1), 1.0, 1e-15, 0);
    IR_ASSERT_CLOSE(ir_theory_mp_moment(g, 2), 1 + g, 1e-15, 0);
    IR_ASSERT_CLOSE(ir_theory_mp_moment(g, 3), 1 + 3 * g + g * g, 1e-15, 0);
    IR_ASSERT_CLOSE(ir_theory_mp_moment(g, 4),
                    1 + 6 * g + 6 * g * g + g * g * g, 1e-15, 0);
    /* γ = 1 has a 1/√x singularity at 0 that the substitution does not
     * remove: a looser tolerance there. */
    const double tol = g == 1.0 ? 1e-6 : 1e-12;
    for (int k = 0; k <= 4; k++)
      IR_ASSERT_CLOSE(ir_theory_mp_density_moment(g, k),
                      ir_theory_mp_moment(g, k), tol, 0);
    double lo, hi;
    IR_ASSERT_OK(ir_theory_mp_edges(g, &lo, &hi));
    IR_ASSERT_CLOSE(ir_theory_mp_cdf(g, hi), 1.0, tol, 0);
    IR_ASSERT_CLOSE(ir_theory_mp_cdf(g, lo), ir_theory_mp_atom(g), 0, 1e-15);
    ck_assert(ir_theory_mp_cdf(g, -1) == 0.0);
    /* Monotone in between. */
    double prev = 0;
    for (int j = 0; j <= 20; j++) {
      const double c = ir_theory_mp_cdf(g, lo + (hi - lo) * j / 20.0);
      ck_assert(c >= prev - 1e-12);
      prev = c;
    }
  }
  ck_assert(isnan(ir_theory_mp_moment(-1, 2)));
  ck_assert(isnan(ir_theory_mp_moment(0.5, -1)));
  ck_assert(isnan(ir_theory_mp_cdf(0.5, NAN)));
}
END_TEST

START_TEST(test_mp_density_mass) {
  /* A check of the test's own density: mass 1 for γ <= 1, 1/γ for γ > 1
   * (the rest is the atom at 0), and mean 1 in both cases (E x = 1 for the
   * law of XᵀX/n with unit-variance entries; the atom contributes 0). */
  const double gammas[] = {0.5, 2.0};
  for (size_t i = 0; i < 2; i++) {
    double err, err1;
    double mass = mp_integral(gammas[i], 0.0, 0, &err);
    IR_ASSERT_CLOSE(mass, fmin(1.0, 1.0 / gammas[i]), 0.0, 2 * err + 1e-12);
    /* power −1 with λ = 0 integrates x·density. */
    double mean = mp_integral(gammas[i], 0.0, -1, &err1);
    IR_ASSERT_CLOSE(mean, 1.0, 0.0, 2 * err1 + 1e-12);
  }
}
END_TEST

START_TEST(test_mp_stieltjes_integral) {
  /* m(−λ) = ∫ dμ(x)/(x + λ) = ∫ density/(x + λ) + (1 − 1/γ)₊/λ, and
   * m′(z) at z = −λ is ∫ dμ(x)/(x + λ)² (+ (1 − 1/γ)₊/λ²).  The quadrature
   * reports its error estimate; we allow twice that plus 1e-12 relative
   * (the requested accuracy). */
  const double gammas[] = {0.5, 2.0};
  const double lambdas[] = {1e-3, 0.1, 0.5, 1.0, 10.0};
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 5; j++) {
      const double g = gammas[i], l = lambdas[j];
      const double atom = g > 1 ? 1 - 1 / g : 0.0;
      double m, dm, err1, err2;
      IR_ASSERT_OK(ir_theory_mp_stieltjes(g, l, &m, &dm));
      double I1 = mp_integral(g, l, 1, &err1) + atom / l;
      double I2 = mp_integral(g, l, 2, &err2) + atom / (l * l);
      IR_ASSERT_CLOSE(m, I1, 1e-12, 2 * err1);
      IR_ASSERT_CLOSE(dm, I2, 1e-12, 2 * err2);
      ck_assert(m > 0 && dm > 0);
    }
}
END_TEST

/* ---- high-precision references (issue 12) --------------------------------
 * Digits from 50-digit mpmath quadrature of the Marchenko–Pastur law
 * (bias = atom + ∫λ²/(x + λ)² dμ_c, variance = γ∫x/(x + λ)² dμ_c), printed
 * by
 *   IMPLREG_LIB=.libs/libimplreg.so PYTHONPATH=python \
 *     python3 tests/theory_mpmath.py --pin
 * These inputs are well conditioned (condition numbers <= ~3 with 1 − γ
 * taken as an exact input, see tests/theory_mpmath.py), so a stable
 * evaluation is good to a dozen roundings: rtol 16·eps.  The old textbook
 * form returned a variance of −64 at γ = 4, λ = 1e-17, was off by 1e-4
 * at λ = 1e-12 (m − λm′ cancels terms of size 1/λ) and NaN for λ >= 1e155
 * (λ² overflows). */
START_TEST(test_ridge_high_precision) {
  static const struct {
    double gamma, lambda, bias, var;
  } ref[] = {
      {4.0, 1e-17, 0.75, 0.33333333333333333037},
      {4.0, 1e-12, 0.75, 0.33333333333303703704},
      {1.0, 1e-300, 5.0000000000000000626e-151, 4.9999999999999999374e+149},
      {1.01, 1e-8, 0.0099009901989697248415, 99.979806088260388226},
      {0.99, 1e-3, 0.01147283339159815218, 15.083247449686701914},
  };
  for (size_t i = 0; i < sizeof ref / sizeof *ref; i++) {
    double B, V, R;
    IR_ASSERT_OK(
        ir_theory_ridge_terms(ref[i].gamma, ref[i].lambda, 1.0, 1.0, &B, &V));
    IR_ASSERT_CLOSE(B, ref[i].bias, 16 * EPS, 0.0);
    IR_ASSERT_CLOSE(V, ref[i].var, 16 * EPS, 0.0);
    IR_ASSERT_OK(ir_theory_ridge_risk(ref[i].gamma, ref[i].lambda, 1.0, 1.0, &R));
    ck_assert(R == B + V);
  }
  /* Huge λ: bias → r², variance ≈ σ²γ/λ², which is subnormal (4e-310)
   * at λ = 1e155 and underflows to 0 at 1e300 (5e-601): no NaN, and an
   * error of a few subnormal ulps. */
  double B, V;
  IR_ASSERT_OK(ir_theory_ridge_terms(4.0, 1e155, 1.0, 1.0, &B, &V));
  IR_ASSERT_CLOSE(B, 1.0, 16 * EPS, 0.0);
  IR_ASSERT_CLOSE(V, 3.9999999999999999426e-310, 0.0, 8 * DBL_TRUE_MIN);
  IR_ASSERT_OK(ir_theory_ridge_terms(0.5, 1e300, 1.0, 1.0, &B, &V));
  IR_ASSERT_CLOSE(B, 1.0, 16 * EPS, 0.0);
  ck_assert(V >= 0 && V <= 8 * DBL_TRUE_MIN);
  IR_ASSERT_OK(ir_theory_ridge_terms(100.0, DBL_MAX, 1.0, 1.0, &B, &V));
  ck_assert(B == 1.0 && V == 0.0);
  /* The optimum where λ* is tiny (σ² ≪ r²): R* = σ²γm(−λ*) with m ≈
   * (1 − 1/γ)/λ* (λ* = 4e-300), i.e. the ridgeless bias 0.75 up to terms
   * of order λ* and σ²: computed as the sum of the terms, since m alone
   * would overflow for a slightly smaller λ*. */
  double l, Ropt;
  IR_ASSERT_OK(ir_theory_ridge_optimal(4.0, 1.0, 1e-300, &l, &Ropt));
  IR_ASSERT_CLOSE(Ropt, 0.75, 16 * EPS, 0.0);
  /* m itself overflows for γ > 1 and λ < ~1e-308, m′ for λ < ~1e-154:
   * refused, not returned as Inf; the terms stay available. */
  double m, dm;
  ck_assert_int_eq(ir_theory_mp_stieltjes(4.0, 1e-200, &m, &dm), IR_EDOM);
  IR_ASSERT_OK(ir_theory_mp_stieltjes(4.0, 1e-200, &m, NULL));
  IR_ASSERT_CLOSE(m, 0.75e200, 16 * EPS, 0.0);
  ck_assert_int_eq(ir_theory_mp_stieltjes(4.0, 1e-320, &m, NULL), IR_EDOM);
  /* For γ < 1, m′(0) = ∫x⁻²dμ = 1/(1 − γ)³ = 8 at γ = 1/2: finite for
   * every λ (it was 0 below λ ~ 1e-160, where λ²m′ underflows). */
  IR_ASSERT_OK(ir_theory_mp_stieltjes(0.5, 1e-300, &m, &dm));
  IR_ASSERT_CLOSE(m, 2.0, 16 * EPS, 0.0);
  IR_ASSERT_CLOSE(dm, 8.0, 16 * EPS, 0.0);
}
END_TEST

START_TEST(test_closed_forms_high_precision) {
  /* Each value from mpmath at 50 digits (tests/theory_mpmath.py does the
   * same over whole grids): the commands are in the comments.  The old
   * code failed each one by the amount stated. */
  double B, V;
  /* 1 − 1/γ near γ = 1: (γ − 1)/γ with γ − 1 exact.  mpmath:
   * g = 1 + mpf(2)**-40; (g - 1)/g.  Old: relative error 3e-5. */
  const double g = 1 + 0x1p-40;
  IR_ASSERT_OK(ir_theory_hastie(g, 1.0, 1.0, &B, &V));
  IR_ASSERT_CLOSE(B, 9.094947017721010573e-13, 4 * EPS, 0.0);
  IR_ASSERT_CLOSE(ir_theory_mp_atom(g), 9.094947017721010573e-13, 4 * EPS,
                  0.0);
  /* Finite n beyond 2^53: n = 2^60, p = n + 2 gives B = 2/(2^60 + 2),
   * V = n/(p − n − 1) = 2^60 exactly (old: B = 0 and V = −2^60, because p
   * rounds to n as a double); n = SIZE_MAX, p = n − 1 is the +Inf case
   * (old: p + 2 wrapped to 1 and V came out negative). */
  const size_t n60 = (size_t)1 << 60;
  IR_ASSERT_OK(ir_theory_hastie_exact(n60, n60 + 2, 1.0, 1.0, &B, &V));
  IR_ASSERT_CLOSE(B, 0x1p-59, 4 * EPS, 0.0);
  ck_assert(V == 0x1p60);
  IR_ASSERT_OK(ir_theory_hastie_exact(SIZE_MAX, SIZE_MAX - 1, 1.0, 1.0, &B, &V));
  ck_assert(B == 0 && isinf(V) && V > 0);
  IR_ASSERT_OK(ir_theory_hastie_exact(SIZE_MAX - 1, SIZE_MAX, 1.0, 1.0, &B, &V));
  ck_assert(isinf(V) && V > 0);
  /* γ* near SNR = 1: s = sqrt(1 + mpf(2)**-30); s/(s - 1), 2s - 1
   * (old: relative error 4e-8). */
  double gs, R;
  IR_ASSERT_OK(ir_theory_hastie_gamma_star(1 + 0x1p-30, 1.0, &gs, &R));
  IR_ASSERT_CLOSE(gs, 2147483649.4999999999, 8 * EPS, 0.0);
  IR_ASSERT_CLOSE(R, 1.0000000009313225744, 4 * EPS, 0.0);
  /* The density where the support is narrow (γ = 1e-20: width 4e-10 at
   * 1): sqrt((hi - x)(x - lo))/(2 pi g x) with lo, hi = (1 -+ sqrt(g))^2
   * at x = 1 (old: relative error 8e-8 from the rounded edges). */
  IR_ASSERT_CLOSE(ir_theory_mp_density(1e-20, 1.0), 3183098861.8379068027,
                  16 * EPS, 0.0);
  /* The cdf: quad(density, [lo, x]) at γ = 0.1, x = 1.3529822128134703
   * (old: quadrature error 5e-9; now a closed form, a few eps absolute). */
  IR_ASSERT_CLOSE(ir_theory_mp_cdf(0.1, 1.3529822128134703),
                  0.83212310508537581993, 0.0, 16 * EPS);
  /* A high moment: fsum(binomial(k, j) binomial(k, j + 1) g^j / k) at
   * g = 1e-10, k = 600 (old: NaN, the binomials overflowed); O(k)
   * roundings of positive terms. */
  IR_ASSERT_CLOSE(ir_theory_mp_moment(1e-10, 600), 1.0000179701072818182,
                  4 * 600 * EPS, 0.0);
  /* Heavy ball at ηλ = 1e200: max |root| of r² − (1 + β − ηλ)r + β by
   * polyroots (old: +Inf, a² overflowed). */
  IR_ASSERT_CLOSE(ir_theory_heavy_ball_radius(1.0, 0.9, 1e200),
                  9.9999999999999996973e+199, 8 * EPS, 0.0);
  /* Values beyond double precision are refused, not returned as Inf. */
  ck_assert_int_eq(ir_theory_hastie(0.9, 1.0, 1e308, &B, &V), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_risk(0.9, 1e-3, 1.0, 1e308, &R), IR_EDOM);
}
END_TEST

START_TEST(test_mp_stieltjes_quadratic) {
  /* m solves γz m² − (1 − γ − z) m + 1 = 0 at z = −λ.  Each of the three
   * terms is evaluated with a couple of roundings, and a root computed to
   * relative accuracy δ leaves a residual |F′(m)|·m·δ <= 2δ·(|γzm²| + |bm|).
   * The root is well conditioned (the two roots have opposite signs, so they
   * never meet), hence a stable formula gives δ of a few eps and the
   * residual is at most 16·eps·(|γzm²| + |bm| + 1).  Small λ with γ > 1 is
   * included on purpose: there b = 1 − γ + λ < 0, and the formula must
   * avoid the cancellation in b + sqrt(b² − 4γz). */
  const double gammas[] = {0.1, 0.5, 1.0, 2.0, 10.0};
  const double lambdas[] = {1e-10, 1e-6, 1e-3, 1.0, 1e3};
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 5; j++) {
      const double g = gammas[i], l = lambdas[j], z = -l, b = 1 - g - z;
      double m, dm;
      IR_ASSERT_OK(ir_theory_mp_stieltjes(g, l, &m, &dm));
      const double t1 = g * z * m * m, t2 = b * m;
      const double res = t1 - t2 + 1;
      const double scale = fabs(t1) + fabs(t2) + 1;
      ck_assert_msg(fabs(res) <= 16 * EPS * scale,
                    "gamma %g lambda %g: m = %.17g, residual %.3g > %.3g", g, l,
                    m, fabs(res), 16 * EPS * scale);
      /* The root is the positive one and obeys 0 < m <= 1/λ, since
       * μ is a probability measure on [0, ∞). */
      ck_assert(m > 0 && m <= 1 / l * (1 + 4 * EPS));
    }
}
END_TEST

START_TEST(test_mp_stieltjes_derivative_fd) {
  /* dm against the central difference [m(z + h) − m(z − h)]/(2h) at
   * z = −λ, i.e. [m(λ − h) − m(λ + h)]/(2h) in terms of λ.  Truncation:
   * (h²/6)·|m‴| with m‴(z) = 6∫dμ/(x − z)⁴ <= 6/(λ − h)⁴ (x >= 0, total
   * mass 1), so <= h²/(λ − h)⁴.  Rounding: m <= 1/λ is computed to ~8 eps,
   * so the difference quotient carries <= 8·eps/(λ·h).  h = λ·eps^(1/3)
   * balances the two. */
  const double gammas[] = {0.5, 2.0};
  const double lambdas[] = {0.1, 0.5, 2.0};
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++) {
      const double g = gammas[i], l = lambdas[j], h = l * cbrt(EPS);
      double m, dm, mp, mm;
      IR_ASSERT_OK(ir_theory_mp_stieltjes(g, l, &m, &dm));
      IR_ASSERT_OK(ir_theory_mp_stieltjes(g, l - h, &mp, NULL));
      IR_ASSERT_OK(ir_theory_mp_stieltjes(g, l + h, &mm, NULL));
      const double fd = (mp - mm) / (2 * h);
      const double tol = h * h / pow(l - h, 4) + 8 * EPS / (l * h);
      IR_ASSERT_CLOSE(dm, fd, 0.0, tol);
    }
}
END_TEST

/* ---- §2: ridge --------------------------------------------------------------
 */

START_TEST(test_ridge_optimal_closed_form) {
  /* r² = σ² = 1: λ* = γ and R* = (√(1 + 4γ²) − 1)/(2γ), 0.618034 =
   * (√5 − 1)/2 at γ = 1 (docs/theory.md §2).  A handful of roundings in each
   * route: rtol 16·eps. */
  double l, R;
  IR_ASSERT_OK(ir_theory_ridge_optimal(1.0, 1.0, 1.0, &l, &R));
  ck_assert(l == 1.0);
  IR_ASSERT_CLOSE(R, (sqrt(5.0) - 1) / 2, 0.0, 1e-12);
  IR_ASSERT_CLOSE(R, 0.618034, 0.0, 5e-7);
  const double gammas[] = {0.1, 0.5, 2.0, 4.0, 20.0};
  for (size_t i = 0; i < 5; i++) {
    const double g = gammas[i];
    IR_ASSERT_OK(ir_theory_ridge_optimal(g, 1.0, 1.0, &l, &R));
    IR_ASSERT_CLOSE(l, g, 4 * EPS, 0.0);
    IR_ASSERT_CLOSE(R, (sqrt(1 + 4 * g * g) - 1) / (2 * g), 16 * EPS, 0.0);
  }
  /* λ* = σ²γ/r² in general. */
  IR_ASSERT_OK(ir_theory_ridge_optimal(0.5, 2.0, 0.3, &l, &R));
  IR_ASSERT_CLOSE(l, 0.3 * 0.5 / 2.0, 4 * EPS, 0.0);
}
END_TEST

START_TEST(test_ridge_risk_at_optimum) {
  /* R(λ*) from the general risk formula equals the optimal risk σ²γm(−λ*).
   * At λ* the two λm′ terms cancel analytically (r²λ* = σ²γ); each is at
   * most σ²γ·m (because λm′(−λ) = ∫λ/(x+λ)² dμ <= m), so the sum of the
   * magnitudes is <= 3σ²γm = 3R* and the cancellation costs at most
   * 3·16·eps relative.  R is also minimal there: it exceeds R(λ*) at
   * 0.9λ* and 1.1λ*. */
  const double cases[][3] = {{1.0, 1.0, 1.0},
                             {0.5, 1.0, 1.0},
                             {2.0, 1.0, 1.0},
                             {0.3, 2.0, 0.5},
                             {4.0, 0.7, 1.5}};
  for (size_t i = 0; i < 5; i++) {
    const double g = cases[i][0], r2 = cases[i][1], s2 = cases[i][2];
    double l, Ropt, R, Rlo, Rhi;
    IR_ASSERT_OK(ir_theory_ridge_optimal(g, r2, s2, &l, &Ropt));
    IR_ASSERT_OK(ir_theory_ridge_risk(g, l, r2, s2, &R));
    IR_ASSERT_CLOSE(R, Ropt, 3 * 16 * EPS, 0.0);
    IR_ASSERT_OK(ir_theory_ridge_risk(g, 0.9 * l, r2, s2, &Rlo));
    IR_ASSERT_OK(ir_theory_ridge_risk(g, 1.1 * l, r2, s2, &Rhi));
    ck_assert(Rlo > R && Rhi > R);
  }
}
END_TEST

START_TEST(test_ridge_risk_ridgeless_limit) {
  /* As λ → 0+, R(λ) → the ridgeless risk of ir_theory_hastie.  Expanding
   * m(−λ) = ∫dμ/(x + λ) around λ = 0 (Hastie et al. §5):
   *   variance σ²γ∫x/(x + λ)² dμ_c = σ²γ[∫x⁻¹dμ_c − 2λ∫x⁻²dμ_c + O(λ²)],
   *   bias     r²[(1 − 1/γ)₊ + λ²∫(x + λ)⁻²dμ_c],
   * with μ_c the continuous part; ∫x⁻²dμ_c = 1/|1 − γ|³ for both γ < 1 and
   * γ > 1 (inverse moments of Marchenko–Pastur).  So
   * |R(λ) − R(0)| <= (2λσ²γ + r²λ²)/|1 − γ|³ to first order; we allow
   * twice that.  Rounding: m and λm′ are each computed to ~16 eps and, for
   * γ > 1, both are ≈ (1 − 1/γ)/λ and cancel in m − λm′, costing up to
   * 2·16·eps·σ²γ·S with S = (1 − 1/γ)₊/λ + 1/|1 − γ| a bound on m. */
  const double gammas[] = {0.5, 2.0};
  const double lambda = 1e-8, r2 = 1.0, s2 = 1.0;
  for (size_t i = 0; i < 2; i++) {
    const double g = gammas[i];
    double B, V, R;
    IR_ASSERT_OK(ir_theory_hastie(g, r2, s2, &B, &V));
    IR_ASSERT_OK(ir_theory_ridge_risk(g, lambda, r2, s2, &R));
    const double first =
        (2 * lambda * s2 * g + r2 * lambda * lambda) / pow(fabs(1 - g), 3);
    const double S = (g > 1 ? 1 - 1 / g : 0) / lambda + 1 / fabs(1 - g);
    const double tol = 2 * first + 2 * 16 * EPS * (s2 * g + r2) * S;
    IR_ASSERT_CLOSE(R, B + V, 0.0, tol);
    /* The correction has the predicted sign: ridge lowers the variance. */
    ck_assert(R < B + V + 2 * 16 * EPS * (s2 * g + r2) * S);
  }
}
END_TEST

/* ---- §2: ridge terms and γ* ------------------------------------------- */

START_TEST(test_ridge_terms) {
  /* The two terms add up to ir_theory_ridge_risk bit for bit (same
   * expressions); the bias vanishes as λ → 0 for γ < 1 and tends to
   * r²(1 − 1/γ) for γ > 1 (the ridgeless bias); both are >= 0. */
  const double gammas[] = {0.5, 1.0, 2.0};
  const double lambdas[] = {1e-3, 0.1, 1.0, 10.0};
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++) {
      double B, V, R;
      IR_ASSERT_OK(
          ir_theory_ridge_terms(gammas[i], lambdas[j], 0.7, 0.3, &B, &V));
      IR_ASSERT_OK(ir_theory_ridge_risk(gammas[i], lambdas[j], 0.7, 0.3, &R));
      ck_assert(B + V == R);
      ck_assert(B >= 0 && V >= 0);
    }
  /* Each term tends to its ridgeless counterpart (docs/theory.md §2).  At
   * λ = 1e-8 the bias differs from r²(1 − 1/γ)₊ by r²λ²∫(x + λ)⁻²dμ_c
   * <= r²λ²/|1 − γ|³ (inverse moments of Marchenko–Pastur, as in
   * test_ridge_risk_ridgeless_limit) and is computed as r²λ²m′ with m′
   * accurate to ~16 eps: 1e-12 absolute covers both.  The variance differs
   * by ~2λσ²γ/|1 − γ|³ = 4e-8 at γ = 2, and m − λm′ cancels terms of size
   * (1 − 1/γ)/λ = 5e7 there, costing 2·16·eps·σ²γ·5e7 ≈ 7e-7: 2e-6. */
  double B, V, Bl, Vl;
  IR_ASSERT_OK(ir_theory_ridge_terms(2.0, 1e-8, 1.0, 1.0, &B, &V));
  IR_ASSERT_OK(ir_theory_hastie(2.0, 1.0, 1.0, &Bl, &Vl));
  IR_ASSERT_CLOSE(B, Bl, 0.0, 1e-12);
  IR_ASSERT_CLOSE(V, Vl, 0.0, 2e-6);
  IR_ASSERT_OK(ir_theory_ridge_terms(0.5, 1e-8, 1.0, 1.0, &B, &V));
  IR_ASSERT_OK(ir_theory_hastie(0.5, 1.0, 1.0, &Bl, &Vl));
  IR_ASSERT_CLOSE(B, 0.0, 0.0, 1e-12);
  IR_ASSERT_CLOSE(V, Vl, 0.0, 2 * 2e-8 * 0.5 / 0.125 + 1e-12);
}
END_TEST

START_TEST(test_hastie_gamma_star) {
  /* SNR = 4: γ* = 2/(2 − 1) = 2 and R* = σ²(2·2 − 1) = 3σ² (docs/theory.md
   * §2), which is ir_theory_hastie's risk there; a few roundings each. */
  double g, R, B, V;
  IR_ASSERT_OK(ir_theory_hastie_gamma_star(4.0, 1.0, &g, &R));
  IR_ASSERT_CLOSE(g, 2.0, 4 * EPS, 0.0);
  IR_ASSERT_CLOSE(R, 3.0, 4 * EPS, 0.0);
  IR_ASSERT_OK(ir_theory_hastie_gamma_star(4.0, 1.0, &g, NULL));
  /* Other SNRs: R(γ*) from the risk formula itself, and γ* is a minimum:
   * R(γ*(1 ± 1e-3)) exceeds R(γ*) by ~R″γ*²·1e-6/2, far above rounding. */
  const double cases[][2] = {{2.0, 1.0}, {10.0, 0.5}, {1.5, 1.0}, {100, 1}};
  for (size_t i = 0; i < 4; i++) {
    const double r2 = cases[i][0], s2 = cases[i][1];
    IR_ASSERT_OK(ir_theory_hastie_gamma_star(r2, s2, &g, &R));
    ck_assert(g > 1);
    IR_ASSERT_OK(ir_theory_hastie(g, r2, s2, &B, &V));
    IR_ASSERT_CLOSE(B + V, R, 64 * EPS, 0.0);
    double Bm, Vm, Bp, Vp;
    IR_ASSERT_OK(ir_theory_hastie(g * (1 - 1e-3), r2, s2, &Bm, &Vm));
    IR_ASSERT_OK(ir_theory_hastie(g * (1 + 1e-3), r2, s2, &Bp, &Vp));
    ck_assert(Bm + Vm > R && Bp + Vp > R);
  }
  /* SNR <= 1: no minimizer over γ > 1. */
  ck_assert_int_eq(ir_theory_hastie_gamma_star(1.0, 1.0, &g, &R), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_gamma_star(0.5, 1.0, &g, &R), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_gamma_star(1.0, 0.0, &g, &R), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_gamma_star(NAN, 1.0, &g, &R), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_gamma_star(INFINITY, 1.0, &g, &R), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_gamma_star(4.0, -1.0, &g, &R), IR_EDOM);
}
END_TEST

/* ---- §2: the Marchenko–Pastur law -------------------------------------- */

typedef struct {
  double gamma;
  int power; /* integrand x^power·density(x) */
} mp_moment_params;

static double mp_lib_integrand(double x, void *params) {
  const mp_moment_params *q = params;
  return pow(x, q->power) * ir_theory_mp_density(q->gamma, x);
}

/* ∫ x^power·density over [λ₋, λ₊] with the library's density and edges,
 * by gsl_integration_qags (which extrapolates through the square-root
 * edges and, for γ = 1, the x^(−1/2) singularity at 0). */
static double mp_lib_moment(double gamma, int power, double *err) {
  double lo, hi, res = 0;
  IR_ASSERT_OK(ir_theory_mp_edges(gamma, &lo, &hi));
  mp_moment_params q = {gamma, power};
  gsl_function f = {mp_lib_integrand, &q};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
  ck_assert_int_eq(
      gsl_integration_qags(&f, lo, hi, 0.0, 1e-11, 1000, w, &res, err), 0);
  gsl_integration_workspace_free(w);
  return res;
}

START_TEST(test_mp_edges) {
  /* λ± = (1 ± √γ)² directly (absolute error a few eps·λ₊, the library's
   * form is more accurate for λ₋ near γ = 1), and the identities
   * λ₋λ₊ = (1 − γ)², λ₋ + λ₊ = 2(1 + γ), λ₊ − λ₋ = 4√γ. */
  const double gammas[] = {1e-4, 0.1, 0.25, 0.5, 0.9, 1.0, 1.1, 2.0, 4.0, 100};
  for (size_t i = 0; i < sizeof gammas / sizeof *gammas; i++) {
    const double g = gammas[i], r = sqrt(g);
    double lo, hi;
    IR_ASSERT_OK(ir_theory_mp_edges(g, &lo, &hi));
    IR_ASSERT_CLOSE(lo, (1 - r) * (1 - r), 0.0, 8 * EPS * hi);
    IR_ASSERT_CLOSE(hi, (1 + r) * (1 + r), 4 * EPS, 0.0);
    IR_ASSERT_CLOSE(lo * hi, (1 - g) * (1 - g), 8 * EPS, 0.0);
    IR_ASSERT_CLOSE(lo + hi, 2 * (1 + g), 8 * EPS, 0.0);
    IR_ASSERT_CLOSE(hi - lo, 4 * r, 16 * EPS, 0.0);
    ck_assert(0 <= lo && lo < hi);
    /* Zero outside the open support, positive inside.  The rounded edges
     * lie within 8·eps·λ₊ of the true ones (asserted above), where the
     * density is at most √(8·eps·λ₊·(λ₊ − λ₋ + 8·eps·λ₊))/(2πγx): the
     * library decides inside/outside from accurate distances to the true
     * edges, so it may return such a value rather than 0 there. */
    for (int e = 0; e < 2; e++) {
      const double x = e ? hi : lo, d = 8 * EPS * hi;
      ck_assert(ir_theory_mp_density(g, x) >= 0);
      if (x > 0)
        ck_assert(ir_theory_mp_density(g, x) <=
                  sqrt(d * (hi - lo + d)) / (2 * M_PI * g * x));
    }
    ck_assert(ir_theory_mp_density(g, hi * 1.01) == 0.0);
    ck_assert(ir_theory_mp_density(g, -1.0) == 0.0);
    ck_assert(ir_theory_mp_density(g, 0.5 * (lo + hi)) > 0);
  }
  /* Exact cases: γ = 1/4 → [1/4, 9/4]; γ = 1 → [0, 4]; γ = 4 → [1, 9]. */
  double lo, hi;
  IR_ASSERT_OK(ir_theory_mp_edges(0.25, &lo, &hi));
  ck_assert(lo == 0.25 && hi == 2.25);
  IR_ASSERT_OK(ir_theory_mp_edges(1.0, &lo, &hi));
  ck_assert(lo == 0.0 && hi == 4.0);
  IR_ASSERT_OK(ir_theory_mp_edges(4.0, &lo, &hi));
  ck_assert(lo == 1.0 && hi == 9.0);
  /* Near γ = 1 the lower edge keeps its relative accuracy:
   * γ = 1 + 1e-6 → λ₋ = (1e-6/(1 + √γ))² ≈ 2.4999975e-13. */
  IR_ASSERT_OK(ir_theory_mp_edges(1 + 1e-6, &lo, &hi));
  const double d = ((1 + 1e-6) - 1) / (1 + sqrt(1 + 1e-6));
  IR_ASSERT_CLOSE(lo, d * d, 8 * EPS, 0.0);
}
END_TEST

START_TEST(test_mp_density_law) {
  /* The library's density against an independent form (the test's own
   * mp_density, written with 1 − √γ), and its moments by quadrature:
   * mass 1 − atom, mean 1 (E x = tr E[XᵀX/n]/p = E x_ij² = 1; the atom
   * contributes nothing), second moment 1 + γ (E tr (XᵀX/n)²/p =
   * (np² + n²p)/(n²p) → 1 + γ).  The quadrature reports its error; we
   * allow twice that plus the requested 1e-11 relative. */
  const double gammas[] = {0.1, 0.5, 1.0, 2.0, 10.0};
  for (size_t i = 0; i < 5; i++) {
    const double g = gammas[i];
    double lo, hi;
    IR_ASSERT_OK(ir_theory_mp_edges(g, &lo, &hi));
    for (int k = 1; k < 10; k++) {
      const double x = lo + (hi - lo) * k / 10.0;
      IR_ASSERT_CLOSE(ir_theory_mp_density(g, x), mp_density(x, g), 64 * EPS,
                      0.0);
    }
    const double atom = ir_theory_mp_atom(g);
    IR_ASSERT_CLOSE(atom, g > 1 ? 1 - 1 / g : 0.0, 2 * EPS, 0.0);
    double e0, e1, e2;
    const double mass = mp_lib_moment(g, 0, &e0);
    const double mean = mp_lib_moment(g, 1, &e1);
    const double m2 = mp_lib_moment(g, 2, &e2);
    IR_ASSERT_CLOSE(mass, 1 - atom, 1e-11, 2 * e0);
    IR_ASSERT_CLOSE(mean, 1.0, 1e-11, 2 * e1);
    IR_ASSERT_CLOSE(m2, 1 + g, 1e-11, 2 * e2);
  }
  /* The atom exactly: 0 for γ <= 1, 1/2 at γ = 2, 3/4 at γ = 4. */
  ck_assert(ir_theory_mp_atom(0.5) == 0.0 && ir_theory_mp_atom(1.0) == 0.0);
  ck_assert(ir_theory_mp_atom(2.0) == 0.5 && ir_theory_mp_atom(4.0) == 0.75);
}
END_TEST

/* ---- §3: activation coefficients --------------------------------------- */

static ir_activation activation(const char *name) {
  ir_activation f = NULL;
  IR_ASSERT_OK(ir_theory_rf_activation(name, &f));
  ck_assert(f != NULL);
  return f;
}

/* The quadrature asks for 1e-12 relative per half-line; 1e-11 covers the
 * sum of the two halves and the division in ζ. */
#define RF_TOL 1e-11

START_TEST(test_rf_coeffs_closed_forms) {
  ir_rf_coeffs c;
  const double phi0 = 1 / sqrt(2 * M_PI); /* φ(0) */
  /* ReLU: μ0 = E G₊ = φ(0), μ1 = E G² 1{G > 0} = 1/2, E σ² = 1/2, so
   * μ*² = 1/4 − 1/(2π) and ζ = 1.658897 (docs/theory.md §3). */
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("relu"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu0, phi0, RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.mu1, 0.5, RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.m2, 0.5, RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.mustar, sqrt(0.25 - 1 / (2 * M_PI)), RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.zeta, 0.5 / sqrt(0.25 - 1 / (2 * M_PI)), RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.zeta, 1.658897, 0.0, 5e-7);
  /* |x|: μ0 = 2φ(0), μ1 = 0 (odd integrand), E σ² = 1, ζ = 0. */
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("abs"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu0, 2 * phi0, RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.mu1, 0.0, 0.0, RF_TOL);
  IR_ASSERT_CLOSE(c.m2, 1.0, RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.mustar, sqrt(1 - 2 / M_PI), RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.zeta, 0.0, 0.0, RF_TOL);
  /* erf: μ0 = 0; μ1 = E erf′(G) = (2/√π)E e^(−G²) = 2/√(3π) (Stein's
   * lemma); E erf(G)² = (2/π)·asin(2/3) (the arcsine law
   * E erf(aG)erf(bG) = (2/π)asin(2ab/√((1 + 2a²)(1 + 2b²)))). */
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("erf"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu0, 0.0, 0.0, RF_TOL);
  IR_ASSERT_CLOSE(c.mu1, 2 / sqrt(3 * M_PI), RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.m2, 2 / M_PI * asin(2.0 / 3.0), RF_TOL, 0.0);
  /* GELU x·Φ(x): μ0 = E[GΦ(G)] = E φ(G) = 1/(2√π); μ1 = E[Φ(G) + Gφ(G)]
   * = 1/2 (Stein, and Gφ(G) is odd). */
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("gelu"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu0, 1 / (2 * sqrt(M_PI)), RF_TOL, 0.0);
  IR_ASSERT_CLOSE(c.mu1, 0.5, RF_TOL, 0.0);
  /* Softplus: μ1 = E softplus′(G) = E sigmoid(G) = 1/2 (sigmoid(x) +
   * sigmoid(−x) = 1); sigmoid: μ0 = 1/2 by the same symmetry. */
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("softplus"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu1, 0.5, RF_TOL, 0.0);
  ck_assert(c.mustar > 0 && isfinite(c.zeta));
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("sigmoid"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu0, 0.5, RF_TOL, 0.0);
  /* μ*² = E σ² − μ0² − μ1² for every built-in with μ* > 0. */
  const char *names[] = {"relu",     "abs",  "tanh", "sigmoid",
                         "softplus", "gelu", "erf"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    IR_ASSERT_OK(ir_theory_rf_coeffs(activation(names[i]), NULL, &c));
    IR_ASSERT_CLOSE(c.mustar * c.mustar, c.m2 - c.mu0 * c.mu0 - c.mu1 * c.mu1,
                    1e-9, RF_TOL * c.m2);
  }
}
END_TEST

/* A ReLU shifted by params[0] = t: max(x − t, 0), with its kink away from
 * the split point 0 of the library's quadrature. */
static double shifted_relu(double x, void *params) {
  const double t = *(const double *)params;
  return x > t ? x - t : 0.0;
}

START_TEST(test_rf_coeffs_params) {
  /* With Q(t) = 1 − Φ(t): μ0 = φ(t) − tQ(t), μ1 = Q(t) (Stein),
   * E σ² = (1 + t²)Q(t) − tφ(t). */
  const double ts[] = {-1.5, 0.7, 2.0};
  for (size_t i = 0; i < 3; i++) {
    double t = ts[i];
    const double phi = exp(-t * t / 2) / sqrt(2 * M_PI);
    const double Q = 0.5 * erfc(t / M_SQRT2);
    ir_rf_coeffs c;
    IR_ASSERT_OK(ir_theory_rf_coeffs(shifted_relu, &t, &c));
    IR_ASSERT_CLOSE(c.mu0, phi - t * Q, RF_TOL, 0.0);
    IR_ASSERT_CLOSE(c.mu1, Q, RF_TOL, 0.0);
    IR_ASSERT_CLOSE(c.m2, (1 + t * t) * Q - t * phi, RF_TOL, 0.0);
  }
}
END_TEST

typedef struct {
  ir_activation f;
  int kind; /* 0: σ, 1: Gσ, 2: σ² */
} simpson_arg;

/* Composite Simpson's rule for E[g(G)] on [−12, 12] with 10⁵ intervals:
 * the error is ~(L/180)h⁴·max|(gφ)⁗| ≈ 1e-15 for smooth g of moderate
 * growth (h = 2.4e-4), and the tails beyond |x| = 12 weigh < 1e-31. */
static double simpson_moment(ir_activation f, int kind) {
  const size_t m = 100000;
  const double a = -12, b = 12, h = (b - a) / (double)m;
  double sum = 0;
  for (size_t i = 0; i <= m; i++) {
    const double x = a + (double)i * h;
    const double s = f(x, NULL);
    const double g = kind == 0 ? s : kind == 1 ? x * s : s * s;
    const double w = (i == 0 || i == m) ? 1 : (i % 2 ? 4 : 2);
    sum += w * g * exp(-x * x / 2);
  }
  return sum * h / 3 / sqrt(2 * M_PI);
}

START_TEST(test_rf_coeffs_tanh_simpson) {
  /* tanh has no closed-form Gaussian moments: check the adaptive
   * quadrature against Simpson's rule (an independent method), and gelu
   * and softplus the same way.  Simpson's rounding: 10⁵ terms of size
   * ~h, so ~1e5·eps·(sum) ≈ 2e-11 relative at worst; 1e-10 covers it. */
  const char *names[] = {"tanh", "softplus", "gelu", "sigmoid"};
  for (size_t i = 0; i < 4; i++) {
    ir_activation f = activation(names[i]);
    ir_rf_coeffs c;
    IR_ASSERT_OK(ir_theory_rf_coeffs(f, NULL, &c));
    const double mu0 = simpson_moment(f, 0), mu1 = simpson_moment(f, 1),
                 m2 = simpson_moment(f, 2);
    IR_ASSERT_CLOSE(c.mu0, mu0, 1e-10, 1e-12);
    IR_ASSERT_CLOSE(c.mu1, mu1, 1e-10, 1e-12);
    IR_ASSERT_CLOSE(c.m2, m2, 1e-10, 1e-12);
    /* μ* from the Simpson moments by the difference formula: that loses
     * about m2/μ*² digits' worth, a factor <= 15 here. */
    IR_ASSERT_CLOSE(c.mustar, sqrt(m2 - mu0 * mu0 - mu1 * mu1), 1e-9, 0.0);
  }
  /* tanh is odd: μ0 = 0 up to the quadrature's absolute target. */
  ir_rf_coeffs c;
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("tanh"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu0, 0.0, 0.0, 1e-12);
}
END_TEST

/* σ(x) = x + ε·He₂(x)/√2 with He₂(x) = x² − 1: orthonormal Hermite
 * components μ0 = 0, μ1 = 1, μ* = ε exactly. */
static double nearly_linear(double x, void *params) {
  const double eps = *(const double *)params;
  return x + eps * (x * x - 1) / M_SQRT2;
}

static double constant_act(double x, void *params) {
  (void)x;
  return *(const double *)params;
}

START_TEST(test_rf_coeffs_linear) {
  /* Linear σ: μ* = 0 and ζ = +Inf, which ir_theory_mei_montanari refuses
   * (the formula's ζ → ∞ limit is not the linear model's risk for
   * ψ1 > 1); −x gives ζ = −Inf. */
  ir_rf_coeffs c;
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("linear"), NULL, &c));
  IR_ASSERT_CLOSE(c.mu1, 1.0, RF_TOL, 0.0);
  ck_assert(c.mustar == 0.0);
  ck_assert(isinf(c.zeta) && c.zeta > 0);
  ir_rf_risk r;
  ck_assert_int_eq(ir_theory_mei_montanari(c.zeta, 2.0, 3.0, 1, 0, 0.1, &r),
                   IR_EDOM);
  ck_assert(strstr(ir_error_message(), "linear") != NULL);
  /* A nearly linear σ keeps full relative accuracy in μ*, because μ*² is
   * integrated as E(σ − μ0 − μ1G)² rather than formed as a difference
   * (which would leave ~eps/ε² = 2e-10 relative here, and nothing at
   * ε = 1e-8). */
  const double eps_values[] = {1e-3, 1e-5};
  for (size_t i = 0; i < 2; i++) {
    double eps = eps_values[i];
    IR_ASSERT_OK(ir_theory_rf_coeffs(nearly_linear, &eps, &c));
    IR_ASSERT_CLOSE(c.mu1, 1.0, RF_TOL, 0.0);
    IR_ASSERT_CLOSE(c.mustar, eps, 1e-9, 0.0);
    IR_ASSERT_CLOSE(c.zeta, 1 / eps, 1e-9, 0.0);
  }
  /* A constant σ has neither a linear nor a nonlinear part. */
  double k = 2.5;
  ck_assert_int_eq(ir_theory_rf_coeffs(constant_act, &k, &c), IR_EDOM);
  k = 0.0;
  ck_assert_int_eq(ir_theory_rf_coeffs(constant_act, &k, &c), IR_EDOM);
  ck_assert_int_eq(ir_theory_rf_coeffs(NULL, NULL, &c), IR_EINVAL);
}
END_TEST

/* ---- §3: Mei & Montanari ---------------------------------------------- */

/* docs/theory.md §3 transcribed literally — the textbook root for χ and the
 * expanded polynomials — as an independent evaluation. */
static void mm_expanded(double zeta, double psi1, double psi2, double *E0,
                        double *E1, double *E2) {
  const double psi = fmin(psi1, psi2), z = zeta;
  const double b = psi * z * z - z * z - 1;
  const double chi = -(b + sqrt(b * b + 4 * psi * z * z)) / (2 * z * z);
  const double c = chi;
  *E0 = -pow(c, 5) * pow(z, 6) + 3 * pow(c, 4) * pow(z, 4) +
        (psi1 * psi2 - psi2 - psi1 + 1) * pow(c, 3) * pow(z, 6) -
        2 * pow(c, 3) * pow(z, 4) - 3 * pow(c, 3) * z * z +
        (psi1 + psi2 - 3 * psi1 * psi2 + 1) * c * c * pow(z, 4) +
        2 * c * c * z * z + c * c + 3 * psi1 * psi2 * c * z * z - psi1 * psi2;
  *E1 = psi2 * pow(c, 3) * pow(z, 4) - psi2 * c * c * z * z +
        psi1 * psi2 * c * z * z - psi1 * psi2;
  *E2 = pow(c, 5) * pow(z, 6) - 3 * pow(c, 4) * pow(z, 4) +
        (psi1 - 1) * pow(c, 3) * pow(z, 6) + 2 * pow(c, 3) * pow(z, 4) +
        3 * pow(c, 3) * z * z + (-psi1 - 1) * c * c * pow(z, 4) -
        2 * c * c * z * z - c * c;
}

static double relu_zeta(void) {
  ir_rf_coeffs c;
  IR_ASSERT_OK(ir_theory_rf_coeffs(activation("relu"), NULL, &c));
  return c.zeta;
}

START_TEST(test_mei_montanari_reference) {
  /* docs/theory.md §3: ReLU, ψ2 = 3, τ² = 0.1, F1 = 1, F* = 0 →
   * R = 0.82997, 1.5680, 0.42729, 0.16493 at ψ1 = 0.5, 2.5, 5, 10, each
   * to the five significant digits given (half a unit in the last). */
  const double zeta = relu_zeta();
  const double psi1[] = {0.5, 2.5, 5.0, 10.0};
  const double ref[] = {0.82997, 1.5680, 0.42729, 0.16493};
  const double half_ulp5[] = {5e-6, 5e-5, 5e-6, 5e-6};
  for (size_t i = 0; i < 4; i++) {
    ir_rf_risk r;
    IR_ASSERT_OK(
        ir_theory_mei_montanari(zeta, psi1[i], 3.0, 1.0, 0.0, 0.1, &r));
    IR_ASSERT_CLOSE(r.risk, ref[i], 0.0, half_ulp5[i]);
    ck_assert(r.bias > 0 && r.variance > 0 && r.nonlinear == 0.0);
    ck_assert(r.risk == r.bias + r.variance + r.nonlinear);
  }
}
END_TEST

START_TEST(test_mei_montanari_expanded) {
  /* The library (u = χζ², factored E0) against the literal transcription,
   * away from the peak (|ψ1 − ψ2| >= 0.5 here), where the sum of the
   * magnitudes of E0's terms stays below 2.6·|E0| on this grid; the
   * textbook root for χ cancels when ψζ² < ζ² + 1, by up to ~100× here.
   * Together a few thousand eps: 1e-11 relative.  Also the identity
   * E2/E0 = ψ1/(ψ2 − ψ1) for ψ1 < ψ2 (a few roundings), and F* entering
   * as (τ² + F*²)V + F*². */
  const double zetas[] = {0.2, 1.0, 1.658897, 4.0};
  const double psis[] = {0.3, 0.8, 2.0, 5.0, 20.0};
  for (size_t a = 0; a < 4; a++)
    for (size_t i = 0; i < 5; i++)
      for (size_t j = 0; j < 5; j++) {
        const double z = zetas[a], p1 = psis[i], p2 = psis[j];
        if (i == j)
          continue;
        double E0, E1, E2;
        mm_expanded(z, p1, p2, &E0, &E1, &E2);
        ir_rf_risk r;
        IR_ASSERT_OK(ir_theory_mei_montanari(z, p1, p2, 1.0, 0.0, 1.0, &r));
        IR_ASSERT_CLOSE(r.bias, E1 / E0, 1e-11, 0.0);
        IR_ASSERT_CLOSE(r.variance, E2 / E0, 1e-11, 0.0);
        if (p1 < p2)
          IR_ASSERT_CLOSE(r.variance, p1 / (p2 - p1), 1e-12, 0.0);
        /* Only ζ² matters. */
        ir_rf_risk rn;
        IR_ASSERT_OK(ir_theory_mei_montanari(-z, p1, p2, 1.0, 0.0, 1.0, &rn));
        ck_assert(rn.risk == r.risk);
        /* F1 = 0.5, F* = 0.7, τ² = 0.2. */
        ir_rf_risk rf;
        IR_ASSERT_OK(ir_theory_mei_montanari(z, p1, p2, 0.5, 0.7, 0.2, &rf));
        IR_ASSERT_CLOSE(rf.bias, 0.25 * E1 / E0, 1e-11, 0.0);
        IR_ASSERT_CLOSE(rf.variance, (0.2 + 0.49) * E2 / E0, 1e-11, 0.0);
        IR_ASSERT_CLOSE(rf.nonlinear, 0.49, 4 * EPS, 0.0);
        ck_assert(rf.bias >= 0 && rf.variance >= 0);
      }
}
END_TEST

START_TEST(test_mei_montanari_peak) {
  /* R grows without bound as ψ1 → ψ2 = 3 from either side: E0 vanishes
   * linearly there (E0 = |ψ1 − ψ2|·D), so δ·R(3 ± δ) tends to a finite
   * nonzero limit: between δ = 1e-4 and 1e-6 it changes by O(δ) relative,
   * while R itself grows 100-fold.  At ψ1 = ψ2 exactly the bias and
   * variance are +Inf, unless their coefficients are 0. */
  const double zeta = relu_zeta();
  ir_rf_risk r, prev;
  IR_ASSERT_OK(ir_theory_mei_montanari(zeta, 2.0, 3.0, 1, 0, 0.1, &prev));
  for (int side = -1; side <= 1; side += 2) {
    double prev_r = 0, prev_scaled = 0;
    for (int k = 1; k <= 8; k++) {
      const double delta = pow(10.0, -k);
      IR_ASSERT_OK(ir_theory_mei_montanari(zeta, 3.0 + side * delta, 3.0, 1, 0,
                                           0.1, &r));
      ck_assert(isfinite(r.risk));
      ck_assert_msg(r.risk > prev_r, "side %d delta %g: R = %g <= %g", side,
                    delta, r.risk, prev_r);
      if (k >= 4)
        IR_ASSERT_CLOSE(r.risk * delta, prev_scaled, 1e-2, 0.0);
      prev_r = r.risk;
      prev_scaled = r.risk * delta;
    }
    ck_assert(prev_r > 1e7); /* ≈ 0.73/δ at δ = 1e-8 */
  }
  /* The literal E0 of docs/theory.md indeed vanishes at ψ1 = ψ2 (to rounding
   * relative to its terms, which are of the size of E2), the fact the
   * library's factored form rests on. */
  const double pk[] = {0.5, 1.0, 3.0, 20.0};
  for (size_t i = 0; i < 4; i++) {
    double E0, E1, E2;
    mm_expanded(zeta, pk[i], pk[i], &E0, &E1, &E2);
    IR_ASSERT_CLOSE(E0, 0.0, 0.0, 1e-12 * (fabs(E1) + fabs(E2)));
  }
  IR_ASSERT_OK(ir_theory_mei_montanari(zeta, 3.0, 3.0, 1, 0, 0.1, &r));
  ck_assert(isinf(r.bias) && r.bias > 0);
  ck_assert(isinf(r.variance) && r.variance > 0);
  ck_assert(isinf(r.risk) && r.risk > 0);
  /* Without noise the peak is still there through the bias (the nonlinear
   * part of σ acts as noise) ... */
  IR_ASSERT_OK(ir_theory_mei_montanari(zeta, 3.0, 3.0, 1, 0, 0, &r));
  ck_assert(isinf(r.risk) && r.variance == 0.0);
  /* ... and a zero target with no noise has zero risk even there. */
  IR_ASSERT_OK(ir_theory_mei_montanari(zeta, 3.0, 3.0, 0, 0, 0, &r));
  ck_assert(r.risk == 0.0);
}
END_TEST

START_TEST(test_mei_montanari_limits) {
  /* ζ = 0 (μ1 = 0: no linear part): χ = −ψ, u = 0, so E0 = ψ² − ψ1ψ2,
   * E1 = −ψ1ψ2, E2 = −ψ²: B = max/(max − min), V = min/(max − min) with
   * max, min of (ψ1, ψ2) — the linear target acts as noise. */
  const double pairs[][2] = {{0.5, 3.0}, {3.0, 0.5}, {10.0, 3.0}, {2.0, 2.5}};
  for (size_t i = 0; i < 4; i++) {
    const double p1 = pairs[i][0], p2 = pairs[i][1];
    const double mx = fmax(p1, p2), mn = fmin(p1, p2);
    ir_rf_risk r;
    IR_ASSERT_OK(ir_theory_mei_montanari(0.0, p1, p2, 1.0, 0.0, 1.0, &r));
    IR_ASSERT_CLOSE(r.bias, mx / (mx - mn), 16 * EPS, 0.0);
    IR_ASSERT_CLOSE(r.variance, mn / (mx - mn), 16 * EPS, 0.0);
  }
  /* ζ → ∞ with ψ1 < min(1, ψ2): least squares on N random directions of
   * a linear model, B → (1 − ψ1)ψ2/(ψ2 − ψ1) (the missed part of β₁ both
   * lost and acting as noise), V → ψ1/(ψ2 − ψ1); the correction is
   * O(1/ζ²) = 1e-12 at ζ = 1e6. */
  const double under[][2] = {{0.5, 3.0}, {0.5, 0.8}, {0.2, 10.0}};
  for (size_t i = 0; i < 3; i++) {
    const double p1 = under[i][0], p2 = under[i][1];
    ir_rf_risk r;
    IR_ASSERT_OK(ir_theory_mei_montanari(1e6, p1, p2, 1.0, 0.0, 1.0, &r));
    IR_ASSERT_CLOSE(r.bias, (1 - p1) * p2 / (p2 - p1), 1e-9, 0.0);
    IR_ASSERT_CLOSE(r.variance, p1 / (p2 - p1), 1e-9, 0.0);
  }
  /* Far in the overparametrized regime the risk approaches that of
   * ψ1 = ∞ and decreases with ψ1 (ReLU, docs/theory.md parameters). */
  const double zeta = relu_zeta();
  double prev = INFINITY;
  for (double p1 = 4; p1 <= 4096; p1 *= 4) {
    ir_rf_risk r;
    IR_ASSERT_OK(ir_theory_mei_montanari(zeta, p1, 3.0, 1.0, 0.0, 0.1, &r));
    ck_assert(r.risk < prev);
    prev = r.risk;
  }
}
END_TEST

START_TEST(test_rf_errors) {
  ir_rf_risk r;
  const double z = 1.658897;
  ck_assert_int_eq(ir_theory_mei_montanari(z, 0.0, 3, 1, 0, 0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, -1, 3, 1, 0, 0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, 2, 0.0, 1, 0, 0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, NAN, 3, 1, 0, 0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, 2, INFINITY, 1, 0, 0.1, &r),
                   IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, 2, 3, -1, 0, 0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, 2, 3, 1, -1, 0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, 2, 3, 1, 0, -0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(z, 2, 3, 1, 0, NAN, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(NAN, 2, 3, 1, 0, 0.1, &r), IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(INFINITY, 2, 3, 1, 0, 0.1, &r),
                   IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(-INFINITY, 2, 3, 1, 0, 0.1, &r),
                   IR_EDOM);
  ck_assert_int_eq(ir_theory_mei_montanari(1e31, 2, 3, 1, 0, 0.1, &r), IR_EDOM);
  ir_activation f;
  ck_assert_int_eq(ir_theory_rf_activation("sigmoidd", &f), IR_EINVAL);
  ck_assert(strstr(ir_error_message(), "sigmoidd") != NULL);
  ck_assert_int_eq(ir_theory_rf_activation("", &f), IR_EINVAL);
  ck_assert_int_eq(ir_theory_rf_activation(NULL, &f), IR_EINVAL);
  /* Every listed name resolves. */
  char names[256];
  snprintf(names, sizeof names, "%s", ir_theory_rf_activation_names());
  size_t count = 0;
  for (char *tok = strtok(names, ", "); tok; tok = strtok(NULL, ", ")) {
    IR_ASSERT_OK(ir_theory_rf_activation(tok, &f));
    count++;
  }
  ck_assert_uint_ge(count, 4);
  /* Marchenko–Pastur and ridge terms. */
  double lo, hi, b, v;
  ck_assert_int_eq(ir_theory_mp_edges(0.0, &lo, &hi), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_edges(-1.0, &lo, &hi), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_edges(NAN, &lo, &hi), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_edges(INFINITY, &lo, &hi), IR_EDOM);
  ck_assert(isnan(ir_theory_mp_density(0.0, 1.0)));
  ck_assert(isnan(ir_theory_mp_density(-2.0, 1.0)));
  ck_assert(isnan(ir_theory_mp_density(1.0, NAN)));
  ck_assert(isnan(ir_theory_mp_atom(0.0)));
  ck_assert(isnan(ir_theory_mp_atom(NAN)));
  ck_assert_int_eq(ir_theory_ridge_terms(1.0, 0.0, 1, 1, &b, &v), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_terms(0.0, 1.0, 1, 1, &b, &v), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_terms(1.0, 1.0, -1, 1, &b, &v), IR_EDOM);
}
END_TEST

/* ---- errors ---------------------------------------------------------------
 */

START_TEST(test_theory_domain_errors) {
  double a, b;
  ck_assert_int_eq(ir_theory_hastie(0.0, 1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie(-1.0, 1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie(NAN, 1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie(INFINITY, 1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie(2.0, -1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie(2.0, 1, NAN, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_exact(0, 5, 1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_exact(5, 0, 1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_hastie_exact(5, 10, -1, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_stieltjes(0.0, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_stieltjes(1.0, 0, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_stieltjes(1.0, -1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_stieltjes(NAN, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_mp_stieltjes(1.0, INFINITY, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_risk(1.0, 0.0, 1, 1, &a), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_risk(1.0, 1.0, -1, 1, &a), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_risk(-1.0, 1.0, 1, 1, &a), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_optimal(1.0, 0.0, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_optimal(1.0, 1.0, 0, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_optimal(0.0, 1.0, 1, &a, &b), IR_EDOM);
  ck_assert_int_eq(ir_theory_ridge_optimal(1.0, NAN, 1, &a, &b), IR_EDOM);
}
END_TEST

START_TEST(test_gd_traj_errors) {
  gsl_matrix *X = ir_test_gaussian(4, 6, 501), *Y = ir_test_gaussian(4, 2, 502);
  ir_svd *svd = ir_svd_alloc(4, 6);
  IR_ASSERT_OK(ir_svd_decomp(svd, X));
  ck_assert_ptr_null(ir_gd_traj_alloc(svd, Y, NULL, 0.0));
  ck_assert_ptr_null(ir_gd_traj_alloc(svd, Y, NULL, -0.1));
  ck_assert_ptr_null(ir_gd_traj_alloc(svd, Y, NULL, NAN));
  ck_assert_ptr_null(ir_gd_traj_alloc(svd, Y, NULL, INFINITY));
  gsl_matrix *Ybad = ir_test_gaussian(5, 2, 503);
  ck_assert_ptr_null(ir_gd_traj_alloc(svd, Ybad, NULL, 0.1));
  gsl_matrix *W0bad = ir_test_gaussian(6, 3, 504);
  ck_assert_ptr_null(ir_gd_traj_alloc(svd, Y, W0bad, 0.1));
  ir_gd_traj *g = ir_gd_traj_alloc(svd, Y, NULL, 0.1);
  ck_assert_ptr_nonnull(g);
  gsl_matrix *W = gsl_matrix_alloc(6, 2), *Wbad = gsl_matrix_alloc(6, 3);
  ck_assert_int_eq(ir_gd_traj_at(g, -1.0, W), IR_EDOM);
  ck_assert_int_eq(ir_gd_traj_at(g, 1.5, W), IR_EDOM);
  ck_assert_int_eq(ir_gd_traj_at(g, NAN, W), IR_EDOM);
  ck_assert_int_eq(ir_gd_traj_at(g, 1.0, Wbad), IR_ESHAPE);
  ck_assert_int_eq(ir_gd_traj_limit(g, -1, Wbad), IR_ESHAPE);
  ir_gd_traj_free(g);
  ir_gd_traj_free(NULL);
  gsl_matrix_free(W);
  gsl_matrix_free(Wbad);
  gsl_matrix_free(W0bad);
  gsl_matrix_free(Ybad);
  ir_svd_free(svd);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* The SGD noise floor against an independent dense solve: the stationary
 * second moment as the fixed point of the p²×p² linear map
 *   vec Σ ← (I − η(I⊗H + H⊗I) + η²E[A⊗A]) vec Σ + (η²/B) vec D,
 * E[A⊗A] = (1/B)(1/n)Σ_i (x_i x_iᵀ)⊗(x_i x_iᵀ) + (1 − 1/B) H⊗H, solved by
 * LU (no eigenbasis, no CG).  A Monte Carlo run of SGD (numpy, 4e5 steps)
 * gave 0.012690 for the numpy draw of this shape; here the data are GSL's. */
static double floor_dense(const gsl_matrix *X, const gsl_vector *r, double eta,
                          size_t B) {
  const size_t n = X->size1, p = X->size2, q = p * p;
  gsl_matrix *H = gsl_matrix_calloc(p, p), *T = gsl_matrix_calloc(q, q);
  gsl_vector *b = gsl_vector_calloc(q), *x = gsl_vector_alloc(q);
  gsl_permutation *perm = gsl_permutation_alloc(q);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0 / (double)n, X, X, 0.0, H);
  /* T = I − (the map) = η(I⊗H + H⊗I) − η²E[A⊗A]. */
  for (size_t a = 0; a < p; a++)
    for (size_t c = 0; c < p; c++)
      for (size_t bb = 0; bb < p; bb++)
        for (size_t d = 0; d < p; d++) {
          /* index (a,c) of Σ' from (bb,d) of Σ: (HΣ)_{ac} = H_{a bb} Σ_{bb c}. */
          double v = 0;
          if (c == d)
            v += eta * gsl_matrix_get(H, a, bb);
          if (a == bb)
            v += eta * gsl_matrix_get(H, d, c);
          v -= eta * eta * (1 - 1.0 / (double)B) * gsl_matrix_get(H, a, bb) *
               gsl_matrix_get(H, d, c);
          double m = 0;
          for (size_t i = 0; i < n; i++)
            m += gsl_matrix_get(X, i, a) * gsl_matrix_get(X, i, bb) *
                 gsl_matrix_get(X, i, d) * gsl_matrix_get(X, i, c);
          v -= eta * eta / (double)B * m / (double)n;
          gsl_matrix_set(T, a * p + c, bb * p + d, v);
        }
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0; a < p; a++)
      for (size_t c = 0; c < p; c++)
        b->data[a * p + c] += eta * eta / (double)B / (double)n *
                              gsl_vector_get(r, i) * gsl_vector_get(r, i) *
                              gsl_matrix_get(X, i, a) * gsl_matrix_get(X, i, c);
  int sg;
  gsl_linalg_LU_decomp(T, perm, &sg);
  gsl_linalg_LU_solve(T, perm, b, x);
  double tr = 0;
  for (size_t a = 0; a < p; a++)
    tr += x->data[a * p + a];
  gsl_matrix_free(H);
  gsl_matrix_free(T);
  gsl_vector_free(b);
  gsl_vector_free(x);
  gsl_permutation_free(perm);
  return tr;
}

START_TEST(test_sgd_floor_dense) {
  const size_t n = 60, p = 6;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 7);
  gsl_matrix *X = gsl_matrix_alloc(n, p), *R = gsl_matrix_alloc(n, 1);
  gsl_vector *y = gsl_vector_alloc(n), *w = gsl_vector_alloc(p),
             *r = gsl_vector_alloc(n), *tau = gsl_vector_alloc(p);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < p; j++)
      gsl_matrix_set(X, i, j, gsl_ran_gaussian(rng, 1.0));
    gsl_vector_set(y, i, gsl_ran_gaussian(rng, 1.0));
  }
  /* Least squares by QR (independent of the library's SVD). */
  gsl_matrix *QR = gsl_matrix_alloc(n, p);
  gsl_matrix_memcpy(QR, X);
  gsl_linalg_QR_decomp(QR, tau);
  gsl_linalg_QR_lssolve(QR, tau, y, w, r);
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(R, i, 0, gsl_vector_get(r, i));
  const size_t Bs[3] = {1, 3, 20};
  for (int k = 0; k < 3; k++) {
    double msd = -1;
    ck_assert_int_eq(ir_theory_sgd_floor(X, R, 0.05, Bs[k], &msd), IR_OK);
    IR_ASSERT_CLOSE(msd, floor_dense(X, r, 0.05, Bs[k]), 1e-10, 0);
  }
  /* A batch does not change the Lyapunov limit, only the variance: the
   * floor at B scales like 1/B for small eta. */
  double m1, m20;
  ck_assert_int_eq(ir_theory_sgd_floor(X, R, 1e-4, 1, &m1), IR_OK);
  ck_assert_int_eq(ir_theory_sgd_floor(X, R, 1e-4, 20, &m20), IR_OK);
  IR_ASSERT_CLOSE(m1 / m20, 20.0, 1e-3, 0);
  /* Refusals: n <= p, an unstable step, a rank-deficient X. */
  gsl_matrix_view Xs = gsl_matrix_submatrix(X, 0, 0, 5, p);
  gsl_matrix_view Rs = gsl_matrix_submatrix(R, 0, 0, 5, 1);
  ck_assert_int_eq(ir_theory_sgd_floor(&Xs.matrix, &Rs.matrix, 0.05, 1, &m1),
                   IR_EINVAL);
  ck_assert_int_eq(ir_theory_sgd_floor(X, R, 10.0, 1, &m1), IR_EINVAL);
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(X, i, 1, gsl_matrix_get(X, i, 0));
  ck_assert_int_eq(ir_theory_sgd_floor(X, R, 0.05, 1, &m1), IR_EINVAL);
  gsl_matrix_free(QR);
  gsl_matrix_free(X);
  gsl_matrix_free(R);
  gsl_vector_free(y);
  gsl_vector_free(w);
  gsl_vector_free(r);
  gsl_vector_free(tau);
  gsl_rng_free(rng);
}
END_TEST

static Suite *theory_suite(void) {
  Suite *s = suite_create("theory");
  TCase *tc = tcase_create("normal");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_gd_from_zero);
  tcase_add_test(tc, test_gd_from_random_start);
  tcase_add_test(tc, test_gd_rate);
  tcase_add_test(tc, test_gd_converges_below_threshold);
  tcase_add_test(tc, test_gd_diverges_above_threshold);
  tcase_add_test(tc, test_heavy_ball_radius);
  tcase_add_test(tc, test_heavy_ball_rate);
  tcase_add_test(tc, test_hastie_reference);
  tcase_add_test(tc, test_hastie_nakkiran);
  tcase_add_test(tc, test_hastie_exact);
  tcase_add_test(tc, test_mp_density_mass);
  tcase_add_test(tc, test_mp_moments_cdf);
  tcase_add_test(tc, test_mp_stieltjes_integral);
  tcase_add_test(tc, test_mp_stieltjes_derivative_fd);
  tcase_add_test(tc, test_ridge_optimal_closed_form);
  tcase_add_test(tc, test_ridge_risk_at_optimum);
  tcase_add_test(tc, test_ridge_terms);
  tcase_add_test(tc, test_hastie_gamma_star);
  tcase_add_test(tc, test_mp_edges);
  tcase_add_test(tc, test_mp_density_law);
  tcase_add_test(tc, test_rf_coeffs_closed_forms);
  tcase_add_test(tc, test_rf_coeffs_params);
  tcase_add_test(tc, test_rf_coeffs_tanh_simpson);
  tcase_add_test(tc, test_mei_montanari_reference);
  tcase_add_test(tc, test_mei_montanari_expanded);
  suite_add_tcase(s, tc);

  tc = tcase_create("edge");
  tcase_add_test(tc, test_mp_stieltjes_quadratic);
  tcase_add_test(tc, test_ridge_high_precision);
  tcase_add_test(tc, test_closed_forms_high_precision);
  tcase_add_test(tc, test_ridge_risk_ridgeless_limit);
  tcase_add_test(tc, test_rf_coeffs_linear);
  tcase_add_test(tc, test_mei_montanari_peak);
  tcase_add_test(tc, test_mei_montanari_limits);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_theory_domain_errors);
  tcase_add_test(tc, test_gd_traj_errors);
  tcase_add_test(tc, test_rf_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("sgd-floor");
  tcase_add_test(tc, test_sgd_floor_dense);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(theory_suite());
}
