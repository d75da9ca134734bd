/* test_flow.c — gradient flows and modified flows (flow.h) against
 * independent computations.
 *
 * References.
 * - Quadratics E = ½θᵀAθ − bᵀθ: the flow θ̇ = −c(∇E + 2λ∇²E∇E) is linear.
 *   In the eigenbasis A = QΛQᵀ (computed here with gsl_eigen_symmv, not
 *   through linalg.h), u = Qᵀθ, β = Qᵀb,
 *     u̇_i = −c(1 + 2λμ_i)(μ_i u_i − β_i),
 *   whose solution, written with φ(x) = (1 − e^{−x})/x = −expm1(−x)/x,
 *     u_i(t) = u_i(0)e^{−r_i t} + c(1 + 2λμ_i)β_i·t·φ(r_i t),
 *     r_i = c(μ_i + 2λμ_i²),
 *   is continuous through μ_i = 0 (the drift u_i(0) + cβ_i t) without the
 *   zero-eigenvalue threshold the library's closed form uses.
 * - Non-quadratic models (the product model and a tanh MLP): the field is
 *   −c∇Ẽ with Ẽ = E + λ‖∇E‖² + κΓ, Γ = (1/N)Σ‖∇E_i − ∇E‖², built here
 *   from ir_model_loss_grad alone (full batch and one sample at a time) and
 *   differentiated by a fourth-order central difference; the Jacobian is
 *   the same difference applied to the field.
 *
 * Tolerances.  The fourth-order stencil with step s has truncation error
 * s⁴/30·|D⁵| and rounding error about 1.5·eps·|F|/s; with s = 1e-3 and
 * O(1) derivatives both are below 1e-12 relative, so the asserted 1e-8
 * (field) and 1e-7 (Jacobian: the library's D_g H is itself a central
 * difference with step cbrt(eps), error ~1e-10) leave margins >= 1e2 while
 * every check also asserts that the λ and κ terms it is testing move the
 * result by far more than the tolerance.  Integrations: the solution
 * returned is the tight one (local tolerance rtol/100 = 1e-13 by
 * default); the quadratic flows here are dissipative or neutral (symmetric
 * negative semidefinite Jacobian), so local errors do not grow and the
 * global error is at most the sum of the local ones, ~1e-13·√p per step
 * times at most a few hundred steps: 1e-9 relative leaves a margin >= 1e2.
 */
#include "implreg/flow.h"

#include "implreg/igr.h"
#include "implreg/mlp.h"
#include "implreg/model.h"

#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <string.h>

/* ---- Helpers ------------------------------------------------------------- */

/* φ(x) = (1 − e^{−x})/x, φ(0) = 1. */
static double phi1(double x) {
  return x == 0 ? 1.0 : -expm1(-x) / x;
}

/* u = Qᵀθ. */
static void to_eig(const ir_test_eigbasis *e, const gsl_vector *th,
                   gsl_vector *u) {
  gsl_blas_dgemv(CblasTrans, 1.0, e->Q, th, 0.0, u);
}

/* Row j of out = θ(times[j]) by the closed form in the header comment. */
static void quad_closed_form(const ir_test_eigbasis *e, const gsl_vector *b,
                             const gsl_vector *th0, double c, double lambda,
                             const double *times, size_t nt, gsl_matrix *out) {
  const size_t p = e->p;
  gsl_vector *u0 = gsl_vector_alloc(p), *be = gsl_vector_calloc(p),
             *u = gsl_vector_alloc(p);
  to_eig(e, th0, u0);
  if (b)
    to_eig(e, b, be);
  for (size_t j = 0; j < nt; j++) {
    for (size_t i = 0; i < p; i++) {
      const double mu = gsl_vector_get(e->mu, i);
      const double r = c * (mu + 2 * lambda * mu * mu);
      const double t = times[j];
      gsl_vector_set(u, i,
                     gsl_vector_get(u0, i) * exp(-r * t) +
                         c * (1 + 2 * lambda * mu) * gsl_vector_get(be, i) * t *
                             phi1(r * t));
    }
    gsl_vector_view row = gsl_matrix_row(out, j);
    gsl_blas_dgemv(CblasNoTrans, 1.0, e->Q, u, 0.0, &row.vector);
  }
  gsl_vector_free(u0);
  gsl_vector_free(be);
  gsl_vector_free(u);
}

static ir_flow_params flow_params(double c, double lambda, double kappa) {
  ir_flow_params p;
  ir_flow_params_default(&p);
  p.c = c;
  p.lambda = lambda;
  p.kappa = kappa;
  return p;
}

static double vec_norm_diff(const gsl_vector *a, const gsl_vector *b) {
  double s = 0;
  for (size_t i = 0; i < a->size; i++) {
    double d = gsl_vector_get(a, i) - gsl_vector_get(b, i);
    s += d * d;
  }
  return sqrt(s);
}

static double row_diff(const gsl_matrix *A, const gsl_matrix *B, size_t j) {
  gsl_vector_const_view a = gsl_matrix_const_row(A, j);
  gsl_vector_const_view b = gsl_matrix_const_row(B, j);
  return vec_norm_diff(&a.vector, &b.vector);
}

static double max_abs_m(const gsl_matrix *M) {
  double m = 0;
  for (size_t i = 0; i < M->size1; i++)
    for (size_t j = 0; j < M->size2; j++)
      m = fmax(m, fabs(gsl_matrix_get(M, i, j)));
  return m;
}

/* Checks, in every eigendirection i and at every time j, that
 * |q_iᵀ(θ_got(t_j) − θ_ref(t_j))| <= tol·scale, scale = max_j ‖θ_ref(t_j)‖,
 * and that each direction's reference component is >= floor·scale at some
 * time (so that the per-direction check is not vacuous). */
static void check_eigendirections(const ir_test_eigbasis *e,
                                  const gsl_matrix *got, const gsl_matrix *ref,
                                  double tol, double floor, const char *what) {
  const size_t p = e->p, nt = ref->size1;
  double scale = 0;
  for (size_t j = 0; j < nt; j++) {
    gsl_vector_const_view r = gsl_matrix_const_row(ref, j);
    scale = fmax(scale, gsl_blas_dnrm2(&r.vector));
  }
  gsl_vector *ug = gsl_vector_alloc(p), *ur = gsl_vector_alloc(p);
  double *maxcomp = calloc(p, sizeof(double));
  for (size_t j = 0; j < nt; j++) {
    gsl_vector_const_view g = gsl_matrix_const_row(got, j);
    gsl_vector_const_view r = gsl_matrix_const_row(ref, j);
    to_eig(e, &g.vector, ug);
    to_eig(e, &r.vector, ur);
    for (size_t i = 0; i < p; i++) {
      const double d = fabs(gsl_vector_get(ug, i) - gsl_vector_get(ur, i));
      ck_assert_msg(d <= tol * scale,
                    "%s: time %zu, eigendirection %zu (mu = %g): got %.17g, "
                    "reference %.17g, |diff| %.3g > %.3g",
                    what, j, i, gsl_vector_get(e->mu, i), gsl_vector_get(ug, i),
                    gsl_vector_get(ur, i), d, tol * scale);
      maxcomp[i] = fmax(maxcomp[i], fabs(gsl_vector_get(ur, i)));
    }
  }
  for (size_t i = 0; i < p; i++)
    ck_assert_msg(maxcomp[i] >= floor * scale,
                  "%s: direction %zu has no weight (%.3g)", what, i,
                  maxcomp[i]);
  free(maxcomp);
  gsl_vector_free(ug);
  gsl_vector_free(ur);
}

/* ---- A hand-made model: separable E = Σ_i ½d_iθ_i², for the tests that
 * need many parameters cheaply or a model that misbehaves. ------------ */

typedef struct {
  ir_model base;
  double d0, drest; /* d_0 and d_i (i >= 1) */
  double threshold; /* when θ_0 < threshold: */
  int mode;         /* 0 normal, 1 NaN gradient, 2 return IR_EBADDATA */
} diag_model;

static int diag_loss_grad(ir_model *m, const double *th, const size_t *idx,
                          size_t nb, double *loss, double *grad) {
  (void)idx;
  (void)nb;
  diag_model *q = (diag_model *)m;
  const size_t n = m->nparams;
  if (q->mode != 0 && th[0] < q->threshold) {
    if (q->mode == 2)
      return ir_error(IR_EBADDATA, "diag model: refused theta_0 = %g", th[0]);
    *loss = NAN;
    if (grad)
      for (size_t i = 0; i < n; i++)
        grad[i] = NAN;
    return IR_OK;
  }
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    const double d = i == 0 ? q->d0 : q->drest;
    s += 0.5 * d * th[i] * th[i];
    if (grad)
      grad[i] = d * th[i];
  }
  *loss = s;
  return IR_OK;
}

static int diag_hvp(ir_model *m, const double *th, const size_t *idx, size_t nb,
                    const double *v, double *hv) {
  (void)th;
  (void)idx;
  (void)nb;
  diag_model *q = (diag_model *)m;
  for (size_t i = 0; i < m->nparams; i++)
    hv[i] = (i == 0 ? q->d0 : q->drest) * v[i];
  return IR_OK;
}

static int diag_predict(ir_model *m, const double *th, const gsl_matrix *X,
                        gsl_matrix *out) {
  (void)m;
  (void)th;
  (void)X;
  (void)out;
  return ir_error(IR_EINVAL, "diag model: no inputs");
}

static void diag_destroy(ir_model *m) {
  free(m);
}

static const ir_model_ops diag_ops = {
    "diag", diag_loss_grad, diag_hvp, diag_predict, diag_destroy, NULL, NULL};

static ir_model *diag_model_alloc(size_t n, double d0, double drest, int mode,
                                  double threshold) {
  diag_model *q = calloc(1, sizeof *q);
  q->base.ops = &diag_ops;
  q->base.nparams = n;
  q->base.nsamples = 1;
  q->base.loss_name = "sum d_i theta_i^2 / 2";
  q->d0 = d0;
  q->drest = drest;
  q->mode = mode;
  q->threshold = threshold;
  return &q->base;
}

/* ---- Quadratics: closed forms -------------------------------------------- */

/* (c, λ) of the loop cases: gradient flow, modified flows, c ≠ 1. */
static const double quad_cases[][2] = {
    {1.0, 0.0}, {1.0, 0.05}, {2.5, 0.1}, {0.4, 0.03}, {1.0 / (1 - 0.5), 0.2}};

/* A 5×5 A with distinct eigenvalues in [0.3, 2], b ≠ 0, several output
 * times including t = 0 and repeated times. */
START_TEST(test_quad_distinct) {
  const double c = quad_cases[_i][0], lambda = quad_cases[_i][1];
  const size_t p = 5, nt = 7;
  const double mu[5] = {0.3, 0.55, 0.9, 1.4, 2.0};
  const double times[7] = {0.0, 0.25, 0.25, 0.7, 1.5, 1.5, 2.0};
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 11);
  gsl_matrix *g = ir_test_gaussian(2, p, 12);
  gsl_vector_view th0 = gsl_matrix_row(g, 0), b = gsl_matrix_row(g, 1);
  ir_model *m = ir_model_quadratic_alloc(A, &b.vector);
  ck_assert_ptr_nonnull(m);
  ir_test_eigbasis e = ir_test_eig(A);
  gsl_matrix *out = gsl_matrix_alloc(nt, p), *ref = gsl_matrix_alloc(nt, p),
             *lib = gsl_matrix_alloc(nt, p);
  double err[7];
  ir_flow_params fp = flow_params(c, lambda, 0);
  ir_flow_result res;
  IR_ASSERT_OK(ir_flow_solve(m, &fp, &th0.vector, times, nt, out, err, &res));
  quad_closed_form(&e, &b.vector, &th0.vector, c, lambda, times, nt, ref);
  IR_ASSERT_OK(ir_igr_quadratic_flow(A, &b.vector, &th0.vector, c, lambda,
                                     times, nt, lib));
  check_eigendirections(&e, out, ref, 1e-9, 1e-2, "solve vs closed form");
  /* Two exact formulas: rounding of two eigendecompositions of a matrix
   * with condition 7 and of exp at r·t <= 10, far below 1e-12. */
  check_eigendirections(&e, lib, ref, 1e-12, 1e-2,
                        "ir_igr_quadratic_flow vs closed form");
  /* t = 0 is θ₀ itself; repeated times give identical rows. */
  for (size_t i = 0; i < p; i++) {
    ck_assert(gsl_matrix_get(out, 0, i) == gsl_vector_get(&th0.vector, i));
    ck_assert(gsl_matrix_get(out, 1, i) == gsl_matrix_get(out, 2, i));
    ck_assert(gsl_matrix_get(out, 4, i) == gsl_matrix_get(out, 5, i));
  }
  ck_assert(err[0] == 0);
  ck_assert_int_eq(res.used, IR_FLOW_RK8PD);
  /* The modified flow is not gradient flow: the λ term moves the end point
   * by far more than the tolerance (sensitivity of the test). */
  if (lambda > 0) {
    gsl_matrix *gf = gsl_matrix_alloc(nt, p);
    quad_closed_form(&e, &b.vector, &th0.vector, c, 0.0, times, nt, gf);
    ck_assert(row_diff(gf, ref, nt - 1) > 1e-3);
    gsl_matrix_free(gf);
  }
  gsl_matrix_free(out);
  gsl_matrix_free(ref);
  gsl_matrix_free(lib);
  ir_test_eig_free(&e);
  ir_model_free(m);
  gsl_matrix_free(A);
  gsl_matrix_free(g);
}
END_TEST

/* Rank-deficient A (spectrum {1.5, 0.7, 0, 0}) with b having a component
 * in the null space: there u_i(t) = u_i(0) + cβ_i t, a linear drift that
 * never settles.  The drift direction is checked explicitly too. */
START_TEST(test_quad_rank_deficient_drift) {
  const double c = quad_cases[_i][0], lambda = quad_cases[_i][1];
  const size_t p = 4, nt = 5;
  const double mu[4] = {1.5, 0.7, 0.0, 0.0};
  const double times[5] = {0.0, 0.5, 1.0, 3.0, 3.0};
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 21);
  gsl_matrix *g = ir_test_gaussian(2, p, 22);
  gsl_vector_view th0 = gsl_matrix_row(g, 0), b = gsl_matrix_row(g, 1);
  ir_model *m = ir_model_quadratic_alloc(A, &b.vector);
  ck_assert_ptr_nonnull(m);
  ir_test_eigbasis e = ir_test_eig(A);
  gsl_matrix *out = gsl_matrix_alloc(nt, p), *ref = gsl_matrix_alloc(nt, p),
             *lib = gsl_matrix_alloc(nt, p);
  ir_flow_params fp = flow_params(c, lambda, 0);
  ir_flow_result res;
  IR_ASSERT_OK(ir_flow_solve(m, &fp, &th0.vector, times, nt, out, NULL, &res));
  quad_closed_form(&e, &b.vector, &th0.vector, c, lambda, times, nt, ref);
  IR_ASSERT_OK(ir_igr_quadratic_flow(A, &b.vector, &th0.vector, c, lambda,
                                     times, nt, lib));
  check_eigendirections(&e, out, ref, 1e-9, 1e-2, "solve vs closed form");
  check_eigendirections(&e, lib, ref, 1e-12, 1e-2,
                        "ir_igr_quadratic_flow vs closed form");
  /* The projection of θ(t) − θ(0) on the null space of A is c·t·P_N b:
   * P_N from the two eigenvectors with |μ| < 1e-12 (gsl_eigen_symmv
   * returns them unordered). */
  gsl_vector *pb = gsl_vector_calloc(p), *pd = gsl_vector_calloc(p);
  size_t nnull = 0;
  for (size_t k = 0; k < p; k++) {
    if (fabs(gsl_vector_get(e.mu, k)) > 1e-12)
      continue;
    nnull++;
    gsl_vector_const_view q = gsl_matrix_const_column(e.Q, k);
    gsl_vector_const_view r3 = gsl_matrix_const_row(out, 3);
    double qb, q3, q0;
    gsl_blas_ddot(&q.vector, &b.vector, &qb);
    gsl_blas_ddot(&q.vector, &r3.vector, &q3);
    gsl_blas_ddot(&q.vector, &th0.vector, &q0);
    gsl_blas_daxpy(c * times[3] * qb, &q.vector, pb);
    gsl_blas_daxpy(q3 - q0, &q.vector, pd);
  }
  ck_assert_uint_eq(nnull, 2);
  ck_assert(gsl_blas_dnrm2(pb) > 0.1); /* the drift is there */
  ck_assert_msg(vec_norm_diff(pd, pb) <= 1e-9 * gsl_blas_dnrm2(pb),
                "null-space drift %.17g vs c t |P b| = %.17g",
                gsl_blas_dnrm2(pd), gsl_blas_dnrm2(pb));
  gsl_vector_free(pb);
  gsl_vector_free(pd);
  gsl_matrix_free(out);
  gsl_matrix_free(ref);
  gsl_matrix_free(lib);
  ir_test_eig_free(&e);
  ir_model_free(m);
  gsl_matrix_free(A);
  gsl_matrix_free(g);
}
END_TEST

/* Repeated eigenvalues {2, 2, 2, 0.5, 0.5}: the eigenbasis is not unique,
 * the flow is. */
START_TEST(test_quad_repeated) {
  const double c = quad_cases[_i][0], lambda = quad_cases[_i][1];
  const size_t p = 5, nt = 4;
  const double mu[5] = {2.0, 2.0, 2.0, 0.5, 0.5};
  const double times[4] = {0.0, 0.3, 1.0, 2.5};
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 31);
  gsl_matrix *g = ir_test_gaussian(2, p, 32);
  gsl_vector_view th0 = gsl_matrix_row(g, 0), b = gsl_matrix_row(g, 1);
  ir_model *m = ir_model_quadratic_alloc(A, &b.vector);
  ck_assert_ptr_nonnull(m);
  ir_test_eigbasis e = ir_test_eig(A);
  gsl_matrix *out = gsl_matrix_alloc(nt, p), *ref = gsl_matrix_alloc(nt, p),
             *lib = gsl_matrix_alloc(nt, p);
  ir_flow_params fp = flow_params(c, lambda, 0);
  ir_flow_result res;
  IR_ASSERT_OK(ir_flow_solve(m, &fp, &th0.vector, times, nt, out, NULL, &res));
  quad_closed_form(&e, &b.vector, &th0.vector, c, lambda, times, nt, ref);
  IR_ASSERT_OK(ir_igr_quadratic_flow(A, &b.vector, &th0.vector, c, lambda,
                                     times, nt, lib));
  check_eigendirections(&e, out, ref, 1e-9, 1e-2, "solve vs closed form");
  check_eigendirections(&e, lib, ref, 1e-12, 1e-2,
                        "ir_igr_quadratic_flow vs closed form");
  gsl_matrix_free(out);
  gsl_matrix_free(ref);
  gsl_matrix_free(lib);
  ir_test_eig_free(&e);
  ir_model_free(m);
  gsl_matrix_free(A);
  gsl_matrix_free(g);
}
END_TEST

/* p = 1, E = θ²/2: θ(t) = θ₀exp(−c(1 + 2λ)t), written out by hand (no
 * eigendecomposition at all).  b = NULL exercises the zero default. */
START_TEST(test_scalar) {
  const double c = quad_cases[_i][0], lambda = quad_cases[_i][1];
  const double times[6] = {0.0, 0.1, 0.1, 1.0, 4.0, 9.0};
  const size_t nt = 6;
  gsl_matrix *A = gsl_matrix_alloc(1, 1);
  gsl_matrix_set(A, 0, 0, 1.0);
  ir_model *m = ir_model_quadratic_alloc(A, NULL);
  ck_assert_ptr_nonnull(m);
  gsl_vector *th0 = gsl_vector_alloc(1);
  gsl_vector_set(th0, 0, -1.7);
  gsl_matrix *out = gsl_matrix_alloc(nt, 1), *lib = gsl_matrix_alloc(nt, 1);
  ir_flow_params fp = flow_params(c, lambda, 0);
  ir_flow_result res;
  double err[6];
  IR_ASSERT_OK(ir_flow_solve(m, &fp, th0, times, nt, out, err, &res));
  IR_ASSERT_OK(ir_igr_quadratic_flow(A, NULL, th0, c, lambda, times, nt, lib));
  for (size_t j = 0; j < nt; j++) {
    const double exact = -1.7 * exp(-c * (1 + 2 * lambda) * times[j]);
    /* Relative: the local error control is relative to |θ| (atol is
     * 1e-13·1.7, below |θ(9)| >= 1.7e-11 by a factor 100 only at the
     * last time, hence the absolute floor 1e-11·1.7). */
    IR_ASSERT_CLOSE(gsl_matrix_get(out, j, 0), exact, 1e-9, 1.7e-11);
    IR_ASSERT_CLOSE(gsl_matrix_get(lib, j, 0), exact, 1e-14, 0.0);
    ck_assert(isfinite(err[j]) && err[j] >= 0);
  }
  ck_assert(gsl_matrix_get(out, 0, 0) == -1.7);
  ck_assert(gsl_matrix_get(out, 1, 0) == gsl_matrix_get(out, 2, 0));
  gsl_vector_free(th0);
  gsl_matrix_free(out);
  gsl_matrix_free(lib);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* The global-error estimate.  At rtol = 1e-8 the loose run (repeated here
 * with global_error off: the same computation) has an error well above
 * rounding (~1e-12..1e-10 here); the estimate err[j] = ‖θ_loose − θ_tight‖
 * must be of that error's size and above the true error of the returned
 * solution, which must be far below it: it is the tight run, local
 * tolerance 1e-10, ~100× more accurate when the step sizes are set by the
 * tolerance (rk8pd's error ∝ tol^{8/9}); 10× is asserted. */
START_TEST(test_global_error_estimate) {
  const size_t p = 5, nt = 5;
  const double mu[5] = {0.3, 0.55, 0.9, 1.4, 2.0};
  const double times[5] = {0.0, 0.5, 1.0, 2.0, 4.0};
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 41);
  gsl_matrix *g = ir_test_gaussian(2, p, 42);
  gsl_vector_view th0 = gsl_matrix_row(g, 0), b = gsl_matrix_row(g, 1);
  ir_model *m = ir_model_quadratic_alloc(A, &b.vector);
  ir_test_eigbasis e = ir_test_eig(A);
  gsl_matrix *out = gsl_matrix_alloc(nt, p), *loose = gsl_matrix_alloc(nt, p),
             *ref = gsl_matrix_alloc(nt, p);
  double err[5];
  ir_flow_params fp = flow_params(1.3, 0.05, 0);
  fp.rtol = 1e-8;
  fp.stepper = IR_FLOW_RK8PD;
  ir_flow_result res, res2;
  IR_ASSERT_OK(ir_flow_solve(m, &fp, &th0.vector, times, nt, out, err, &res));
  fp.global_error = 0;
  double nan_err[5];
  IR_ASSERT_OK(
      ir_flow_solve(m, &fp, &th0.vector, times, nt, loose, nan_err, &res2));
  for (size_t j = 0; j < nt; j++)
    ck_assert(isnan(nan_err[j]));
  ck_assert(isnan(res2.err_max));
  quad_closed_form(&e, &b.vector, &th0.vector, 1.3, 0.05, times, nt, ref);
  ck_assert(err[0] == 0);
  double emax = 0;
  for (size_t j = 1; j < nt; j++) {
    const double e_loose = row_diff(loose, ref, j);
    const double e_tight = row_diff(out, ref, j);
    /* The bookkeeping: err is the distance between the two runs. */
    IR_ASSERT_CLOSE(err[j], row_diff(loose, out, j), 1e-12, 0.0);
    /* Well above rounding (1e-15) so that the comparison means something. */
    ck_assert_msg(e_loose > 1e-12, "loose error %.3g too small", e_loose);
    ck_assert_msg(err[j] >= e_tight, "estimate %.3g < true error %.3g", err[j],
                  e_tight);
    ck_assert_msg(e_tight <= 0.1 * err[j],
                  "t = %g: returned solution's error %.3g not far below the "
                  "estimate %.3g (is the loose run returned?)",
                  times[j], e_tight, err[j]);
    ck_assert_msg(err[j] >= 0.5 * e_loose && err[j] <= 2 * e_loose,
                  "t = %g: estimate %.3g vs loose error %.3g", times[j], err[j],
                  e_loose);
    emax = fmax(emax, err[j]);
  }
  ck_assert(res.err_max == emax);
  ck_assert(res.nsteps > res2.nsteps); /* two integrations counted */
  gsl_matrix_free(out);
  gsl_matrix_free(loose);
  gsl_matrix_free(ref);
  ir_test_eig_free(&e);
  ir_model_free(m);
  gsl_matrix_free(A);
  gsl_matrix_free(g);
}
END_TEST

/* flow.h: err[j] "estimates [the returned solution's] global error from
 * above" for any rtol in [1e-13, 1e-7].  At the loosest, 1e-7, on
 * E = ½(0.3θ₀² + 2θ₁²), θ₀ = (1, 1) (closed form e^{−μt}), the true error
 * of the returned solution is far above rounding; the estimate must not be
 * below it. */
START_TEST(test_global_error_loose_tolerance) {
  gsl_matrix *A = gsl_matrix_calloc(2, 2);
  gsl_matrix_set(A, 0, 0, 0.3);
  gsl_matrix_set(A, 1, 1, 2.0);
  ir_model *m = ir_model_quadratic_alloc(A, NULL);
  gsl_vector *th0 = gsl_vector_alloc(2);
  gsl_vector_set_all(th0, 1.0);
  const double times[4] = {0.5, 1.0, 2.0, 4.0};
  gsl_matrix *out = gsl_matrix_alloc(4, 2);
  double err[4];
  ir_flow_params fp = flow_params(1, 0, 0);
  fp.stepper = IR_FLOW_RK8PD;
  fp.rtol = 1e-7;
  ir_flow_result res;
  IR_ASSERT_OK(ir_flow_solve(m, &fp, th0, times, 4, out, err, &res));
  for (size_t j = 0; j < 4; j++) {
    const double e = hypot(gsl_matrix_get(out, j, 0) - exp(-0.3 * times[j]),
                           gsl_matrix_get(out, j, 1) - exp(-2.0 * times[j]));
    ck_assert_msg(e > 1e-13, "t = %g: error %.3g at rounding level", times[j],
                  e);
    ck_assert_msg(err[j] >= e,
                  "t = %g: global-error estimate %.3g below the true error "
                  "%.3g of the returned solution",
                  times[j], err[j], e);
  }
  gsl_matrix_free(out);
  gsl_vector_free(th0);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* ---- Fields and Jacobians on non-quadratic models --------------------------
 */

/* Ẽ = E + λ‖∇E‖² + κΓ at θ from ir_model_loss_grad only. */
static double modified_loss(ir_model *m, double lambda, double kappa,
                            const gsl_vector *th) {
  const size_t n = m->nparams, N = m->nsamples;
  gsl_vector *g = gsl_vector_alloc(n), *gi = gsl_vector_alloc(n);
  double E, Ei;
  IR_ASSERT_OK(ir_model_loss_grad(m, th, NULL, 0, &E, g));
  double gg;
  gsl_blas_ddot(g, g, &gg);
  double Gam = 0;
  if (kappa != 0) {
    for (size_t i = 0; i < N; i++) {
      IR_ASSERT_OK(ir_model_loss_grad(m, th, &i, 1, &Ei, gi));
      gsl_vector_sub(gi, g);
      double d;
      gsl_blas_ddot(gi, gi, &d);
      Gam += d;
    }
    Gam /= (double)N;
  }
  gsl_vector_free(g);
  gsl_vector_free(gi);
  return E + lambda * gg + kappa * Gam;
}

/* ∂Ẽ/∂θ_j by the fourth-order central difference with step s:
 * (−Ẽ(θ + 2s e_j) + 8Ẽ(θ + s e_j) − 8Ẽ(θ − s e_j) + Ẽ(θ − 2s e_j))/(12s). */
static double fd4_modified_loss(ir_model *m, double lambda, double kappa,
                                const gsl_vector *th, size_t j, double s) {
  const double st[4] = {2, 1, -1, -2}, wt[4] = {-1, 8, -8, 1};
  gsl_vector *w = gsl_vector_alloc(th->size);
  double acc = 0;
  for (int k = 0; k < 4; k++) {
    gsl_vector_memcpy(w, th);
    gsl_vector_set(w, j, gsl_vector_get(th, j) + st[k] * s);
    acc += wt[k] * modified_loss(m, lambda, kappa, w);
  }
  gsl_vector_free(w);
  return acc / (12 * s);
}

/* (c, λ, κ) of the field and Jacobian cases. */
static const double field_cases[][3] = {{1.0, 0.0, 0.0},
                                        {1.0, 0.3, 0.0},
                                        {1.7, 0.2, 0.5},
                                        {0.6, 0.0, 0.4},
                                        {1.0, -0.1, 0.0}};
enum { NFIELD = 5 };

/* Checks ir_flow_field against −c·∇Ẽ by finite differences, and that the
 * case's λ/κ terms move the field by much more than the tolerance. */
static void check_field(ir_model *m, const gsl_vector *th, size_t ci) {
  const double c = field_cases[ci][0], lambda = field_cases[ci][1],
               kappa = field_cases[ci][2];
  const size_t n = m->nparams;
  ir_flow_params fp = flow_params(c, lambda, kappa);
  gsl_vector *f = gsl_vector_alloc(n), *fd = gsl_vector_alloc(n),
             *f0 = gsl_vector_alloc(n);
  IR_ASSERT_OK(ir_flow_field(m, &fp, th, f));
  const double s = 1e-3;
  double Et = fabs(modified_loss(m, lambda, kappa, th));
  for (size_t j = 0; j < n; j++)
    gsl_vector_set(fd, j, -c * fd4_modified_loss(m, lambda, kappa, th, j, s));
  double fmax_ = 0;
  for (size_t j = 0; j < n; j++)
    fmax_ = fmax(fmax_, fabs(gsl_vector_get(fd, j)));
  for (size_t j = 0; j < n; j++)
    IR_ASSERT_CLOSE(gsl_vector_get(f, j), gsl_vector_get(fd, j), 0.0,
                    1e-8 * (fmax_ + c * Et));
  /* Sensitivity: gradient flow's field −c∇E differs when λ or κ ≠ 0. */
  ir_flow_params gp = flow_params(c, 0, 0);
  IR_ASSERT_OK(ir_flow_field(m, &gp, th, f0));
  if (lambda != 0 || kappa != 0)
    ck_assert_msg(vec_norm_diff(f0, f) > 1e-3 * gsl_blas_dnrm2(f),
                  "case %zu: the modification is invisible", ci);
  else
    ck_assert(vec_norm_diff(f0, f) == 0);
  gsl_vector_free(f);
  gsl_vector_free(fd);
  gsl_vector_free(f0);
}

/* Checks ir_flow_jacobian against finite differences of ir_flow_field;
 * symmetry; sensitivity to λ and κ (J ≠ −cH). */
static void check_jacobian(ir_model *m, const gsl_vector *th, size_t ci) {
  const double c = field_cases[ci][0], lambda = field_cases[ci][1],
               kappa = field_cases[ci][2];
  const size_t n = m->nparams;
  ir_flow_params fp = flow_params(c, lambda, kappa);
  gsl_matrix *J = gsl_matrix_alloc(n, n), *Jfd = gsl_matrix_alloc(n, n),
             *H = gsl_matrix_alloc(n, n);
  IR_ASSERT_OK(ir_flow_jacobian(m, &fp, th, J));
  gsl_vector *fp_ = gsl_vector_alloc(n), *acc = gsl_vector_alloc(n),
             *w = gsl_vector_alloc(n);
  const double s = 1e-3;
  const double st[4] = {2, 1, -1, -2}, wt[4] = {-1, 8, -8, 1};
  for (size_t j = 0; j < n; j++) {
    gsl_vector_set_zero(acc);
    for (int k = 0; k < 4; k++) {
      gsl_vector_memcpy(w, th);
      gsl_vector_set(w, j, gsl_vector_get(th, j) + st[k] * s);
      IR_ASSERT_OK(ir_flow_field(m, &fp, w, fp_));
      gsl_blas_daxpy(wt[k], fp_, acc);
    }
    for (size_t i = 0; i < n; i++)
      gsl_matrix_set(Jfd, i, j, gsl_vector_get(acc, i) / (12 * s));
  }
  const double jm = max_abs_m(Jfd);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      IR_ASSERT_CLOSE(gsl_matrix_get(J, i, j), gsl_matrix_get(Jfd, i, j), 0.0,
                      1e-7 * jm);
      IR_ASSERT_CLOSE(gsl_matrix_get(J, i, j), gsl_matrix_get(J, j, i), 0.0,
                      1e-13 * jm);
    }
  /* −cH from unit-vector HVPs: the Jacobian of gradient flow. */
  gsl_vector *ej = gsl_vector_alloc(n), *hj = gsl_vector_alloc(n);
  for (size_t j = 0; j < n; j++) {
    gsl_vector_set_basis(ej, j);
    IR_ASSERT_OK(ir_model_hvp(m, th, NULL, 0, ej, hj));
    for (size_t i = 0; i < n; i++)
      gsl_matrix_set(H, i, j, -c * gsl_vector_get(hj, i));
  }
  if (lambda != 0 || kappa != 0)
    ck_assert_msg(ir_test_reldiff(J, H) > 1e-3,
                  "case %zu: the modification is invisible in J", ci);
  else
    ck_assert_msg(ir_test_reldiff(J, H) <= 1e-14, "gradient flow: J != -cH");
  gsl_vector_free(ej);
  gsl_vector_free(hj);
  gsl_vector_free(fp_);
  gsl_vector_free(acc);
  gsl_vector_free(w);
  gsl_matrix_free(J);
  gsl_matrix_free(Jfd);
  gsl_matrix_free(H);
}

/* The product model on 3 samples (non-quadratic: E''' ≠ 0), at a point
 * away from the minima. */
typedef struct {
  gsl_vector *x, *y, *th;
  ir_model *m;
} product_fx;

static product_fx product_setup(void) {
  product_fx P;
  P.x = gsl_vector_alloc(3);
  P.y = gsl_vector_alloc(3);
  P.th = gsl_vector_alloc(2);
  const double xs[3] = {0.8, -1.3, 2.0}, ys[3] = {0.5, 0.4, 1.9};
  for (size_t i = 0; i < 3; i++) {
    gsl_vector_set(P.x, i, xs[i]);
    gsl_vector_set(P.y, i, ys[i]);
  }
  gsl_vector_set(P.th, 0, 0.6);
  gsl_vector_set(P.th, 1, -1.1);
  P.m = ir_model_product_alloc(P.x, P.y);
  ck_assert_ptr_nonnull(P.m);
  return P;
}

static void product_free(product_fx *P) {
  ir_model_free(P->m);
  gsl_vector_free(P->x);
  gsl_vector_free(P->y);
  gsl_vector_free(P->th);
}

/* A 2-3-1 tanh network with ½·mean squared error on 5 samples, θ drawn
 * at twice torch's scale so that tanh is well into its curved range. */
typedef struct {
  gsl_matrix *X, *Y;
  gsl_vector *th;
  ir_model *m;
} mlp_fx;

static mlp_fx mlp_setup(void) {
  mlp_fx M;
  ir_mlp_arch a;
  memset(&a, 0, sizeof a);
  a.nlayers = 2;
  a.width[0] = 2;
  a.width[1] = 3;
  a.width[2] = 1;
  a.act = IR_ACT_TANH;
  a.loss = IR_LOSS_HALF_SSE;
  M.X = ir_test_gaussian(5, 2, 51);
  M.Y = ir_test_gaussian(5, 1, 52);
  M.m = ir_model_mlp_alloc(&a, M.X, M.Y);
  ck_assert_ptr_nonnull(M.m);
  ck_assert_uint_eq(M.m->nparams, 13);
  M.th = gsl_vector_alloc(13);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 53);
  ir_mlp_init_torch(&a, r, M.th);
  gsl_rng_free(r);
  gsl_vector_scale(M.th, 2.0);
  return M;
}

static void mlp_free(mlp_fx *M) {
  ir_model_free(M->m);
  gsl_matrix_free(M->X);
  gsl_matrix_free(M->Y);
  gsl_vector_free(M->th);
}

START_TEST(test_field_product) {
  product_fx P = product_setup();
  check_field(P.m, P.th, (size_t)_i);
  product_free(&P);
}
END_TEST

START_TEST(test_field_mlp) {
  mlp_fx M = mlp_setup();
  check_field(M.m, M.th, (size_t)_i);
  mlp_free(&M);
}
END_TEST

START_TEST(test_jacobian_product) {
  product_fx P = product_setup();
  check_jacobian(P.m, P.th, (size_t)_i);
  product_free(&P);
}
END_TEST

START_TEST(test_jacobian_mlp) {
  mlp_fx M = mlp_setup();
  check_jacobian(M.m, M.th, (size_t)_i);
  mlp_free(&M);
}
END_TEST

/* On a quadratic the Jacobian is exactly −c(A + 2λA²) (∇²E constant, so
 * D_g H = 0), computed here with one dgemm. */
START_TEST(test_jacobian_quadratic) {
  const size_t p = 4;
  const double mu[4] = {3.0, 1.0, 0.5, -0.2};
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 61);
  gsl_matrix *g = ir_test_gaussian(2, p, 62);
  gsl_vector_view th = gsl_matrix_row(g, 0), b = gsl_matrix_row(g, 1);
  ir_model *m = ir_model_quadratic_alloc(A, &b.vector);
  const double c = 1.4, lambda = 0.15;
  ir_flow_params fp = flow_params(c, lambda, 0);
  gsl_matrix *J = gsl_matrix_alloc(p, p), *R = gsl_matrix_alloc(p, p);
  IR_ASSERT_OK(ir_flow_jacobian(m, &fp, &th.vector, J));
  gsl_matrix_memcpy(R, A);
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 2 * lambda, A, A, 1.0, R);
  gsl_matrix_scale(R, -c);
  /* Rounding of a p-term dot product of entries <= 3: p·eps relative. */
  ck_assert_msg(ir_test_reldiff(J, R) <= 10 * p * DBL_EPSILON, "reldiff %.3g",
                ir_test_reldiff(J, R));
  gsl_matrix_free(J);
  gsl_matrix_free(R);
  ir_model_free(m);
  gsl_matrix_free(A);
  gsl_matrix_free(g);
}
END_TEST

/* ---- Stiff problems: msbdf and the automatic switch ------------------------
 */

/* A = diag(1e4, 1), b = A·(0.3, 0.5): θ* = (0.3, 0.5), θ₀ = (1, 2),
 * integrated to t = 30.  rk8pd's step is bounded by stability (about
 * 5/1e4) whatever the tolerance: ~6e4 steps, far beyond a budget of 3000;
 * BDF takes the steps accuracy allows. */
typedef struct {
  gsl_matrix *A;
  gsl_vector *b, *th0;
  ir_model *m;
} stiff_fx;

static stiff_fx stiff_setup(void) {
  stiff_fx S;
  S.A = gsl_matrix_calloc(2, 2);
  gsl_matrix_set(S.A, 0, 0, 1e4);
  gsl_matrix_set(S.A, 1, 1, 1.0);
  S.b = gsl_vector_alloc(2);
  gsl_vector_set(S.b, 0, 1e4 * 0.3);
  gsl_vector_set(S.b, 1, 0.5);
  S.th0 = gsl_vector_alloc(2);
  gsl_vector_set(S.th0, 0, 1.0);
  gsl_vector_set(S.th0, 1, 2.0);
  S.m = ir_model_quadratic_alloc(S.A, S.b);
  ck_assert_ptr_nonnull(S.m);
  return S;
}

static void stiff_free(stiff_fx *S) {
  ir_model_free(S->m);
  gsl_matrix_free(S->A);
  gsl_vector_free(S->b);
  gsl_vector_free(S->th0);
}

/* θ(t) of the stiff problem by hand: diagonal, each coordinate relaxes to
 * θ*_i at the rate c(μ_i + 2λμ_i²). */
static double stiff_exact(size_t i, double t, double c, double lambda) {
  const double mu = i == 0 ? 1e4 : 1.0, star = i == 0 ? 0.3 : 0.5,
               th0 = i == 0 ? 1.0 : 2.0;
  return star + (th0 - star) * exp(-c * (mu + 2 * lambda * mu * mu) * t);
}

START_TEST(test_stiff_rk8pd_budget) {
  stiff_fx S = stiff_setup();
  const double times[2] = {1.0, 30.0};
  gsl_matrix *out = gsl_matrix_alloc(2, 2);
  ir_flow_params fp = flow_params(1, 0, 0);
  fp.stepper = IR_FLOW_RK8PD;
  fp.max_steps = 3000;
  fp.rtol = 1e-7;
  ir_flow_result res;
  ir_error_clear();
  ck_assert_int_eq(ir_flow_solve(S.m, &fp, S.th0, times, 2, out, NULL, &res),
                   IR_ENOCONV);
  ck_assert_msg(strstr(ir_error_message(), "msbdf") != NULL, "message: %s",
                ir_error_message());
  gsl_matrix_free(out);
  stiff_free(&S);
}
END_TEST

/* Tolerance of the msbdf checks.  The returned run has local tolerance
 * rtol/100 (absolute and relative, θ = O(1)); the problems are dissipative,
 * so its global error is at most the sum of its local errors, i.e. about
 * (number of steps)·rtol/100 with 300–1500 BDF steps at these tolerances:
 * 10·rtol (absolute) covers 1000 steps.  The error must also lie below the
 * flow's own estimate (flow.h: "estimates its global error from above"). */
#define MSBDF_TOL(rtol) (10 * (rtol))

/* AUTO: rk8pd runs out of budget, msbdf finishes. */
START_TEST(test_stiff_auto_switches) {
  stiff_fx S = stiff_setup();
  const double times[5] = {0.0, 1e-4, 1e-3, 1.0, 30.0};
  const size_t nt = 5;
  gsl_matrix *out = gsl_matrix_alloc(nt, 2);
  double err[5];
  ir_flow_params fp = flow_params(1, 0, 0);
  fp.stepper = IR_FLOW_AUTO;
  fp.max_steps = 3000;
  fp.rtol = 1e-7;
  ir_flow_result res;
  IR_ASSERT_OK(ir_flow_solve(S.m, &fp, S.th0, times, nt, out, err, &res));
  ck_assert_int_eq(res.used, IR_FLOW_MSBDF);
  ck_assert(res.njac > 0);
  for (size_t j = 0; j < nt; j++) {
    double e2 = 0;
    for (size_t i = 0; i < 2; i++) {
      const double ex = stiff_exact(i, times[j], 1, 0);
      IR_ASSERT_CLOSE(gsl_matrix_get(out, j, i), ex, 0.0, MSBDF_TOL(1e-7));
      e2 += pow(gsl_matrix_get(out, j, i) - ex, 2);
    }
    ck_assert_msg(sqrt(e2) <= err[j] || j == 0,
                  "t = %g: true error %.3g above the estimate %.3g", times[j],
                  sqrt(e2), err[j]);
  }
  /* The fast mode was resolved: at t = 1e-4, e^{−1} of its start. */
  ck_assert(fabs(gsl_matrix_get(out, 1, 0) - 0.3 - 0.7 * exp(-1.0)) < 1e-5);
  gsl_matrix_free(out);
  stiff_free(&S);
}
END_TEST

/* msbdf asked for explicitly on a modified flow (λ > 0 makes the fast rate
 * 1e4 + 2λ·1e8: stiffer still), and on the non-quadratic product model
 * with κ ≠ 0, against rk8pd at tight tolerance (a different algorithm). */
START_TEST(test_msbdf_explicit) {
  stiff_fx S = stiff_setup();
  const double times[3] = {1e-5, 0.5, 5.0};
  gsl_matrix *out = gsl_matrix_alloc(3, 2);
  ir_flow_params fp = flow_params(1.5, 1e-3, 0);
  fp.stepper = IR_FLOW_MSBDF;
  fp.rtol = 1e-7;
  fp.max_steps = 20000;
  ir_flow_result res;
  double err[3];
  IR_ASSERT_OK(ir_flow_solve(S.m, &fp, S.th0, times, 3, out, err, &res));
  ck_assert_int_eq(res.used, IR_FLOW_MSBDF);
  for (size_t j = 0; j < 3; j++) {
    double e2 = 0;
    for (size_t i = 0; i < 2; i++) {
      const double ex = stiff_exact(i, times[j], 1.5, 1e-3);
      IR_ASSERT_CLOSE(gsl_matrix_get(out, j, i), ex, 0.0, MSBDF_TOL(1e-7));
      e2 += pow(gsl_matrix_get(out, j, i) - ex, 2);
    }
    ck_assert_msg(sqrt(e2) <= err[j], "t = %g: error %.3g > estimate %.3g",
                  times[j], sqrt(e2), err[j]);
  }
  gsl_matrix_free(out);
  stiff_free(&S);

  product_fx P = product_setup();
  const double pt[2] = {0.3, 2.0};
  gsl_matrix *o1 = gsl_matrix_alloc(2, 2), *o2 = gsl_matrix_alloc(2, 2);
  ir_flow_params f1 = flow_params(1, 0.1, 0.05);
  f1.stepper = IR_FLOW_MSBDF;
  f1.rtol = 1e-7;
  ir_flow_params f2 = flow_params(1, 0.1, 0.05);
  f2.stepper = IR_FLOW_RK8PD;
  f2.global_error = 0;
  IR_ASSERT_OK(ir_flow_solve(P.m, &f1, P.th, pt, 2, o1, NULL, &res));
  ck_assert_int_eq(res.used, IR_FLOW_MSBDF);
  ck_assert(res.njac > 0);
  IR_ASSERT_OK(ir_flow_solve(P.m, &f2, P.th, pt, 2, o2, NULL, &res));
  ck_assert_int_eq(res.used, IR_FLOW_RK8PD);
  ck_assert_uint_eq(res.njac, 0);
  /* rk8pd at 1e-11 is the reference (error ~1e-11); msbdf as above. */
  for (size_t j = 0; j < 2; j++)
    for (size_t i = 0; i < 2; i++)
      IR_ASSERT_CLOSE(gsl_matrix_get(o1, j, i), gsl_matrix_get(o2, j, i), 0.0,
                      MSBDF_TOL(1e-7));
  gsl_matrix_free(o1);
  gsl_matrix_free(o2);
  product_free(&P);
}
END_TEST

/* Above IR_FLOW_MSBDF_MAX_PARAMS the implicit stepper is refused, and AUTO
 * cannot fall back on it: a stiff separable quadratic with 2001
 * parameters and a small budget fails with IR_ENOCONV. */
START_TEST(test_msbdf_max_params) {
  const size_t n = IR_FLOW_MSBDF_MAX_PARAMS + 1;
  ir_model *m = diag_model_alloc(n, 1e4, 1.0, 0, 0);
  gsl_vector *th0 = gsl_vector_alloc(n);
  gsl_vector_set_all(th0, 1.0);
  const double t = 1.0;
  gsl_matrix *out = gsl_matrix_alloc(1, n);
  ir_flow_params fp = flow_params(1, 0, 0);
  fp.stepper = IR_FLOW_MSBDF;
  ir_flow_result res;
  ir_error_clear();
  ck_assert_int_eq(ir_flow_solve(m, &fp, th0, &t, 1, out, NULL, &res),
                   IR_EINVAL);
  ck_assert_str_ne(ir_error_message(), "");
  fp.stepper = IR_FLOW_AUTO;
  fp.max_steps = 200;
  fp.global_error = 0;
  ck_assert_int_eq(ir_flow_solve(m, &fp, th0, &t, 1, out, NULL, &res),
                   IR_ENOCONV);
  /* The same problem with 2 parameters: AUTO switches to msbdf (rk8pd
   * would need ~2e4 steps to reach t = 10). */
  ir_model *m2 = diag_model_alloc(2, 1e4, 1.0, 0, 0);
  gsl_vector *th2 = gsl_vector_alloc(2);
  gsl_vector_set_all(th2, 1.0);
  gsl_matrix *out2 = gsl_matrix_alloc(1, 2);
  fp.max_steps = 2000;
  fp.rtol = 1e-7;
  fp.global_error = 1;
  const double t10 = 10.0;
  double err;
  IR_ASSERT_OK(ir_flow_solve(m2, &fp, th2, &t10, 1, out2, &err, &res));
  ck_assert_int_eq(res.used, IR_FLOW_MSBDF);
  const double e1 = hypot(gsl_matrix_get(out2, 0, 0) - exp(-1e5),
                          gsl_matrix_get(out2, 0, 1) - exp(-10.0));
  ck_assert_msg(e1 <= MSBDF_TOL(1e-7), "error %.3g", e1);
  ck_assert_msg(e1 <= err, "error %.3g > estimate %.3g", e1, err);
  gsl_vector_free(th2);
  gsl_matrix_free(out2);
  ir_model_free(m2);
  gsl_vector_free(th0);
  gsl_matrix_free(out);
  ir_model_free(m);
}
END_TEST

/* max_steps is "the stepper budget for one integration (all outputs)":
 * 50 output times 0.01 apart need at least 50 steps (one per interval at
 * least), so a budget of 10 must fail, however the steps are spread. */
START_TEST(test_budget_covers_all_outputs) {
  gsl_matrix *A = gsl_matrix_alloc(1, 1);
  gsl_matrix_set(A, 0, 0, 1.0);
  ir_model *m = ir_model_quadratic_alloc(A, NULL);
  gsl_vector *th0 = gsl_vector_alloc(1);
  gsl_vector_set(th0, 0, 1.0);
  enum { NT = 50 };
  double times[NT];
  for (size_t j = 0; j < NT; j++)
    times[j] = 0.01 * (double)(j + 1);
  gsl_matrix *out = gsl_matrix_alloc(NT, 1);
  ir_flow_params fp = flow_params(1, 0, 0);
  fp.stepper = IR_FLOW_RK8PD;
  fp.global_error = 0;
  fp.max_steps = 10;
  ir_flow_result res;
  const int s = ir_flow_solve(m, &fp, th0, times, NT, out, NULL, &res);
  ck_assert_msg(s == IR_ENOCONV,
                "50 outputs with a budget of 10 steps: status %d, %zu steps "
                "taken",
                s, res.nsteps);
  gsl_matrix_free(out);
  gsl_vector_free(th0);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* ---- Errors ------------------------------------------------------------- */

typedef struct {
  gsl_matrix *A;
  ir_model *m;
  gsl_vector *th0;
  gsl_matrix *out;
} small_fx;

static small_fx small_setup(void) {
  small_fx F;
  const double mu[3] = {1.0, 0.5, 2.0};
  F.A = ir_test_sym_with_spectrum(mu, 3, 71);
  F.m = ir_model_quadratic_alloc(F.A, NULL);
  F.th0 = gsl_vector_alloc(3);
  gsl_vector_set_all(F.th0, 0.5);
  F.out = gsl_matrix_alloc(2, 3);
  gsl_matrix_set_all(F.out, 42.0);
  return F;
}

static void small_free(small_fx *F) {
  ir_model_free(F->m);
  gsl_matrix_free(F->A);
  gsl_vector_free(F->th0);
  gsl_matrix_free(F->out);
}

START_TEST(test_params_default) {
  ir_flow_params p;
  memset(&p, 0xff, sizeof p);
  ir_flow_params_default(&p);
  ck_assert(p.c == 1 && p.lambda == 0 && p.kappa == 0);
  ck_assert_int_eq(p.stepper, IR_FLOW_AUTO);
  ck_assert(p.rtol == 1e-11 && p.atol < 0);
  ck_assert_uint_eq(p.max_steps, 1000000);
  ck_assert_int_eq(p.global_error, 1);
  IR_ASSERT_OK(ir_flow_params_check(&p));
}
END_TEST

START_TEST(test_bad_params) {
  small_fx F = small_setup();
  const double times[2] = {0.5, 1.0};
  gsl_vector *f = gsl_vector_alloc(3);
  gsl_matrix *J = gsl_matrix_alloc(3, 3);
  enum { NBAD = 15 };
  for (size_t k = 0; k < NBAD; k++) {
    ir_flow_params p = flow_params(1, 0, 0);
    switch (k) {
    case 0: p.c = 0; break;
    case 1: p.c = -1; break;
    case 2: p.c = NAN; break;
    case 3: p.c = INFINITY; break;
    case 4: p.rtol = 0; break;
    case 5: p.rtol = 1e-16; break;
    case 6: p.rtol = 0.1; break;
    case 7: p.rtol = NAN; break;
    case 8: p.atol = NAN; break;
    case 9: p.atol = INFINITY; break;
    case 10: p.max_steps = 0; break;
    case 11: p.stepper = (ir_flow_stepper)7; break;
    case 12: p.lambda = NAN; break;
    case 13: p.kappa = INFINITY; break;
    default: p.rtol = -1e-8; break;
    }
    ir_error_clear();
    ck_assert_msg(ir_flow_params_check(&p) == IR_EINVAL, "case %zu", k);
    ck_assert_str_ne(ir_error_message(), "");
    ir_flow_result res;
    ck_assert_msg(ir_flow_solve(F.m, &p, F.th0, times, 2, F.out, NULL, &res) ==
                      IR_EINVAL,
                  "solve, case %zu", k);
    ck_assert_msg(ir_flow_field(F.m, &p, F.th0, f) == IR_EINVAL,
                  "field, case %zu", k);
    ck_assert_msg(ir_flow_jacobian(F.m, &p, F.th0, J) == IR_EINVAL,
                  "jacobian, case %zu", k);
  }
  /* The boundary values of rtol are accepted, just outside them refused. */
  ir_flow_params p = flow_params(1, 0, 0);
  p.rtol = 1e-13;
  IR_ASSERT_OK(ir_flow_params_check(&p));
  p.rtol = 1e-7;
  IR_ASSERT_OK(ir_flow_params_check(&p));
  p.rtol = 0.9e-13;
  ck_assert_int_eq(ir_flow_params_check(&p), IR_EINVAL);
  p.rtol = 1.1e-7;
  ck_assert_int_eq(ir_flow_params_check(&p), IR_EINVAL);
  gsl_vector_free(f);
  gsl_matrix_free(J);
  small_free(&F);
}
END_TEST

START_TEST(test_bad_theta0) {
  small_fx F = small_setup();
  const double times[2] = {0.5, 1.0};
  ir_flow_params p = flow_params(1, 0, 0);
  ir_flow_result res;
  const double bad[3] = {NAN, INFINITY, -INFINITY};
  for (size_t k = 0; k < 3; k++) {
    gsl_vector_set(F.th0, 1, bad[k]);
    ir_error_clear();
    const int s = ir_flow_solve(F.m, &p, F.th0, times, 2, F.out, NULL, &res);
    /* flow.h does not name the status for a non-finite θ₀; IR_EBADDATA
     * ("NaN or Inf in the data") or IR_EINVAL are the sensible ones. */
    ck_assert_msg(s == IR_EBADDATA || s == IR_EINVAL, "theta0 = %g: %d", bad[k],
                  s);
    ck_assert_str_ne(ir_error_message(), "");
  }
  small_free(&F);
}
END_TEST

START_TEST(test_bad_times) {
  small_fx F = small_setup();
  ir_flow_params p = flow_params(1, 0, 0);
  ir_flow_result res;
  const double cases[5][2] = {
      {1.0, 0.5}, {-0.1, 1.0}, {0.5, NAN}, {0.5, INFINITY}, {-1.0, -0.5}};
  for (size_t k = 0; k < 5; k++) {
    ir_error_clear();
    ck_assert_msg(ir_flow_solve(F.m, &p, F.th0, cases[k], 2, F.out, NULL,
                                &res) == IR_EINVAL,
                  "times case %zu", k);
    ck_assert_str_ne(ir_error_message(), "");
  }
  /* No output time at all (out cannot have 0 rows: IR_ESHAPE or
   * IR_EINVAL, but not success). */
  double t0 = 1.0;
  gsl_matrix *o0 = gsl_matrix_alloc(1, 3);
  ck_assert_int_ne(ir_flow_solve(F.m, &p, F.th0, &t0, 0, o0, NULL, &res),
                   IR_OK);
  gsl_matrix_free(o0);
  small_free(&F);
}
END_TEST

START_TEST(test_kappa_one_sample) {
  small_fx F = small_setup();
  const double times[2] = {0.5, 1.0};
  ir_flow_params p = flow_params(1, 0.1, 0.2);
  ir_flow_result res;
  gsl_vector *f = gsl_vector_alloc(3);
  gsl_matrix *J = gsl_matrix_alloc(3, 3);
  ir_error_clear();
  ck_assert_int_eq(ir_flow_solve(F.m, &p, F.th0, times, 2, F.out, NULL, &res),
                   IR_EINVAL);
  ck_assert_str_ne(ir_error_message(), "");
  ck_assert_int_eq(ir_flow_field(F.m, &p, F.th0, f), IR_EINVAL);
  ck_assert_int_eq(ir_flow_jacobian(F.m, &p, F.th0, J), IR_EINVAL);
  /* The product model with one sample is refused too. */
  gsl_vector *x = gsl_vector_alloc(1), *y = gsl_vector_alloc(1);
  gsl_vector_set(x, 0, 2.0);
  gsl_vector_set(y, 0, 1.5);
  ir_model *pm = ir_model_product_alloc(x, y);
  gsl_vector *th = gsl_vector_alloc(2), *f2 = gsl_vector_alloc(2);
  gsl_vector_set_all(th, 0.5);
  ck_assert_int_eq(ir_flow_field(pm, &p, th, f2), IR_EINVAL);
  ir_model_free(pm);
  gsl_vector_free(x);
  gsl_vector_free(y);
  gsl_vector_free(th);
  gsl_vector_free(f2);
  gsl_vector_free(f);
  gsl_matrix_free(J);
  small_free(&F);
}
END_TEST

START_TEST(test_shapes) {
  small_fx F = small_setup();
  const double times[2] = {0.5, 1.0};
  ir_flow_params p = flow_params(1, 0, 0);
  ir_flow_result res;
  gsl_vector *th4 = gsl_vector_calloc(4), *f4 = gsl_vector_alloc(4),
             *f3 = gsl_vector_alloc(3);
  gsl_matrix *o23 = gsl_matrix_alloc(3, 3), *o24 = gsl_matrix_alloc(2, 4);
  gsl_matrix *J34 = gsl_matrix_alloc(3, 4), *J44 = gsl_matrix_alloc(4, 4);
  ck_assert_int_eq(ir_flow_solve(F.m, &p, th4, times, 2, F.out, NULL, &res),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_flow_solve(F.m, &p, F.th0, times, 2, o23, NULL, &res),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_flow_solve(F.m, &p, F.th0, times, 2, o24, NULL, &res),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_flow_field(F.m, &p, th4, f3), IR_ESHAPE);
  ck_assert_int_eq(ir_flow_field(F.m, &p, F.th0, f4), IR_ESHAPE);
  ck_assert_int_eq(ir_flow_jacobian(F.m, &p, F.th0, J34), IR_ESHAPE);
  ck_assert_int_eq(ir_flow_jacobian(F.m, &p, F.th0, J44), IR_ESHAPE);
  ck_assert_int_eq(ir_flow_jacobian(F.m, &p, th4, J44), IR_ESHAPE);
  gsl_vector_free(th4);
  gsl_vector_free(f4);
  gsl_vector_free(f3);
  gsl_matrix_free(o23);
  gsl_matrix_free(o24);
  gsl_matrix_free(J34);
  gsl_matrix_free(J44);
  small_free(&F);
}
END_TEST

/* E = −θ₀²/2 + θ₁²: θ₀ grows like e^t and leaves the doubles near
 * t = 709; run to t = 1e4, the flow must report IR_EDIVERGE, not return
 * Inf or NaN. */
START_TEST(test_diverge_negative_curvature) {
  gsl_matrix *A = gsl_matrix_calloc(2, 2);
  gsl_matrix_set(A, 0, 0, -1.0);
  gsl_matrix_set(A, 1, 1, 2.0);
  ir_model *m = ir_model_quadratic_alloc(A, NULL);
  gsl_vector *th0 = gsl_vector_alloc(2);
  gsl_vector_set_all(th0, 1.0);
  const double times[2] = {1.0, 1e4};
  gsl_matrix *out = gsl_matrix_alloc(2, 2);
  double err[2];
  ir_flow_params p = flow_params(1, 0, 0);
  ir_flow_result res;
  ir_error_clear();
  ck_assert_int_eq(ir_flow_solve(m, &p, th0, times, 2, out, err, &res),
                   IR_EDIVERGE);
  ck_assert_str_ne(ir_error_message(), "");
  /* The same with the modified flow, rates −1 + 2λ: still unstable. */
  p.lambda = 0.2;
  ck_assert_int_eq(ir_flow_solve(m, &p, th0, times, 2, out, err, &res),
                   IR_EDIVERGE);
  gsl_vector_free(th0);
  gsl_matrix_free(out);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* A model whose gradient turns to NaN once θ₀ < 0.5 (reached at t = log 2
 * along e^{−t}): IR_EDIVERGE; one that fails with its own status there:
 * that status. */
START_TEST(test_model_nan_or_failure) {
  const double times[2] = {0.5, 2.0};
  gsl_vector *th0 = gsl_vector_alloc(2);
  gsl_vector_set_all(th0, 1.0);
  gsl_matrix *out = gsl_matrix_alloc(2, 2);
  ir_flow_result res;
  for (int mode = 1; mode <= 2; mode++) {
    for (int st = 0; st < 3; st++) {
      ir_model *m = diag_model_alloc(2, 1.0, 1.0, mode, 0.5);
      ir_flow_params p = flow_params(1, 0, 0);
      p.stepper = (ir_flow_stepper)st;
      ir_error_clear();
      const int s = ir_flow_solve(m, &p, th0, times, 2, out, NULL, &res);
      ck_assert_msg(s == (mode == 1 ? IR_EDIVERGE : IR_EBADDATA),
                    "mode %d, stepper %d: status %d (%s)", mode, st, s,
                    ir_error_message());
      ck_assert_str_ne(ir_error_message(), "");
      /* The field itself at a bad point. */
      gsl_vector *f = gsl_vector_alloc(2), *bad = gsl_vector_alloc(2);
      gsl_vector_set_all(bad, 0.25);
      ck_assert_int_eq(ir_flow_field(m, &p, bad, f),
                       mode == 1 ? IR_EDIVERGE : IR_EBADDATA);
      gsl_vector_free(f);
      gsl_vector_free(bad);
      ir_model_free(m);
    }
  }
  gsl_vector_free(th0);
  gsl_matrix_free(out);
}
END_TEST

START_TEST(test_stepper_names) {
  const ir_flow_stepper all[3] = {IR_FLOW_AUTO, IR_FLOW_RK8PD, IR_FLOW_MSBDF};
  const char *names[3] = {"auto", "rk8pd", "msbdf"};
  for (size_t k = 0; k < 3; k++) {
    ck_assert_str_eq(ir_flow_stepper_name(all[k]), names[k]);
    ir_flow_stepper s = (ir_flow_stepper)99;
    IR_ASSERT_OK(ir_flow_stepper_parse(names[k], &s));
    ck_assert_int_eq(s, all[k]);
  }
  ir_flow_stepper s;
  ck_assert_int_eq(ir_flow_stepper_parse("rk45", &s), IR_EINVAL);
  ck_assert_int_eq(ir_flow_stepper_parse("", &s), IR_EINVAL);
}
END_TEST

static Suite *flow_suite(void) {
  Suite *s = suite_create("flow");
  const int nq = (int)(sizeof quad_cases / sizeof quad_cases[0]);
  TCase *tc = tcase_create("quadratic");
  tcase_add_loop_test(tc, test_quad_distinct, 0, nq);
  tcase_add_loop_test(tc, test_quad_rank_deficient_drift, 0, nq);
  tcase_add_loop_test(tc, test_quad_repeated, 0, nq);
  tcase_add_loop_test(tc, test_scalar, 0, nq);
  tcase_add_test(tc, test_global_error_estimate);
  tcase_add_test(tc, test_global_error_loose_tolerance);
  suite_add_tcase(s, tc);

  tc = tcase_create("field");
  tcase_add_loop_test(tc, test_field_product, 0, NFIELD);
  tcase_add_loop_test(tc, test_field_mlp, 0, NFIELD);
  suite_add_tcase(s, tc);

  tc = tcase_create("jacobian");
  tcase_add_loop_test(tc, test_jacobian_product, 0, NFIELD);
  tcase_add_loop_test(tc, test_jacobian_mlp, 0, NFIELD);
  tcase_add_test(tc, test_jacobian_quadratic);
  suite_add_tcase(s, tc);

  tc = tcase_create("stiff");
  tcase_add_test(tc, test_stiff_rk8pd_budget);
  tcase_add_test(tc, test_stiff_auto_switches);
  tcase_add_test(tc, test_msbdf_explicit);
  tcase_add_test(tc, test_msbdf_max_params);
  tcase_add_test(tc, test_budget_covers_all_outputs);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_params_default);
  tcase_add_test(tc, test_bad_params);
  tcase_add_test(tc, test_bad_theta0);
  tcase_add_test(tc, test_bad_times);
  tcase_add_test(tc, test_kappa_one_sample);
  tcase_add_test(tc, test_shapes);
  tcase_add_test(tc, test_diverge_negative_curvature);
  tcase_add_test(tc, test_model_nan_or_failure);
  tcase_add_test(tc, test_stepper_names);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  ir_error_install_gsl_handler();
  return ir_test_run(flow_suite());
}
