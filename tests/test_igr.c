/* test_igr.c — implicit gradient regularization (igr.h) and the two models
 * it brought (quadratic, product) against independent computations.
 *
 * References used here, none of them the code under test:
 * - the coefficients' formulas written out, and the series
 *   −log(1 − x) − x = x²/2 + x³/3 + x⁴/4 + … behind ir_igr_quad_lambda_gd;
 * - the roots of z² − (1 + β − hμ)z + β by the quadratic formula in long
 *   double, and heavy ball's iterates as A z₁^k + B z₂^k;
 * - GD on a quadratic in the eigenbasis of A (gsl_eigen_symmv):
 *   u_i(t) = u*_i + (1 − hμ_i)^t (u_i(0) − u*_i);
 * - modified flows of quadratics in closed form (same eigenbasis), used to
 *   plant a known λ (and c) in synthetic "iterates" for ir_igr_fit;
 * - the product model's conserved quantity b² − a² under gradient flow;
 * - SGD epochs by a hand-written loop over batches with the least-squares
 *   gradient (1/B)X_bᵀ(X_b w − y_b), and the mean over all shuffles from an
 *   enumeration of the ordered batch partitions;
 * - reference numbers of the brief, recomputed independently (plain
 *   Python with an RK4 integrator at 2000 steps for the product model).
 *
 * Tolerances are derived next to each check: rounding (eps times the
 * number of operations or a condition number), integration (the flow's
 * tight local tolerance 1e-13 summed over its steps), or the statistical
 * spread of a sample (5 standard errors).
 */
#include "implreg/igr.h"

#include "implreg/flow.h"
#include "implreg/model.h"
#include "implreg/optim.h"

#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <string.h>

#define EPS DBL_EPSILON

/* ---- Helpers ------------------------------------------------------------- */

/* Asserts that x rounds to ref at ref's last printed digit: ref is given
 * as d.ddd·10^e, so |x − ref| <= 0.5·10^(e−3) (plus a hair for the decimal
 * representation of ref). */
#define ASSERT_4DIGITS(x, ref)                                                 \
  do {                                                                         \
    double r_ = (ref), x_ = (x);                                               \
    double u_ = 0.5 * pow(10.0, floor(log10(fabs(r_))) - 3);                   \
    ck_assert_msg(fabs(x_ - r_) <= u_ * (1 + 1e-9),                            \
                  "%s = %.6e, reference %.3e (|diff| %.3g > %.3g)", #x, x_,    \
                  r_, fabs(x_ - r_), u_);                                      \
  } while (0)

/* Rows j = 0..nt−1 of out: θ(j·h) of the flow θ̇ = −c(∇E + 2λ∇²E∇E) of
 * E = ½θᵀAθ − bᵀθ (A invertible here): in the eigenbasis each u_i relaxes
 * to β_i/μ_i at the rate c(μ_i + 2λμ_i²). */
static void planted_flow(const ir_test_eigbasis *e, const gsl_vector *b,
                         const gsl_vector *th0, double c, double lambda,
                         double h, gsl_matrix *out) {
  const size_t p = e->p;
  gsl_vector *u0 = gsl_vector_alloc(p), *be = gsl_vector_calloc(p),
             *u = gsl_vector_alloc(p);
  gsl_blas_dgemv(CblasTrans, 1.0, e->Q, th0, 0.0, u0);
  if (b)
    gsl_blas_dgemv(CblasTrans, 1.0, e->Q, b, 0.0, be);
  for (size_t j = 0; j < out->size1; j++) {
    const double t = (double)j * h;
    for (size_t i = 0; i < p; i++) {
      const double mu = gsl_vector_get(e->mu, i);
      const double star = gsl_vector_get(be, i) / mu;
      const double r = c * (mu + 2 * lambda * mu * mu);
      gsl_vector_set(u, i, star + (gsl_vector_get(u0, i) - star) * exp(-r * t));
    }
    gsl_vector_view row = gsl_matrix_row(out, j);
    gsl_blas_dgemv(CblasNoTrans, 1.0, e->Q, u, 0.0, &row.vector);
  }
  gsl_vector_free(u0);
  gsl_vector_free(be);
  gsl_vector_free(u);
}

static ir_optim_params gd_params(double h, size_t steps) {
  ir_optim_params p;
  ir_optim_params_default(&p);
  p.lr = h;
  p.max_steps = steps;
  return p;
}

static ir_igr_fit_params fit_params(double h, double lambda0) {
  ir_igr_fit_params p;
  ir_igr_fit_params_default(&p);
  p.h = h;
  p.lambda0 = lambda0;
  p.nboot = 400;
  return p;
}

/* The scalar quadratic E = μθ²/2 (b = 0). */
static ir_model *scalar_model(gsl_matrix **A, double mu) {
  *A = gsl_matrix_alloc(1, 1);
  gsl_matrix_set(*A, 0, 0, mu);
  ir_model *m = ir_model_quadratic_alloc(*A, NULL);
  ck_assert_ptr_nonnull(m);
  return m;
}

/* ---- Coefficients ----------------------------------------------------------
 */

START_TEST(test_coefficients) {
  /* Values whose formulas are evaluated exactly or within 2 roundings. */
  IR_ASSERT_CLOSE(ir_igr_lambda_gd(0.1), 0.025, 2 * EPS, 0.0);
  IR_ASSERT_CLOSE(ir_igr_lambda_gd(3.0), 0.75, 0.0, 0.0);
  /* Heavy ball: h(1 + β)/(4(1 − β)²). */
  IR_ASSERT_CLOSE(ir_igr_lambda_hb(0.1, 0.5), 0.15, 4 * EPS, 0.0);
  IR_ASSERT_CLOSE(ir_igr_lambda_hb(0.1, 0.9), 0.1 * 1.9 / (4 * 0.1 * 0.1),
                  16 * EPS, 0.0); /* 1 − 0.9 carries 1e-16 absolute */
  IR_ASSERT_CLOSE(ir_igr_lambda_hb(0.2, 0.0), 0.05, 2 * EPS, 0.0);
  IR_ASSERT_CLOSE(ir_igr_timescale_hb(0.5), 2.0, 0.0, 0.0);
  IR_ASSERT_CLOSE(ir_igr_timescale_hb(0.0), 1.0, 0.0, 0.0);
  IR_ASSERT_CLOSE(ir_igr_timescale_hb(0.75), 4.0, 0.0, 0.0);
  /* The rejected alternative h/(4(1 − β)) and the ratio (1 + β)/(1 − β). */
  IR_ASSERT_CLOSE(ir_igr_lambda_hb_effective_gd(0.1, 0.5), 0.05, 2 * EPS, 0.0);
  IR_ASSERT_CLOSE(ir_igr_lambda_hb(0.03, 0.6) /
                      ir_igr_lambda_hb_effective_gd(0.03, 0.6),
                  1.6 / 0.4, 8 * EPS, 0.0);
  /* κ = (N − B)/(N − 1)·ε/(4B). */
  IR_ASSERT_CLOSE(ir_igr_kappa_sgd(8, 2, 0.1), (6.0 / 7.0) * 0.1 / 8, 4 * EPS,
                  0.0);
  IR_ASSERT_CLOSE(ir_igr_kappa_sgd(16, 4, 0.02), (12.0 / 15.0) * 0.02 / 16,
                  4 * EPS, 0.0);
  IR_ASSERT_CLOSE(ir_igr_kappa_sgd(10, 1, 0.2), 0.05, 4 * EPS, 0.0);
  ck_assert(ir_igr_kappa_sgd(8, 8, 0.1) == 0.0);
  /* Rate along curvature μ: c(μ + 2λμ²). */
  IR_ASSERT_CLOSE(ir_igr_quad_rate(2.0, 1.5, 0.1), 1.5 * 2.8, 2 * EPS, 0.0);
  IR_ASSERT_CLOSE(ir_igr_quad_rate(0.5, 1.0, 0.0), 0.5, 0.0, 0.0);
}
END_TEST

/* Small hμ: the series h/4 + h²μ/6 + h³μ²/8, whose next term h⁴μ³/10 is a
 * relative 0.4(hμ)³ of h/4. */
START_TEST(test_quad_lambda_series) {
  const double hs[3] = {0.1, 0.01, 1e-4};
  const double xs[4] = {1e-6, 1e-4, 1e-3, 1e-2};
  for (size_t a = 0; a < 3; a++)
    for (size_t k = 0; k < 4; k++) {
      const double h = hs[a], mu = xs[k] / h, x = h * mu;
      const double series = h / 4 + h * h * mu / 6 + h * h * h * mu * mu / 8;
      IR_ASSERT_CLOSE(ir_igr_quad_lambda_gd(h, mu), series,
                      0.5 * x * x * x + 8 * EPS, 0.0);
      /* And the series is not trivially satisfied: the second term is seen
       * whenever it exceeds the tolerance. */
      if (x >= 1e-4)
        ck_assert(fabs(ir_igr_quad_lambda_gd(h, mu) - h / 4) >
                  0.1 * h * h * mu / 6);
    }
}
END_TEST

/* Moderate hμ: the defining formula (−log(1 − hμ)/h − μ)/(2μ²), written
 * with log1p; the cancellation −log(1 − x) − x loses a factor
 * x/(x²/2) = 2/x of accuracy, at most 20 for x >= 0.1: 1e-13 relative. */
START_TEST(test_quad_lambda_direct) {
  const double xs[6] = {0.1, 0.2, 0.35, 0.5, 0.9, 0.99};
  const double hs[2] = {0.1, 0.37};
  for (size_t a = 0; a < 2; a++)
    for (size_t k = 0; k < 6; k++) {
      const double h = hs[a], mu = xs[k] / h;
      const double direct = (-log1p(-h * mu) / h - mu) / (2 * mu * mu);
      IR_ASSERT_CLOSE(ir_igr_quad_lambda_gd(h, mu), direct, 1e-13, 0.0);
      /* It makes the flow reproduce GD's factor exactly. */
      const double lam = ir_igr_quad_lambda_gd(h, mu);
      IR_ASSERT_CLOSE(exp(-(mu + 2 * lam * mu * mu) * h), 1 - h * mu, 1e-13,
                      0.0);
    }
  /* Continuity across the switch to the direct form at x = 0.1. */
  const double lo = ir_igr_quad_lambda_gd(1.0, 0.1 * (1 - 1e-12));
  const double hi = ir_igr_quad_lambda_gd(1.0, 0.1 * (1 + 1e-12));
  IR_ASSERT_CLOSE(lo, hi, 1e-12, 0.0);
  /* No flow matches GD when hμ >= 1. */
  ck_assert(isnan(ir_igr_quad_lambda_gd(0.1, 10.0)));
  ck_assert(isnan(ir_igr_quad_lambda_gd(0.1, 15.0)));
  ck_assert(isnan(ir_igr_quad_lambda_gd(1.0, 3.0)));
}
END_TEST

/* ---- Heavy ball --------------------------------------------------------- */

/* Roots of z² − sz + β in long double: z± = (s ± √(s² − 4β))/2. */
static void hb_roots(double h, double beta, double mu, long double *zp,
                     long double *zm) {
  const long double s = 1.0L + beta - (long double)h * mu;
  const long double d = sqrtl(s * s - 4.0L * beta);
  *zp = (s + d) / 2;
  *zm = (s - d) / 2;
}

START_TEST(test_hb_rate_roots) {
  const double hs[4] = {0.001, 0.01, 0.05, 0.2};
  const double betas[4] = {0.0, 0.3, 0.5, 0.9};
  const double mus[3] = {0.5, 1.0, 3.0};
  size_t nreal = 0, ncomplex = 0;
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 4; b++)
      for (size_t k = 0; k < 3; k++) {
        const double h = hs[a], beta = betas[b], mu = mus[k];
        const double s = 1 + beta - h * mu;
        double rate = -1, ratio = -1;
        ir_error_clear();
        const int st = ir_igr_hb_rate(h, beta, mu, &rate, &ratio);
        if (s * s - 4 * beta < 0) {
          ck_assert_msg(st == IR_EDOM, "h %g beta %g mu %g: %d", h, beta, mu,
                        st);
          ck_assert_str_ne(ir_error_message(), "");
          ncomplex++;
          continue;
        }
        IR_ASSERT_OK(st);
        long double zp, zm;
        hb_roots(h, beta, mu, &zp, &zm);
        /* −log z₊ with z₊ near 1: condition 1/|log z₊| <= 1e4 here, and
         * the double inputs are exact: 1e-12 relative. */
        IR_ASSERT_CLOSE(rate, (double)-logl(zp), 1e-12, 0.0);
        /* |z₋/z₊|: long double keeps z₋'s cancellation at 1e-19·s/|z₋|. */
        IR_ASSERT_CLOSE(ratio, (double)fabsl(zm / zp), 1e-10, 1e-15);
        nreal++;
      }
  ck_assert(nreal >= 20 && ncomplex >= 3);
  /* Plain GD (β = 0): rate −log(1 − hμ), ratio 0. */
  double rate, ratio;
  IR_ASSERT_OK(ir_igr_hb_rate(0.1, 0.0, 2.0, &rate, &ratio));
  IR_ASSERT_CLOSE(rate, -log1p(-0.2), 4 * EPS, 0.0);
  ck_assert(ratio == 0.0);
  /* ratio may be NULL. */
  IR_ASSERT_OK(ir_igr_hb_rate(0.01, 0.5, 1.0, &rate, NULL));
}
END_TEST

/* E = θ²/2, β = 0.5: the per-step rate against the flows' c·h(1 + 2λ)
 * (c = 2): gradient flow (λ = 0), the heavy-ball λ_β and GD's λ at the
 * effective step.  Reference numbers recomputed from the quadratic formula
 * in plain Python (math.sqrt, math.log). */
START_TEST(test_hb_reference_numbers) {
  const double hs[3] = {0.01, 0.005, 0.0025};
  const double ref_flow[3] = {6.374e-4, 1.545e-4, 3.805e-5};
  const double ref_hb[3] = {3.741e-5, 4.498e-6, 5.517e-7};
  const double ref_eff[3] = {4.374e-4, 1.045e-4, 2.555e-5};
  const double beta = 0.5, c = ir_igr_timescale_hb(beta);
  for (size_t k = 0; k < 3; k++) {
    const double h = hs[k];
    double rate;
    IR_ASSERT_OK(ir_igr_hb_rate(h, beta, 1.0, &rate, NULL));
    ASSERT_4DIGITS(fabs(rate - c * h), ref_flow[k]);
    ASSERT_4DIGITS(fabs(rate - c * h * (1 + 2 * ir_igr_lambda_hb(h, beta))),
                   ref_hb[k]);
    ASSERT_4DIGITS(
        fabs(rate - c * h * (1 + 2 * ir_igr_lambda_hb_effective_gd(h, beta))),
        ref_eff[k]);
  }
}
END_TEST

START_TEST(test_hb_edom) {
  double rate = 7, ratio = 7;
  /* s = 1, s² − 4β = −1. */
  ir_error_clear();
  ck_assert_int_eq(ir_igr_hb_rate(0.5, 0.5, 1.0, &rate, &ratio), IR_EDOM);
  ck_assert_str_ne(ir_error_message(), "");
  /* β = 0.9, hμ = 0.05: s = 1.85, s² = 3.4225 < 4β = 3.6. */
  ck_assert_int_eq(ir_igr_hb_rate(0.05, 0.9, 1.0, &rate, &ratio), IR_EDOM);
  /* The double root s² = 4β is real: s = 2√β. */
  const double beta = 0.25, h = 1 + beta - 2 * sqrt(beta); /* μ = 1, s = 1 */
  IR_ASSERT_OK(ir_igr_hb_rate(h, beta, 1.0, &rate, &ratio));
  IR_ASSERT_CLOSE(rate, -log(0.5), 4 * EPS, 0.0);
  IR_ASSERT_CLOSE(ratio, 1.0, 1e-15, 0.0);
}
END_TEST

/* Heavy ball's iterates on E = μθ²/2 from rest: θ_{k+1} = sθ_k − βθ_{k−1},
 * θ₁ = (1 − hμ)θ₀, so θ_k = A z₊^k + B z₋^k with A + B = θ₀,
 * Az₊ + Bz₋ = θ₁; and the transient length of ir_igr_transient_steps. */
START_TEST(test_hb_trajectory) {
  /* s = 1.22, s² = 1.4884 > 4β = 1.2: real roots. */
  const double h = 0.1, beta = 0.3, mu = 0.8;
  gsl_matrix *A;
  ir_model *m = scalar_model(&A, mu);
  ir_optim_params p = gd_params(h, 60);
  p.momentum = beta;
  gsl_vector *th0 = gsl_vector_alloc(1);
  gsl_vector_set(th0, 0, 2.0);
  gsl_matrix *it = gsl_matrix_alloc(61, 1);
  ir_optim_result res;
  IR_ASSERT_OK(ir_igr_trajectory(m, &p, th0, it, &res));
  long double zp, zm;
  hb_roots(h, beta, mu, &zp, &zm);
  const long double t0 = 2.0L, t1 = (1.0L - (long double)h * mu) * 2.0L;
  const long double B = (t1 - zp * t0) / (zm - zp), Aa = t0 - B;
  for (size_t k = 0; k <= 60; k++) {
    const double ex =
        (double)(Aa * powl(zp, (long double)k) + B * powl(zm, (long double)k));
    /* 60 steps of a contracting recursion: 60·4·eps·|θ₀|. */
    IR_ASSERT_CLOSE(gsl_matrix_get(it, k, 0), ex, 0.0, 240 * EPS * 2.0);
  }
  /* Transient: the smallest j with β^j <= 1e-3·min(1, (hμ_max/(1 − β))²). */
  const double cases[3][3] = {{0.1, 0.6, 0.8}, {0.01, 0.9, 2.0}, {0.5, 0.5, 5}};
  for (size_t k = 0; k < 3; k++) {
    const double hh = cases[k][0], bb = cases[k][1], mm = cases[k][2];
    const double x = hh * mm / (1 - bb);
    const double target = 1e-3 * fmin(1.0, x * x);
    const size_t j = ir_igr_transient_steps(hh, bb, mm);
    ck_assert(j >= 1);
    ck_assert_msg(pow(bb, (double)j) <= target * (1 + 1e-12) &&
                      pow(bb, (double)(j - 1)) > target,
                  "case %zu: j = %zu", k, j);
  }
  ck_assert_uint_eq(ir_igr_transient_steps(0.1, 0.0, 1.0), 0);
  gsl_matrix_free(it);
  gsl_vector_free(th0);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* ---- Trajectories ----------------------------------------------------------
 */

/* Loop index 0: b = 0 (E >= 0); 1: b ≠ 0, where E goes below −1 along the
 * run (E* = −½bᵀA⁻¹b) — see test_trajectory_negative_loss. */
START_TEST(test_gd_trajectory_quadratic) {
  const size_t p = 4, T = 50;
  const double mu[4] = {0.5, 1.0, 2.0, 3.0}, h = 0.2;
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 101);
  gsl_matrix *g = ir_test_gaussian(2, p, 102);
  gsl_vector_view th0 = gsl_matrix_row(g, 0), b = gsl_matrix_row(g, 1);
  if (_i == 0)
    gsl_vector_set_zero(&b.vector);
  ir_model *m = ir_model_quadratic_alloc(A, &b.vector);
  ck_assert_ptr_nonnull(m);
  ir_optim_params op = gd_params(h, T);
  gsl_matrix *it = gsl_matrix_alloc(T + 1, p);
  ir_optim_result res;
  IR_ASSERT_OK(ir_igr_trajectory(m, &op, &th0.vector, it, &res));
  ck_assert_uint_eq(res.steps, T);
  ck_assert_int_eq(res.diverged, 0);
  ir_test_eigbasis e = ir_test_eig(A);
  gsl_vector *u0 = gsl_vector_alloc(p), *be = gsl_vector_alloc(p),
             *u = gsl_vector_alloc(p), *ref = gsl_vector_alloc(p);
  gsl_blas_dgemv(CblasTrans, 1.0, e.Q, &th0.vector, 0.0, u0);
  gsl_blas_dgemv(CblasTrans, 1.0, e.Q, &b.vector, 0.0, be);
  double scale = gsl_blas_dnrm2(&th0.vector) + gsl_blas_dnrm2(&b.vector) / 0.5;
  for (size_t t = 0; t <= T; t++) {
    for (size_t i = 0; i < p; i++) {
      const double mi = gsl_vector_get(e.mu, i);
      const double star = gsl_vector_get(be, i) / mi;
      gsl_vector_set(u, i,
                     star + pow(1 - h * mi, (double)t) *
                                (gsl_vector_get(u0, i) - star));
    }
    gsl_blas_dgemv(CblasNoTrans, 1.0, e.Q, u, 0.0, ref);
    for (size_t i = 0; i < p; i++)
      /* Rounding: the eigendecomposition (p·eps·cond, cond = 6) and 50
       * contracting steps of p-term products: 1e-12 of the scale. */
      IR_ASSERT_CLOSE(gsl_matrix_get(it, t, i), gsl_vector_get(ref, i), 0.0,
                      1e-12 * scale);
  }
  gsl_vector_free(u0);
  gsl_vector_free(be);
  gsl_vector_free(u);
  gsl_vector_free(ref);
  ir_test_eig_free(&e);
  gsl_matrix_free(it);
  ir_model_free(m);
  gsl_matrix_free(A);
  gsl_matrix_free(g);
}
END_TEST

/* The minimal case: E = ½θ² − 2θ (minimum −2 at θ = 2), θ₀ = 0, GD with
 * h = 0.1: θ_t = 2(1 − 0.9^t), E(θ_t) = 2·0.81^t − 2 passes −1 at t = 4.
 * No loss goal is set (optim.h: loss_goal < 0 is "off"), so all 30 steps
 * must be recorded. */
START_TEST(test_trajectory_negative_loss) {
  gsl_matrix *A = gsl_matrix_alloc(1, 1);
  gsl_vector *b = gsl_vector_alloc(1), *th0 = gsl_vector_calloc(1);
  gsl_matrix_set(A, 0, 0, 1.0);
  gsl_vector_set(b, 0, 2.0);
  ir_model *m = ir_model_quadratic_alloc(A, b);
  ir_optim_params op = gd_params(0.1, 30);
  gsl_matrix *it = gsl_matrix_alloc(31, 1);
  ir_optim_result res;
  IR_ASSERT_OK(ir_igr_trajectory(m, &op, th0, it, &res));
  for (size_t t = 0; t <= 30; t++)
    IR_ASSERT_CLOSE(gsl_matrix_get(it, t, 0), 2 * (1 - pow(0.9, (double)t)),
                    1e-13, 1e-15);
  gsl_matrix_free(it);
  gsl_vector_free(th0);
  gsl_vector_free(b);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

START_TEST(test_trajectory_errors) {
  const size_t p = 3;
  const double mu[3] = {0.5, 1.0, 2.0};
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 111);
  ir_model *m = ir_model_quadratic_alloc(A, NULL);
  gsl_vector *th0 = gsl_vector_alloc(p);
  gsl_vector_set_all(th0, 1.0);
  ir_optim_result res;
  /* hμ_max = 2.4 > 2: |1 − hμ| = 1.4 per step, the loss passes 1e8 times
   * its start within ~30 steps. */
  ir_optim_params op = gd_params(1.2, 500);
  gsl_matrix *it = gsl_matrix_alloc(501, p);
  ir_error_clear();
  ck_assert_int_eq(ir_igr_trajectory(m, &op, th0, it, &res), IR_EDIVERGE);
  ck_assert_str_ne(ir_error_message(), "");
  /* A loss goal would stop the run early. */
  op = gd_params(0.1, 500);
  op.loss_goal = 1e-3;
  ck_assert_int_eq(ir_igr_trajectory(m, &op, th0, it, &res), IR_EINVAL);
  /* Shapes: rows must be max_steps + 1, columns nparams. */
  op = gd_params(0.1, 499);
  ck_assert_int_eq(ir_igr_trajectory(m, &op, th0, it, &res), IR_ESHAPE);
  gsl_matrix *it2 = gsl_matrix_alloc(501, p + 1);
  op = gd_params(0.1, 500);
  ck_assert_int_eq(ir_igr_trajectory(m, &op, th0, it2, &res), IR_ESHAPE);
  gsl_matrix_free(it2);
  gsl_matrix_free(it);
  gsl_vector_free(th0);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* ---- Reference numbers
 * --------------------------------------------------------- */

/* E = θ²/2, θ₀ = 1, T = 1: GD (1 − h)^{1/h} against the gradient flow e^{−1}
 * and the modified flow e^{−(1 + h/2)}, the flows computed by ir_flow_solve
 * and checked against those closed forms first. */
START_TEST(test_ref_scalar_gd) {
  const double hs[3] = {0.1, 0.05, 0.025};
  const double ref_flow[3] = {1.920e-2, 9.394e-3, 4.647e-3};
  const double ref_mod[3] = {1.259e-3, 3.105e-4, 7.713e-5};
  gsl_matrix *A;
  ir_model *m = scalar_model(&A, 1.0);
  gsl_vector *th0 = gsl_vector_alloc(1);
  gsl_vector_set(th0, 0, 1.0);
  for (size_t k = 0; k < 3; k++) {
    const double h = hs[k];
    const size_t T = (size_t)lround(1 / h);
    ir_optim_params op = gd_params(h, T);
    gsl_matrix *it = gsl_matrix_alloc(T + 1, 1);
    ir_optim_result res;
    IR_ASSERT_OK(ir_igr_trajectory(m, &op, th0, it, &res));
    const double gd = gsl_matrix_get(it, T, 0);
    IR_ASSERT_CLOSE(gd, pow(1 - h, (double)T), 100 * EPS, 0.0);
    const double tT = 1.0;
    gsl_matrix *out = gsl_matrix_alloc(1, 1);
    ir_flow_params fp;
    ir_flow_params_default(&fp);
    ir_flow_result fr;
    IR_ASSERT_OK(ir_flow_solve(m, &fp, th0, &tT, 1, out, NULL, &fr));
    const double flow = gsl_matrix_get(out, 0, 0);
    IR_ASSERT_CLOSE(flow, exp(-1.0), 1e-10, 0.0);
    fp.lambda = ir_igr_lambda_gd(h);
    IR_ASSERT_OK(ir_flow_solve(m, &fp, th0, &tT, 1, out, NULL, &fr));
    const double mod = gsl_matrix_get(out, 0, 0);
    IR_ASSERT_CLOSE(mod, exp(-(1 + h / 2)), 1e-10, 0.0);
    ASSERT_4DIGITS(fabs(gd - flow), ref_flow[k]);
    ASSERT_4DIGITS(fabs(gd - mod), ref_mod[k]);
    gsl_matrix_free(out);
    gsl_matrix_free(it);
  }
  gsl_vector_free(th0);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* The product model E = ½(y − abx)², x = 2, y = 1.5, one sample. */
typedef struct {
  gsl_vector *x, *y;
  ir_model *m;
} bd_fx;

static bd_fx bd_setup(void) {
  bd_fx B;
  B.x = gsl_vector_alloc(1);
  B.y = gsl_vector_alloc(1);
  gsl_vector_set(B.x, 0, 2.0);
  gsl_vector_set(B.y, 0, 1.5);
  B.m = ir_model_product_alloc(B.x, B.y);
  ck_assert_ptr_nonnull(B.m);
  return B;
}

static void bd_free(bd_fx *B) {
  ir_model_free(B->m);
  gsl_vector_free(B->x);
  gsl_vector_free(B->y);
}

/* One GD step from (0.7, 0.875) against the gradient flow and the
 * modified flow at t = h.  The flows are integrated to ~1e-13, far below
 * the 4th digit of distances >= 3e-5. */
START_TEST(test_ref_product_one_step) {
  bd_fx B = bd_setup();
  const double hs[2] = {0.04, 0.02};
  const double ref_flow[2] = {2.130e-3, 5.430e-4};
  const double ref_mod[2] = {2.416e-4, 3.005e-5};
  gsl_vector *th0 = gsl_vector_alloc(2);
  gsl_vector_set(th0, 0, 0.7);
  gsl_vector_set(th0, 1, 0.875);
  for (size_t k = 0; k < 2; k++) {
    const double h = hs[k];
    ir_optim_params op = gd_params(h, 1);
    gsl_matrix *it = gsl_matrix_alloc(2, 2);
    ir_optim_result res;
    IR_ASSERT_OK(ir_igr_trajectory(B.m, &op, th0, it, &res));
    /* The step by hand: r = abx − y, ∇E = (r b x, r a x). */
    const double r = 0.7 * 0.875 * 2.0 - 1.5;
    IR_ASSERT_CLOSE(gsl_matrix_get(it, 1, 0), 0.7 - h * r * 0.875 * 2.0,
                    4 * EPS, 0.0);
    IR_ASSERT_CLOSE(gsl_matrix_get(it, 1, 1), 0.875 - h * r * 0.7 * 2.0,
                    4 * EPS, 0.0);
    gsl_matrix *out = gsl_matrix_alloc(1, 2);
    ir_flow_params fp;
    ir_flow_params_default(&fp);
    ir_flow_result fr;
    IR_ASSERT_OK(ir_flow_solve(B.m, &fp, th0, &h, 1, out, NULL, &fr));
    const double df =
        hypot(gsl_matrix_get(it, 1, 0) - gsl_matrix_get(out, 0, 0),
              gsl_matrix_get(it, 1, 1) - gsl_matrix_get(out, 0, 1));
    fp.lambda = ir_igr_lambda_gd(h);
    IR_ASSERT_OK(ir_flow_solve(B.m, &fp, th0, &h, 1, out, NULL, &fr));
    const double dm =
        hypot(gsl_matrix_get(it, 1, 0) - gsl_matrix_get(out, 0, 0),
              gsl_matrix_get(it, 1, 1) - gsl_matrix_get(out, 0, 1));
    ASSERT_4DIGITS(df, ref_flow[k]);
    ASSERT_4DIGITS(dm, ref_mod[k]);
    gsl_matrix_free(out);
    gsl_matrix_free(it);
  }
  gsl_vector_free(th0);
  bd_free(&B);
}
END_TEST

/* From (0.2, 3.0): gradient flow conserves b² − a² (d/dt(b² − a²) =
 * 2(b·(−r a x) − a·(−r b x)) = 0) and ends on ab = y/x = 0.75, so
 * a² + b² = √((b² − a²)² + 4·0.75²) = 9.08469; GD with h = 0.02 ends at the
 * flatter 9.08331 (Hessian eigenvalue x²(a² + b²)). */
START_TEST(test_ref_product_flat_minimum) {
  bd_fx B = bd_setup();
  gsl_vector *th0 = gsl_vector_alloc(2);
  gsl_vector_set(th0, 0, 0.2);
  gsl_vector_set(th0, 1, 3.0);
  const double t = 400.0;
  gsl_matrix *out = gsl_matrix_alloc(1, 2);
  ir_flow_params fp;
  ir_flow_params_default(&fp);
  ir_flow_result fr;
  IR_ASSERT_OK(ir_flow_solve(B.m, &fp, th0, &t, 1, out, NULL, &fr));
  const double a = gsl_matrix_get(out, 0, 0), b = gsl_matrix_get(out, 0, 1);
  const double closed = sqrt(8.96 * 8.96 + 4 * 0.75 * 0.75);
  /* The local tolerance is 1e-13 relative; the flow contracts onto the
   * hyperbola and is neutral along it: 1e-9 relative. */
  IR_ASSERT_CLOSE(a * a + b * b, closed, 1e-9, 0.0);
  IR_ASSERT_CLOSE(b * b - a * a, 8.96, 1e-9, 0.0);
  IR_ASSERT_CLOSE(a * b, 0.75, 1e-9, 0.0);
  /* The reference number to its 6 digits. */
  ck_assert(fabs(a * a + b * b - 9.08469) <= 0.5e-5);
  /* GD, h = 0.02 for the same time (20000 steps). */
  const size_t T = 20000;
  ir_optim_params op = gd_params(0.02, T);
  gsl_matrix *it = gsl_matrix_alloc(T + 1, 2);
  ir_optim_result res;
  IR_ASSERT_OK(ir_igr_trajectory(B.m, &op, th0, it, &res));
  const double ga = gsl_matrix_get(it, T, 0), gb = gsl_matrix_get(it, T, 1);
  IR_ASSERT_CLOSE(ga * gb, 0.75, 1e-12, 0.0); /* converged */
  ck_assert_msg(fabs(ga * ga + gb * gb - 9.08331) <= 0.5e-5,
                "GD ends at a^2 + b^2 = %.8f", ga * ga + gb * gb);
  ck_assert(ga * ga + gb * gb < a * a + b * b); /* flatter */
  gsl_matrix_free(it);
  gsl_matrix_free(out);
  gsl_vector_free(th0);
  bd_free(&B);
}
END_TEST

/* ---- The estimator ----------------------------------------------------------
 */

/* A 3×3 quadratic with distinct curvatures {0.5, 1.2, 2.5}, b ≠ 0. */
typedef struct {
  gsl_matrix *A;
  gsl_vector *th0, *b; /* on the heap: the model borrows b */
  ir_model *m;
  ir_test_eigbasis e;
} q3_fx;

static q3_fx q3_setup(void) {
  q3_fx Q;
  const double mu[3] = {0.5, 1.2, 2.5};
  Q.A = ir_test_sym_with_spectrum(mu, 3, 121);
  gsl_matrix *g = ir_test_gaussian(2, 3, 122);
  Q.th0 = gsl_vector_alloc(3);
  Q.b = gsl_vector_alloc(3);
  gsl_matrix_get_row(Q.th0, g, 0);
  gsl_matrix_get_row(Q.b, g, 1);
  gsl_matrix_free(g);
  Q.m = ir_model_quadratic_alloc(Q.A, Q.b);
  ck_assert_ptr_nonnull(Q.m);
  Q.e = ir_test_eig(Q.A);
  return Q;
}

static void q3_free(q3_fx *Q) {
  ir_model_free(Q->m);
  ir_test_eig_free(&Q->e);
  gsl_matrix_free(Q->A);
  gsl_vector_free(Q->th0);
  gsl_vector_free(Q->b);
}

/* Iterates sampled from the modified flow with λ* = 0.031, c* = 1 (c held)
 * or c* = 1.3 (fitted).  The fit's flows are integrated to ~1e-12, and
 * ∂θ/∂λ is O(μ²t)·|θ − θ*| = O(0.1–1) over the segments: λ is identified
 * to ~1e-11 absolute, 1e-9 relative; asserted 1e-6. */
START_TEST(test_fit_planted_quadratic) {
  const int fit_c = _i;
  const double lam_star = 0.031, c_star = fit_c ? 1.3 : 1.0, h = 0.1;
  q3_fx Q = q3_setup();
  gsl_matrix *it = gsl_matrix_alloc(81, 3);
  planted_flow(&Q.e, Q.b, Q.th0, c_star, lam_star, h, it);
  ir_igr_fit_params fp = fit_params(h, ir_igr_lambda_gd(h));
  fp.fit_c = fit_c;
  ir_igr_fit_result r;
  IR_ASSERT_OK(ir_igr_fit(Q.m, it, &fp, &r));
  IR_ASSERT_CLOSE(r.lambda, lam_star, 1e-6, 0.0);
  ck_assert_int_eq(r.c_fitted, fit_c);
  IR_ASSERT_CLOSE(r.c, c_star, fit_c ? 1e-6 : 0.0, 0.0);
  /* The interval contains λ* up to the fit's numerical resolution (1e-9
   * relative, see above; test_fit_interval_noiseless asks for more). */
  const double sl = 1e-9 * lam_star, sc = 1e-9 * c_star;
  ck_assert_msg(r.lambda_lo <= lam_star + sl && lam_star - sl <= r.lambda_hi,
                "interval [%.17g, %.17g] misses lambda* = %.17g", r.lambda_lo,
                r.lambda_hi, lam_star);
  ck_assert(r.lambda_lo <= r.lambda && r.lambda <= r.lambda_hi);
  if (fit_c) {
    ck_assert_msg(r.c_lo <= c_star + sc && c_star - sc <= r.c_hi,
                  "interval [%.17g, %.17g] misses c* = %.17g", r.c_lo, r.c_hi,
                  c_star);
    ck_assert(r.c_lo <= r.c && r.c <= r.c_hi);
  } else
    ck_assert(r.c_lo == 1.0 && r.c_hi == 1.0);
  ck_assert_int_eq(r.converged, 1);
  ck_assert_uint_eq(r.segments, 8);
  ck_assert_uint_eq(r.seg_len, 10);
  ck_assert_uint_eq(r.npoints, 80);
  for (size_t s = 0; s < 8; s++)
    IR_ASSERT_CLOSE(r.seg_lambda[s], lam_star, 1e-5, 0.0);
  /* Zero-residual data: the fit's rss is at the integration floor, and
   * gradient flow is far worse. */
  ck_assert_msg(r.rms <= 1e-9, "rms %.3g", r.rms);
  ck_assert(r.rss_flow > 1e6 * r.rss);
  ck_assert(r.nflows > 0 && r.nevals > 0);
  gsl_matrix_free(it);
  q3_free(&Q);
}
END_TEST

/* Product model (non-quadratic), iterates from ir_flow_solve at rtol 1e-13
 * with λ* = 0.013 at times j·h; start λ₀ = h/4 = 0.01. */
START_TEST(test_fit_planted_product) {
  bd_fx B = bd_setup();
  const double h = 0.04, lam_star = 0.013;
  const size_t K = 40;
  gsl_vector *th0 = gsl_vector_alloc(2);
  gsl_vector_set(th0, 0, 0.7);
  gsl_vector_set(th0, 1, 0.875);
  double times[41];
  for (size_t j = 0; j <= K; j++)
    times[j] = (double)j * h;
  gsl_matrix *it = gsl_matrix_alloc(K + 1, 2);
  ir_flow_params gp;
  ir_flow_params_default(&gp);
  gp.lambda = lam_star;
  gp.rtol = 1e-13;
  ir_flow_result fr;
  IR_ASSERT_OK(ir_flow_solve(B.m, &gp, th0, times, K + 1, it, NULL, &fr));
  ir_igr_fit_params fp = fit_params(h, ir_igr_lambda_gd(h));
  fp.segments = 4;
  ir_igr_fit_result r;
  IR_ASSERT_OK(ir_igr_fit(B.m, it, &fp, &r));
  IR_ASSERT_CLOSE(r.lambda, lam_star, 1e-6, 0.0);
  const double sl = 1e-9 * lam_star;
  ck_assert_msg(r.lambda_lo <= lam_star + sl && lam_star - sl <= r.lambda_hi,
                "interval [%.17g, %.17g] misses %.17g", r.lambda_lo,
                r.lambda_hi, lam_star);
  ck_assert_int_eq(r.c_fitted, 0);
  ck_assert_uint_eq(r.seg_len, 10);
  gsl_matrix_free(it);
  gsl_vector_free(th0);
  bd_free(&B);
}
END_TEST

/* The interval promised by igr.h is a bootstrap over segments; on iterates
 * that ARE the modified flow (noiseless data) it must still contain the
 * planted λ*: nothing else is true.  Here the only error is the
 * integration error of the fit's own flows (rtol 1e-11), which biases λ
 * by ~1e-12 relative while the bootstrap spread is of the same size or
 * smaller, so an interval that ignores integration error can miss λ*. */
START_TEST(test_fit_interval_noiseless) {
  const double lam_star = 0.031, h = 0.1;
  q3_fx Q = q3_setup();
  gsl_matrix *it = gsl_matrix_alloc(81, 3);
  planted_flow(&Q.e, Q.b, Q.th0, 1.0, lam_star, h, it);
  ir_igr_fit_params fp = fit_params(h, ir_igr_lambda_gd(h));
  ir_igr_fit_result r;
  IR_ASSERT_OK(ir_igr_fit(Q.m, it, &fp, &r));
  ck_assert_msg(r.lambda_lo <= lam_star && lam_star <= r.lambda_hi,
                "interval [%.17g, %.17g] (fit %.17g, global_err %.3g) misses "
                "lambda* = %.17g",
                r.lambda_lo, r.lambda_hi, r.lambda, r.global_err, lam_star);
  gsl_matrix_free(it);
  q3_free(&Q);
}
END_TEST

/* Coverage with noise: the planted flow plus N(0, 1e-4²) on every iterate
 * after the first, 40 noise draws.  A 95% interval must contain λ* in at
 * least 30 of them (P(X < 30) < 1e-4 for X ~ Bin(40, 0.95), and still
 * < 0.06 at a true coverage of 85%). */
START_TEST(test_fit_coverage_noisy) {
  const double lam_star = 0.031, h = 0.1;
  q3_fx Q = q3_setup();
  gsl_matrix *clean = gsl_matrix_alloc(81, 3), *it = gsl_matrix_alloc(81, 3);
  planted_flow(&Q.e, Q.b, Q.th0, 1.0, lam_star, h, clean);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  size_t cover = 0;
  for (size_t k = 0; k < 40; k++) {
    gsl_rng_set(rng, 1000 + k);
    gsl_matrix_memcpy(it, clean);
    for (size_t j = 1; j < 81; j++)
      for (size_t i = 0; i < 3; i++)
        gsl_matrix_set(it, j, i,
                       gsl_matrix_get(it, j, i) +
                           1e-4 * gsl_ran_gaussian(rng, 1));
    ir_igr_fit_params fp = fit_params(h, ir_igr_lambda_gd(h));
    fp.seed = 1 + k;
    ir_igr_fit_result r;
    IR_ASSERT_OK(ir_igr_fit(Q.m, it, &fp, &r));
    ck_assert(r.lambda_lo <= r.lambda && r.lambda <= r.lambda_hi);
    ck_assert(r.lambda_hi > r.lambda_lo);
    if (r.lambda_lo <= lam_star && lam_star <= r.lambda_hi)
      cover++;
  }
  ck_assert_msg(cover >= 30, "coverage %zu / 40", cover);
  gsl_rng_free(rng);
  gsl_matrix_free(clean);
  gsl_matrix_free(it);
  q3_free(&Q);
}
END_TEST

/* E = θ²/2 with planted c* = 1.1, λ* = 0.02: only c(1 + 2λ) = 1.122 is
 * identified, so with fit_c = 1 c must be held (c_fitted = 0, c = 1) and
 * λ = (1.122 − 1)/2 = 0.061. */
START_TEST(test_fit_scalar_c_not_identified) {
  gsl_matrix *A;
  ir_model *m = scalar_model(&A, 1.0);
  const double h = 0.1, c_star = 1.1, lam_star = 0.02;
  gsl_matrix *it = gsl_matrix_alloc(61, 1);
  for (size_t j = 0; j <= 60; j++)
    gsl_matrix_set(it, j, 0,
                   1.5 * exp(-c_star * (1 + 2 * lam_star) * (double)j * h));
  ir_igr_fit_params fp = fit_params(h, ir_igr_lambda_gd(h));
  fp.fit_c = 1;
  fp.segments = 6;
  ir_igr_fit_result r;
  IR_ASSERT_OK(ir_igr_fit(m, it, &fp, &r));
  ck_assert_int_eq(r.c_fitted, 0);
  ck_assert(r.c == 1.0 && r.c_lo == 1.0 && r.c_hi == 1.0);
  IR_ASSERT_CLOSE(r.lambda, (c_star * (1 + 2 * lam_star) - 1) / 2, 1e-6, 0.0);
  gsl_matrix_free(it);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* GD on one curvature μ (A = μI, p = 2): the fit is exactly the λ for
 * which e^{−(μ + 2λμ²)h} = 1 − hμ, ir_igr_quad_lambda_gd(h, μ); the
 * residual is zero there up to integration error, which limits λ to
 * ~1e-10 relative (as above); asserted 1e-7. */
START_TEST(test_fit_gd_one_curvature) {
  const double h = 0.1, mu = 1.5;
  gsl_matrix *A = gsl_matrix_calloc(2, 2);
  gsl_matrix_set(A, 0, 0, mu);
  gsl_matrix_set(A, 1, 1, mu);
  ir_model *m = ir_model_quadratic_alloc(A, NULL);
  gsl_vector *th0 = gsl_vector_alloc(2);
  gsl_vector_set(th0, 0, 1.0);
  gsl_vector_set(th0, 1, -0.4);
  ir_optim_params op = gd_params(h, 64);
  gsl_matrix *it = gsl_matrix_alloc(65, 2);
  ir_optim_result res;
  IR_ASSERT_OK(ir_igr_trajectory(m, &op, th0, it, &res));
  ir_igr_fit_params fp = fit_params(h, ir_igr_lambda_gd(h));
  ir_igr_fit_result r;
  IR_ASSERT_OK(ir_igr_fit(m, it, &fp, &r));
  const double exact = ir_igr_quad_lambda_gd(h, mu);
  IR_ASSERT_CLOSE(r.lambda, exact, 1e-7, 0.0);
  /* ... and not the leading-order h/4 (they differ by h²μ/6 ≈ 0.1 h/4). */
  ck_assert(fabs(r.lambda - h / 4) > 0.05 * h / 4);
  gsl_matrix_free(it);
  gsl_vector_free(th0);
  ir_model_free(m);
  gsl_matrix_free(A);
}
END_TEST

/* GD on three curvatures: no single λ reproduces every direction; the
 * least-squares λ is a weighted compromise, strictly between the
 * per-direction exact values (increasing in μ). */
START_TEST(test_fit_gd_several_curvatures) {
  q3_fx Q = q3_setup();
  /* b = 0 here, so that E >= 0 (see test_trajectory_negative_loss). */
  ir_model *m = ir_model_quadratic_alloc(Q.A, NULL);
  const double h = 0.2;
  ir_optim_params op = gd_params(h, 48);
  gsl_matrix *it = gsl_matrix_alloc(49, 3);
  ir_optim_result res;
  IR_ASSERT_OK(ir_igr_trajectory(m, &op, Q.th0, it, &res));
  ir_igr_fit_params fp = fit_params(h, ir_igr_lambda_gd(h));
  ir_igr_fit_result r;
  IR_ASSERT_OK(ir_igr_fit(m, it, &fp, &r));
  const double lo = ir_igr_quad_lambda_gd(h, 0.5),
               hi = ir_igr_quad_lambda_gd(h, 2.5);
  ck_assert(lo < hi);
  ck_assert_msg(r.lambda > lo && r.lambda < hi,
                "fit %.17g outside (%.17g, %.17g)", r.lambda, lo, hi);
  /* The modified flow fits GD far better than gradient flow. */
  ck_assert(r.rss < 0.01 * r.rss_flow);
  gsl_matrix_free(it);
  ir_model_free(m);
  q3_free(&Q);
}
END_TEST

START_TEST(test_fit_errors) {
  q3_fx Q = q3_setup();
  const double h = 0.1;
  gsl_matrix *it = gsl_matrix_alloc(41, 3);
  planted_flow(&Q.e, Q.b, Q.th0, 1.0, 0.03, h, it);
  ir_igr_fit_result r;
  ir_igr_fit_params d;
  ir_igr_fit_params_default(&d);
  ck_assert(d.h == 0 && d.lambda0 == 0 && d.start == 0 && d.end == 0);
  ck_assert_uint_eq(d.segments, 8);
  ck_assert_uint_eq(d.stride, 1);
  ck_assert(d.c == 1 && d.fit_c == 0 && d.level == 0.95);
  ck_assert_uint_eq(d.max_iter, 12);
  ck_assert_uint_eq(d.nboot, 2000);
  ck_assert_uint_eq(d.seed, 1);
  ck_assert_int_eq(d.flow.global_error, 0);
  /* h and λ₀ must be set. */
  ck_assert_int_eq(ir_igr_fit(Q.m, it, &d, &r), IR_EINVAL);
  for (int k = 0; k < 10; k++) {
    ir_igr_fit_params p = fit_params(h, 0.025);
    switch (k) {
    case 0: p.h = -0.1; break;
    case 1: p.lambda0 = 0; break;
    case 2: p.c = 0; break;
    case 3: p.segments = 0; break;
    case 4: p.segments = IR_IGR_MAX_SEGMENTS + 1; break;
    case 5: p.level = 1.0; break;
    case 6: p.start = 40; break;    /* empty window */
    case 7: p.end = 41; break;      /* beyond the iterates */
    case 8: p.segments = 50; break; /* 40 steps < 50 segments */
    default: p.stride = 0; break;
    }
    ir_error_clear();
    ck_assert_msg(ir_igr_fit(Q.m, it, &p, &r) == IR_EINVAL, "case %d", k);
    ck_assert_str_ne(ir_error_message(), "");
  }
  gsl_matrix *wrong = gsl_matrix_alloc(41, 2);
  ir_igr_fit_params p = fit_params(h, 0.025);
  ck_assert_int_eq(ir_igr_fit(Q.m, wrong, &p, &r), IR_ESHAPE);
  gsl_matrix_free(wrong);
  /* Iterates that never move (θ at the minimum A⁻¹b = (1, −1, 2) with
   * b = A(1, −1, 2)): nothing depends on λ. */
  gsl_vector *star = gsl_vector_alloc(3), *bb = gsl_vector_alloc(3);
  gsl_vector_set(star, 0, 1.0);
  gsl_vector_set(star, 1, -1.0);
  gsl_vector_set(star, 2, 2.0);
  gsl_blas_dgemv(CblasNoTrans, 1.0, Q.A, star, 0.0, bb);
  ir_model *m2 = ir_model_quadratic_alloc(Q.A, bb);
  gsl_matrix *still = gsl_matrix_alloc(17, 3);
  for (size_t j = 0; j < 17; j++) {
    gsl_vector_view row = gsl_matrix_row(still, j);
    gsl_vector_memcpy(&row.vector, star);
  }
  p.segments = 4;
  ir_error_clear();
  const int s = ir_igr_fit(m2, still, &p, &r);
  ck_assert_msg(s == IR_ENOCONV, "status %d: %s", s, ir_error_message());
  ir_model_free(m2);
  gsl_matrix_free(still);
  gsl_vector_free(star);
  gsl_vector_free(bb);
  gsl_matrix_free(it);
  q3_free(&Q);
}
END_TEST

/* ---- Orders
 * ------------------------------------------------------------------ */

START_TEST(test_order_exact) {
  const double h[4] = {0.1, 0.05, 0.025, 0.0125};
  const double qs[3] = {1.0, 2.5, 3.0};
  for (size_t k = 0; k < 3; k++) {
    double err[4];
    for (size_t i = 0; i < 4; i++)
      err[i] = 3.7 * pow(h[i], qs[k]);
    ir_igr_order o;
    IR_ASSERT_OK(ir_igr_order_fit(h, err, 4, 0.95, &o));
    /* Logs of exact powers: rounding ~ eps·|log err|/|Δ log h| ≈ 1e-14. */
    IR_ASSERT_CLOSE(o.slope, qs[k], 1e-12, 0.0);
    ck_assert(o.se <= 1e-12);
    ck_assert(o.lo <= o.slope && o.slope <= o.hi);
    ck_assert_uint_eq(o.n, 4);
  }
}
END_TEST

/* NaN, Inf, zero and negative errors are skipped (unreported distances). */
START_TEST(test_order_skips) {
  const double h[8] = {0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003, 0.001};
  double err[8];
  for (size_t i = 0; i < 8; i++)
    err[i] = 0.3 * pow(h[i], 2.0);
  err[0] = NAN;
  err[3] = 0.0;
  err[5] = INFINITY;
  err[7] = -1e-9;
  ir_igr_order o;
  IR_ASSERT_OK(ir_igr_order_fit(h, err, 8, 0.9, &o));
  ck_assert_uint_eq(o.n, 4);
  IR_ASSERT_CLOSE(o.slope, 2.0, 1e-12, 0.0);
  /* Two usable points are too few. */
  err[1] = NAN;
  err[2] = NAN;
  ir_error_clear();
  ck_assert_int_eq(ir_igr_order_fit(h, err, 8, 0.9, &o), IR_EINVAL);
  ck_assert_str_ne(ir_error_message(), "");
  ck_assert_uint_eq(o.n, 2);
  ck_assert(isnan(o.slope));
  ck_assert_int_eq(ir_igr_order_fit(h, err, 2, 0.9, &o), IR_EINVAL);
}
END_TEST

/* Noisy errors: the slope and its standard error by ordinary least squares
 * on the logs, written out; the interval with t_{0.975, 3}
 * = 3.1824463052842638. */
START_TEST(test_order_noisy) {
  const double h[5] = {0.08, 0.04, 0.02, 0.01, 0.005};
  const double noise[5] = {1.1, 0.93, 1.05, 0.97, 1.02};
  double err[5], x[5], y[5];
  for (size_t i = 0; i < 5; i++) {
    err[i] = 2.0 * pow(h[i], 2.0) * noise[i];
    x[i] = log(h[i]);
    y[i] = log(err[i]);
  }
  double mx = 0, my = 0;
  for (size_t i = 0; i < 5; i++) {
    mx += x[i] / 5;
    my += y[i] / 5;
  }
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < 5; i++) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const double slope = sxy / sxx, icpt = my - slope * mx;
  double ssr = 0;
  for (size_t i = 0; i < 5; i++)
    ssr += pow(y[i] - icpt - slope * x[i], 2);
  const double se = sqrt(ssr / 3 / sxx);
  ir_igr_order o;
  IR_ASSERT_OK(ir_igr_order_fit(h, err, 5, 0.95, &o));
  IR_ASSERT_CLOSE(o.slope, slope, 1e-12, 0.0);
  IR_ASSERT_CLOSE(o.se, se, 1e-9, 0.0);
  const double t = 3.1824463052842638;
  IR_ASSERT_CLOSE(o.lo, slope - t * se, 1e-9, 0.0);
  IR_ASSERT_CLOSE(o.hi, slope + t * se, 1e-9, 0.0);
}
END_TEST

/* ---- SGD: permutations
 * ---------------------------------------------------------- */

static int is_permutation(const size_t *r, size_t N) {
  int seen[16] = {0};
  for (size_t i = 0; i < N; i++) {
    if (r[i] >= N || seen[r[i]])
      return 0;
    seen[r[i]] = 1;
  }
  return 1;
}

/* Lexicographic comparison of two rows. */
static int lex_cmp(const size_t *a, const size_t *b, size_t N) {
  for (size_t i = 0; i < N; i++)
    if (a[i] != b[i])
      return a[i] < b[i] ? -1 : 1;
  return 0;
}

START_TEST(test_permutations_all) {
  const size_t fact[7] = {1, 1, 2, 6, 24, 120, 720};
  for (size_t N = 1; N <= 6; N++) {
    size_t *P = NULL, count = 0;
    IR_ASSERT_OK(ir_igr_permutations_all(N, &P, &count));
    ck_assert_uint_eq(count, fact[N]);
    for (size_t r = 0; r < count; r++) {
      ck_assert(is_permutation(P + r * N, N));
      /* Strictly increasing: lexicographic order and all distinct. */
      if (r > 0)
        ck_assert(lex_cmp(P + (r - 1) * N, P + r * N, N) < 0);
    }
    for (size_t i = 0; i < N; i++) {
      ck_assert_uint_eq(P[i], i);                           /* 0 1 … N−1 */
      ck_assert_uint_eq(P[(count - 1) * N + i], N - 1 - i); /* N−1 … 0 */
    }
    free(P);
  }
  size_t *P = NULL, count = 0;
  ck_assert_int_eq(ir_igr_permutations_all(0, &P, &count), IR_EINVAL);
  ck_assert_int_eq(ir_igr_permutations_all(11, &P, &count), IR_EINVAL);
}
END_TEST

/* igr.h: "All N! permutations of 0..N−1 in lexicographic order (N <= 9)":
 * N = 10 (3628800 rows, 290 MB) is refused. */
START_TEST(test_permutations_all_ten) {
  size_t *P = NULL, count = 0;
  ck_assert_int_eq(ir_igr_permutations_all(10, &P, &count), IR_EINVAL);
  ck_assert_ptr_null(P);
}
END_TEST

START_TEST(test_permutations_random) {
  const size_t N = 6, S = 6000;
  size_t *P = NULL, *P2 = NULL, *Q = NULL, *R = NULL;
  IR_ASSERT_OK(ir_igr_permutations_random(N, S, 3, &P));
  IR_ASSERT_OK(ir_igr_permutations_random(N, S, 3, &P2));
  IR_ASSERT_OK(ir_igr_permutations_random(N, 10, 3, &Q));
  IR_ASSERT_OK(ir_igr_permutations_random(N, 10, 4, &R));
  ck_assert(memcmp(P, P2, S * N * sizeof(size_t)) == 0);
  ck_assert(memcmp(P, Q, 10 * N * sizeof(size_t)) == 0); /* row s fixed */
  ck_assert(memcmp(Q, R, 10 * N * sizeof(size_t)) != 0); /* seed matters */
  /* Rows are permutations, and the value at position 0 is uniform: each
   * count ~ Binomial(6000, 1/6), mean 1000, sd 28.9; 5 sd = 145. */
  size_t cnt[6] = {0};
  size_t distinct_rows = 0;
  for (size_t s = 0; s < S; s++) {
    ck_assert(is_permutation(P + s * N, N));
    cnt[P[s * N]]++;
    if (s > 0 && lex_cmp(P + (s - 1) * N, P + s * N, N) != 0)
      distinct_rows++;
  }
  for (size_t v = 0; v < 6; v++)
    ck_assert_msg(labs((long)cnt[v] - 1000) <= 145, "value %zu first %zu times",
                  v, cnt[v]);
  ck_assert(distinct_rows > S / 2);
  free(P);
  free(P2);
  free(Q);
  free(R);
  ck_assert_int_eq(ir_igr_permutations_random(0, 5, 1, &P), IR_EINVAL);
  ck_assert_int_eq(ir_igr_permutations_random(5, 0, 1, &P), IR_EINVAL);
}
END_TEST

/* ---- SGD: epochs
 * ------------------------------------------------------------- */

/* Least squares on X (N×p), y (N): one epoch of SGD by hand,
 * w ← w − ε(1/B)X_bᵀ(X_b w − y_b) over the consecutive blocks of perm. */
static void sgd_by_hand(const gsl_matrix *X, const gsl_matrix *Y,
                        const double *w0, double eps, size_t B,
                        const size_t *perm, double *w) {
  const size_t N = X->size1, p = X->size2;
  double g[16];
  memcpy(w, w0, p * sizeof(double));
  for (size_t k = 0; k < N / B; k++) {
    for (size_t j = 0; j < p; j++)
      g[j] = 0;
    for (size_t q = 0; q < B; q++) {
      const size_t i = perm[k * B + q];
      double r = -gsl_matrix_get(Y, i, 0);
      for (size_t j = 0; j < p; j++)
        r += gsl_matrix_get(X, i, j) * w[j];
      for (size_t j = 0; j < p; j++)
        g[j] += gsl_matrix_get(X, i, j) * r / (double)B;
    }
    for (size_t j = 0; j < p; j++)
      w[j] -= eps * g[j];
  }
}

START_TEST(test_sgd_epochs_hand) {
  const size_t N = 6, p = 3, S = 20;
  gsl_matrix *X = ir_test_gaussian(N, p, 131), *Y = ir_test_gaussian(N, 1, 132);
  ir_model *m = ir_model_linear_alloc(X, Y);
  gsl_vector *w0 = gsl_vector_alloc(p);
  for (size_t j = 0; j < p; j++)
    gsl_vector_set(w0, j, 0.5 - 0.4 * (double)j);
  size_t *P;
  IR_ASSERT_OK(ir_igr_permutations_random(N, S, 5, &P));
  const size_t Bs[3] = {1, 2, 3};
  gsl_matrix *out = gsl_matrix_alloc(S, p);
  for (size_t k = 0; k < 3; k++) {
    IR_ASSERT_OK(ir_igr_sgd_epochs(m, w0, 0.1, Bs[k], P, S, out));
    for (size_t s = 0; s < S; s++) {
      double w[3];
      sgd_by_hand(X, Y, w0->data, 0.1, Bs[k], P + s * N, w);
      for (size_t j = 0; j < p; j++)
        /* N/B steps of p-term sums of O(1) numbers: 1e-14. */
        IR_ASSERT_CLOSE(gsl_matrix_get(out, s, j), w[j], 1e-13, 1e-14);
    }
  }
  /* Errors. */
  ck_assert_int_eq(ir_igr_sgd_epochs(m, w0, 0.1, 4, P, S, out), IR_EINVAL);
  ck_assert_int_eq(ir_igr_sgd_epochs(m, w0, 0.1, 0, P, S, out), IR_EINVAL);
  ck_assert_int_eq(ir_igr_sgd_epochs(m, w0, 0.0, 2, P, S, out), IR_EINVAL);
  ck_assert_int_eq(ir_igr_sgd_epochs(m, w0, NAN, 2, P, S, out), IR_EINVAL);
  ck_assert_int_eq(ir_igr_sgd_epochs(m, w0, 0.1, 2, P, S - 1, out), IR_ESHAPE);
  free(P);
  gsl_matrix_free(out);
  gsl_vector_free(w0);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* N = 4, B = 2: the 24 shuffles give 6 ordered batch sequences
 * ({i, j}, complement), each 4 times (2!·2! orders inside the batches, which
 * do not change a batch gradient).  Their plain average is the mean. */
START_TEST(test_sgd_mean_all_shuffles) {
  const size_t N = 4, p = 2;
  gsl_matrix *X = ir_test_gaussian(N, p, 141), *Y = ir_test_gaussian(N, 1, 142);
  ir_model *m = ir_model_linear_alloc(X, Y);
  gsl_vector *w0 = gsl_vector_alloc(p);
  gsl_vector_set(w0, 0, 1.0);
  gsl_vector_set(w0, 1, -0.5);
  size_t *P, count;
  IR_ASSERT_OK(ir_igr_permutations_all(N, &P, &count));
  gsl_matrix *out = gsl_matrix_alloc(count, p);
  const double eps = 0.3;
  IR_ASSERT_OK(ir_igr_sgd_epochs(m, w0, eps, 2, P, count, out));
  double mean[2] = {0, 0};
  for (size_t s = 0; s < count; s++)
    for (size_t j = 0; j < p; j++)
      mean[j] += gsl_matrix_get(out, s, j) / (double)count;
  double ref[2] = {0, 0};
  size_t nseq = 0;
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < N; j++) {
      if (i == j)
        continue;
      if (i > j)
        continue; /* unordered first batch {i, j} */
      size_t perm[4] = {i, j, 0, 0}, k = 2;
      for (size_t q = 0; q < N; q++)
        if (q != i && q != j)
          perm[k++] = q;
      double w[2];
      sgd_by_hand(X, Y, w0->data, eps, 2, perm, w);
      ref[0] += w[0];
      ref[1] += w[1];
      nseq++;
    }
  ck_assert_uint_eq(nseq, 6);
  for (size_t j = 0; j < p; j++)
    IR_ASSERT_CLOSE(mean[j], ref[j] / 6, 1e-13, 1e-15);
  free(P);
  gsl_matrix_free(out);
  gsl_vector_free(w0);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* ---- SGD: the fitted coefficient of Γ ---------------------------------------
 */

/* Least squares with noise (so per-sample gradients differ at the optimum
 * and Γ ≠ 0), N samples, p = 2, one output. */
typedef struct {
  gsl_matrix *X, *Y;
  ir_model *m;
  gsl_vector *w0;
} ls_fx;

static ls_fx ls_setup(size_t N, unsigned long seed) {
  ls_fx L;
  L.X = ir_test_gaussian(N, 2, seed);
  L.Y = ir_test_gaussian(N, 1, seed + 1);
  /* y = Xw + 0.5·noise with w = (1, −0.5). */
  for (size_t i = 0; i < N; i++)
    gsl_matrix_set(L.Y, i, 0,
                   gsl_matrix_get(L.X, i, 0) - 0.5 * gsl_matrix_get(L.X, i, 1) +
                       0.5 * gsl_matrix_get(L.Y, i, 0));
  L.m = ir_model_linear_alloc(L.X, L.Y);
  ck_assert_ptr_nonnull(L.m);
  L.w0 = gsl_vector_alloc(2);
  gsl_vector_set(L.w0, 0, -1.0);
  gsl_vector_set(L.w0, 1, 1.5);
  return L;
}

static void ls_free(ls_fx *L) {
  ir_model_free(L->m);
  gsl_matrix_free(L->X);
  gsl_matrix_free(L->Y);
  gsl_vector_free(L->w0);
}

/* Exact enumeration, N = 8, B = 2 (40320 shuffles, T = 4ε).  Smith et al.:
 * the mean iterate follows the flow of E + (ε/4)‖∇E‖² + κΓ to O(ε³) over
 * the epoch, while both gradient flow and GD's modified flow miss an
 * O(ε²) term.  Orders over ε = 0.02 … 0.0025: 3 and 2 (within 0.3), and
 * the fitted κ → κ_theory with |κ/κ_theory − 1| = O(ε) (halving each time
 * ε halves: ratios in [1.5, 2.7]). */
START_TEST(test_sgd_analyze_exact) {
  ls_fx L = ls_setup(8, 151);
  size_t *P, count;
  IR_ASSERT_OK(ir_igr_permutations_all(8, &P, &count));
  gsl_matrix *E = gsl_matrix_alloc(count, 2);
  const double eps[4] = {0.02, 0.01, 0.005, 0.0025};
  double dsgd[4], dgd[4], dflow[4], dev[4];
  ir_flow_params fp;
  ir_flow_params_default(&fp);
  for (size_t k = 0; k < 4; k++) {
    IR_ASSERT_OK(ir_igr_sgd_epochs(L.m, L.w0, eps[k], 2, P, count, E));
    ir_igr_sgd_result r;
    IR_ASSERT_OK(ir_igr_sgd_analyze(L.m, L.w0, eps[k], 2, E, 1, 0.95, &fp, &r));
    ck_assert_uint_eq(r.N, 8);
    ck_assert_uint_eq(r.B, 2);
    ck_assert_uint_eq(r.nshuffle, 40320);
    ck_assert_int_eq(r.exact, 1);
    IR_ASSERT_CLOSE(r.T, 4 * eps[k], 4 * EPS, 0.0);
    IR_ASSERT_CLOSE(r.kappa_theory, (6.0 / 7.0) * eps[k] / 8, 4 * EPS, 0.0);
    ck_assert(r.se_flow == 0 && r.se_gd == 0 && r.se_sgd == 0);
    ck_assert(r.kappa_lo == r.kappa && r.kappa_hi == r.kappa);
    /* The distances are meaningful: far above the integration error. */
    ck_assert_msg(r.dist_sgd > 100 * r.global_err, "dist %.3g, err %.3g",
                  r.dist_sgd, r.global_err);
    ck_assert(r.dist_sgd < r.dist_gd && r.dist_sgd < r.dist_flow);
    dsgd[k] = r.dist_sgd;
    dgd[k] = r.dist_gd;
    dflow[k] = r.dist_flow;
    dev[k] = fabs(r.kappa / r.kappa_theory - 1);
  }
  ir_igr_order o;
  IR_ASSERT_OK(ir_igr_order_fit(eps, dsgd, 4, 0.95, &o));
  ck_assert_msg(fabs(o.slope - 3) <= 0.3, "dist_sgd order %.3f", o.slope);
  IR_ASSERT_OK(ir_igr_order_fit(eps, dgd, 4, 0.95, &o));
  ck_assert_msg(fabs(o.slope - 2) <= 0.3, "dist_gd order %.3f", o.slope);
  IR_ASSERT_OK(ir_igr_order_fit(eps, dflow, 4, 0.95, &o));
  ck_assert_msg(fabs(o.slope - 2) <= 0.3, "dist_flow order %.3f", o.slope);
  for (size_t k = 1; k < 4; k++)
    ck_assert_msg(dev[k - 1] / dev[k] >= 1.5 && dev[k - 1] / dev[k] <= 2.7,
                  "|kappa/kappa_theory - 1|: %.3g then %.3g", dev[k - 1],
                  dev[k]);
  ck_assert_msg(dev[3] < 0.1,
                "kappa/kappa_theory - 1 = %.3g at the smallest "
                "step",
                dev[3]);
  free(P);
  gsl_matrix_free(E);
  ls_free(&L);
}
END_TEST

/* Monte-Carlo, N = 16, B = 4: S = 1000 and 4000 random shuffles (the first
 * 1000 shared).  The interval is non-degenerate and its width, t·sd/√S,
 * halves when S quadruples: the sample sd's relative error is ~2% at
 * S = 1000, so the ratio lies in [1.6, 2.5]. */
START_TEST(test_sgd_analyze_mc) {
  ls_fx L = ls_setup(16, 161);
  const double eps = 0.01;
  ir_flow_params fp;
  ir_flow_params_default(&fp);
  const size_t Ss[2] = {1000, 4000};
  double width[2];
  for (size_t k = 0; k < 2; k++) {
    size_t *P;
    IR_ASSERT_OK(ir_igr_permutations_random(16, Ss[k], 7, &P));
    gsl_matrix *E = gsl_matrix_alloc(Ss[k], 2);
    IR_ASSERT_OK(ir_igr_sgd_epochs(L.m, L.w0, eps, 4, P, Ss[k], E));
    ir_igr_sgd_result r;
    IR_ASSERT_OK(ir_igr_sgd_analyze(L.m, L.w0, eps, 4, E, 0, 0.95, &fp, &r));
    ck_assert_int_eq(r.exact, 0);
    ck_assert_uint_eq(r.nshuffle, Ss[k]);
    ck_assert(isfinite(r.kappa_lo) && isfinite(r.kappa_hi));
    ck_assert_msg(r.kappa_lo < r.kappa && r.kappa < r.kappa_hi,
                  "interval [%.3g, %.3g] around %.3g", r.kappa_lo, r.kappa_hi,
                  r.kappa);
    ck_assert(r.se_sgd > 0 && r.se_gd > 0 && r.se_flow > 0);
    width[k] = r.kappa_hi - r.kappa_lo;
    free(P);
    gsl_matrix_free(E);
  }
  ck_assert_msg(width[0] / width[1] >= 1.6 && width[0] / width[1] <= 2.5,
                "widths %.3g (S = 1000), %.3g (S = 4000)", width[0], width[1]);
  ls_free(&L);
}
END_TEST

/* Calibration of the Monte-Carlo interval: 4000 shuffles cut into 40
 * groups of 100; κ fitted on each group separately scatters with a
 * standard deviation the interval at S = 4000 predicts,
 * sd_100 = half-width·√(4000/100)/1.96.  With 40 groups the sample sd has
 * a relative standard error of 1/√78 ≈ 11%: the ratio must be in
 * [0.65, 1.5] (about 3.5 standard errors each way); a half-width off by a
 * factor 2 falls outside. */
START_TEST(test_sgd_analyze_mc_calibration) {
  ls_fx L = ls_setup(16, 161);
  const double eps = 0.01;
  const size_t S = 4000, G = 40, per = S / G;
  ir_flow_params fp;
  ir_flow_params_default(&fp);
  size_t *P;
  IR_ASSERT_OK(ir_igr_permutations_random(16, S, 9, &P));
  gsl_matrix *E = gsl_matrix_alloc(S, 2);
  IR_ASSERT_OK(ir_igr_sgd_epochs(L.m, L.w0, eps, 4, P, S, E));
  ir_igr_sgd_result r;
  IR_ASSERT_OK(ir_igr_sgd_analyze(L.m, L.w0, eps, 4, E, 0, 0.95, &fp, &r));
  const double half = 0.5 * (r.kappa_hi - r.kappa_lo);
  const double sd_pred = half * sqrt((double)S / (double)per) / 1.96;
  double kg[40], mean = 0;
  for (size_t g = 0; g < G; g++) {
    gsl_matrix_const_view Eg =
        gsl_matrix_const_submatrix(E, g * per, 0, per, 2);
    ir_igr_sgd_result rg;
    IR_ASSERT_OK(
        ir_igr_sgd_analyze(L.m, L.w0, eps, 4, &Eg.matrix, 0, 0.95, &fp, &rg));
    kg[g] = rg.kappa;
    mean += kg[g] / (double)G;
  }
  double var = 0;
  for (size_t g = 0; g < G; g++)
    var += (kg[g] - mean) * (kg[g] - mean) / (double)(G - 1);
  const double ratio = sqrt(var) / sd_pred;
  ck_assert_msg(ratio >= 0.65 && ratio <= 1.5,
                "group sd %.3g vs predicted %.3g (ratio %.3f)", sqrt(var),
                sd_pred, ratio);
  /* The mean of the group fits is the full fit (κ̂ is nearly linear in the
   * mean iterate): within 3 predicted standard errors of the full mean. */
  ck_assert(fabs(mean - r.kappa) <= 3 * sd_pred / sqrt((double)G));
  free(P);
  gsl_matrix_free(E);
  ls_free(&L);
}
END_TEST

START_TEST(test_sgd_analyze_errors) {
  ls_fx L = ls_setup(8, 171);
  ir_flow_params fp;
  ir_flow_params_default(&fp);
  gsl_matrix *E = gsl_matrix_alloc(5, 2), *E3 = gsl_matrix_alloc(5, 3);
  gsl_matrix_set_all(E, 0.1);
  ir_igr_sgd_result r;
  ck_assert_int_eq(ir_igr_sgd_analyze(L.m, L.w0, 0.01, 3, E, 0, 0.95, &fp, &r),
                   IR_EINVAL);
  ck_assert_int_eq(ir_igr_sgd_analyze(L.m, L.w0, 0.0, 2, E, 0, 0.95, &fp, &r),
                   IR_EINVAL);
  ck_assert_int_eq(ir_igr_sgd_analyze(L.m, L.w0, 0.01, 2, E, 0, 1.5, &fp, &r),
                   IR_EINVAL);
  ck_assert_int_eq(ir_igr_sgd_analyze(L.m, L.w0, 0.01, 2, E3, 0, 0.95, &fp, &r),
                   IR_ESHAPE);
  gsl_matrix_free(E);
  gsl_matrix_free(E3);
  ls_free(&L);
}
END_TEST

/* ---- Models
 * -------------------------------------------------------------------- */

/* Fourth-order central difference of the loss (or of a gradient component)
 * along coordinate j: error s⁴/30·|D⁵| + 1.5·eps·|F|/s. */
static double fd4_loss(ir_model *m, const gsl_vector *th, size_t j, double s,
                       const size_t *idx, size_t nb, int comp) {
  const double st[4] = {2, 1, -1, -2}, wt[4] = {-1, 8, -8, 1};
  gsl_vector *w = gsl_vector_alloc(th->size), *g = gsl_vector_alloc(th->size);
  double acc = 0;
  for (int k = 0; k < 4; k++) {
    gsl_vector_memcpy(w, th);
    gsl_vector_set(w, j, gsl_vector_get(th, j) + st[k] * s);
    double L;
    IR_ASSERT_OK(ir_model_loss_grad(m, w, idx, nb, &L, g));
    acc += wt[k] * (comp < 0 ? L : gsl_vector_get(g, (size_t)comp));
  }
  gsl_vector_free(w);
  gsl_vector_free(g);
  return acc / (12 * s);
}

/* Gradient against differences of the loss, HVP (with e_j) against
 * differences of the gradient, for the batch (idx, nb). */
static void check_model_derivatives(ir_model *m, const gsl_vector *th,
                                    const size_t *idx, size_t nb) {
  const size_t n = m->nparams;
  gsl_vector *g = gsl_vector_alloc(n), *e = gsl_vector_alloc(n),
             *hv = gsl_vector_alloc(n);
  double L;
  IR_ASSERT_OK(ir_model_loss_grad(m, th, idx, nb, &L, g));
  const double s = 1e-3;
  double gmax = 0;
  for (size_t j = 0; j < n; j++)
    gmax = fmax(gmax, fabs(gsl_vector_get(g, j)));
  for (size_t j = 0; j < n; j++)
    IR_ASSERT_CLOSE(gsl_vector_get(g, j), fd4_loss(m, th, j, s, idx, nb, -1),
                    0.0, 1e-9 * (gmax + fabs(L)));
  for (size_t j = 0; j < n; j++) {
    gsl_vector_set_basis(e, j);
    IR_ASSERT_OK(ir_model_hvp(m, th, idx, nb, e, hv));
    for (size_t i = 0; i < n; i++)
      IR_ASSERT_CLOSE(gsl_vector_get(hv, i),
                      fd4_loss(m, th, j, s, idx, nb, (int)i), 0.0,
                      1e-9 * (gmax + fabs(gsl_vector_get(hv, i)) + 1));
  }
  gsl_vector_free(g);
  gsl_vector_free(e);
  gsl_vector_free(hv);
}

START_TEST(test_quadratic_model) {
  const size_t p = 4;
  const double mu[4] = {2.0, 1.0, -0.5, 0.0};
  gsl_matrix *A = ir_test_sym_with_spectrum(mu, p, 181);
  gsl_matrix *g = ir_test_gaussian(2, p, 182);
  gsl_vector_view th = gsl_matrix_row(g, 0), b = gsl_matrix_row(g, 1);
  ir_model *m = ir_model_quadratic_alloc(A, &b.vector);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(m->nparams, p);
  ck_assert_uint_eq(m->nsamples, 1);
  /* The loss written out: ½θᵀAθ − bᵀθ. */
  double ref = 0;
  for (size_t i = 0; i < p; i++) {
    for (size_t j = 0; j < p; j++)
      ref += 0.5 * gsl_vector_get(&th.vector, i) * gsl_matrix_get(A, i, j) *
             gsl_vector_get(&th.vector, j);
    ref -= gsl_vector_get(&b.vector, i) * gsl_vector_get(&th.vector, i);
  }
  double L;
  gsl_vector *gr = gsl_vector_alloc(p);
  IR_ASSERT_OK(ir_model_loss_grad(m, &th.vector, NULL, 0, &L, gr));
  IR_ASSERT_CLOSE(L, ref, 1e-13, 1e-15);
  /* ∇E = Aθ − b written out. */
  for (size_t i = 0; i < p; i++) {
    double gi = -gsl_vector_get(&b.vector, i);
    for (size_t j = 0; j < p; j++)
      gi += gsl_matrix_get(A, i, j) * gsl_vector_get(&th.vector, j);
    IR_ASSERT_CLOSE(gsl_vector_get(gr, i), gi, 1e-13, 1e-15);
  }
  check_model_derivatives(m, &th.vector, NULL, 0);
  const size_t one = 0;
  check_model_derivatives(m, &th.vector, &one, 1);
  /* No inputs: prediction fails. */
  gsl_matrix *X = gsl_matrix_alloc(2, 1), *out = gsl_matrix_alloc(2, 1);
  ck_assert_int_ne(ir_model_predict(m, &th.vector, X, out), IR_OK);
  gsl_matrix_free(X);
  gsl_matrix_free(out);
  ir_model_free(m);
  /* b = NULL is b = 0. */
  m = ir_model_quadratic_alloc(A, NULL);
  IR_ASSERT_OK(ir_model_loss_grad(m, &th.vector, NULL, 0, &L, gr));
  double ref0 = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++)
      ref0 += 0.5 * gsl_vector_get(&th.vector, i) * gsl_matrix_get(A, i, j) *
              gsl_vector_get(&th.vector, j);
  IR_ASSERT_CLOSE(L, ref0, 1e-13, 1e-15);
  ir_model_free(m);
  gsl_vector_free(gr);
  gsl_matrix_free(A);
  gsl_matrix_free(g);
}
END_TEST

START_TEST(test_quadratic_refuses) {
  gsl_matrix *A = gsl_matrix_alloc(3, 3);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++)
      gsl_matrix_set(A, i, j, 1.0 / (double)(1 + i + j));
  gsl_vector *b = gsl_vector_alloc(3), *b2 = gsl_vector_alloc(2);
  gsl_vector_set_all(b, 0.5);
  gsl_vector_set_all(b2, 0.5);
  ir_model *m = ir_model_quadratic_alloc(A, b);
  ck_assert_ptr_nonnull(m); /* the Hilbert matrix is fine */
  ir_model_free(m);
  /* Not symmetric (beyond 1e-14 relative). */
  gsl_matrix_set(A, 0, 2, 1.0 / 3 + 1e-10);
  ir_error_clear();
  ck_assert_ptr_null(ir_model_quadratic_alloc(A, b));
  ck_assert_str_ne(ir_error_message(), "");
  gsl_matrix_set(A, 0, 2, 1.0 / 3);
  /* Not square; b of the wrong length; non-finite entries. */
  gsl_matrix *R = gsl_matrix_calloc(2, 3);
  ck_assert_ptr_null(ir_model_quadratic_alloc(R, NULL));
  ck_assert_ptr_null(ir_model_quadratic_alloc(A, b2));
  gsl_matrix_set(A, 1, 1, NAN);
  ck_assert_ptr_null(ir_model_quadratic_alloc(A, b));
  gsl_matrix_set(A, 1, 1, 1.0 / 3);
  gsl_vector_set(b, 2, INFINITY);
  ck_assert_ptr_null(ir_model_quadratic_alloc(A, b));
  gsl_matrix_free(R);
  gsl_matrix_free(A);
  gsl_vector_free(b);
  gsl_vector_free(b2);
}
END_TEST

START_TEST(test_product_model) {
  const size_t n = 4;
  gsl_vector *x = gsl_vector_alloc(n), *y = gsl_vector_alloc(n);
  const double xs[4] = {0.5, -1.2, 2.0, 0.9}, ys[4] = {1.0, 0.3, -0.7, 2.2};
  for (size_t i = 0; i < n; i++) {
    gsl_vector_set(x, i, xs[i]);
    gsl_vector_set(y, i, ys[i]);
  }
  ir_model *m = ir_model_product_alloc(x, y);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(m->nparams, 2);
  ck_assert_uint_eq(m->nsamples, n);
  gsl_vector *th = gsl_vector_alloc(2), *g = gsl_vector_alloc(2);
  gsl_vector_set(th, 0, 0.8);
  gsl_vector_set(th, 1, -1.3);
  /* Loss and gradient written out, on the full set and on a batch with a
   * repeated index (weights by multiplicity, 1/m with m = 3). */
  const size_t idx[3] = {2, 0, 2};
  for (int batch = 0; batch < 2; batch++) {
    const size_t *ix = batch ? idx : NULL;
    const size_t nb = batch ? 3 : 0, mm = batch ? 3 : n;
    double L0 = 0, ga = 0, gb = 0;
    for (size_t k = 0; k < mm; k++) {
      const size_t i = batch ? idx[k] : k;
      const double r = 0.8 * -1.3 * xs[i] - ys[i];
      L0 += r * r / (2.0 * (double)mm);
      ga += r * -1.3 * xs[i] / (double)mm;
      gb += r * 0.8 * xs[i] / (double)mm;
    }
    double L;
    IR_ASSERT_OK(ir_model_loss_grad(m, th, ix, nb, &L, g));
    IR_ASSERT_CLOSE(L, L0, 1e-14, 0.0);
    IR_ASSERT_CLOSE(gsl_vector_get(g, 0), ga, 1e-14, 1e-16);
    IR_ASSERT_CLOSE(gsl_vector_get(g, 1), gb, 1e-14, 1e-16);
    check_model_derivatives(m, th, ix, nb);
  }
  /* Prediction a·b·x. */
  gsl_matrix *X = gsl_matrix_alloc(2, 1), *out = gsl_matrix_alloc(2, 1);
  gsl_matrix_set(X, 0, 0, 3.0);
  gsl_matrix_set(X, 1, 0, -0.5);
  IR_ASSERT_OK(ir_model_predict(m, th, X, out));
  IR_ASSERT_CLOSE(gsl_matrix_get(out, 0, 0), 0.8 * -1.3 * 3.0, 4 * EPS, 0.0);
  IR_ASSERT_CLOSE(gsl_matrix_get(out, 1, 0), 0.8 * -1.3 * -0.5, 4 * EPS, 0.0);
  gsl_matrix_free(X);
  gsl_matrix_free(out);
  ir_model_free(m);
  gsl_vector_free(th);
  gsl_vector_free(g);
  gsl_vector_free(x);
  gsl_vector_free(y);
}
END_TEST

/* model.h: with one sample, on the hyperbola ab = y/x the Hessian has
 * eigenvalues {0, x²(a² + b²)}. */
START_TEST(test_product_minimum_spectrum) {
  bd_fx B = bd_setup();
  const double as[3] = {0.5, 0.866, 2.0};
  for (size_t k = 0; k < 3; k++) {
    gsl_vector *th = gsl_vector_alloc(2), *e = gsl_vector_alloc(2),
               *hv = gsl_vector_alloc(2);
    const double a = as[k], b = 0.75 / a;
    gsl_vector_set(th, 0, a);
    gsl_vector_set(th, 1, b);
    double H[2][2];
    for (size_t j = 0; j < 2; j++) {
      gsl_vector_set_basis(e, j);
      IR_ASSERT_OK(ir_model_hvp(B.m, th, NULL, 0, e, hv));
      H[0][j] = gsl_vector_get(hv, 0);
      H[1][j] = gsl_vector_get(hv, 1);
    }
    const double tr = H[0][0] + H[1][1];
    const double det = H[0][0] * H[1][1] - H[0][1] * H[1][0];
    IR_ASSERT_CLOSE(tr, 4.0 * (a * a + b * b), 1e-14, 0.0);
    IR_ASSERT_CLOSE(det, 0.0, 0.0, 1e-13 * tr * tr);
    /* The zero mode is along the hyperbola, (a, −b). */
    gsl_vector_set(e, 0, a);
    gsl_vector_set(e, 1, -b);
    IR_ASSERT_OK(ir_model_hvp(B.m, th, NULL, 0, e, hv));
    ck_assert(gsl_blas_dnrm2(hv) <= 1e-14 * tr * gsl_blas_dnrm2(e));
    gsl_vector_free(th);
    gsl_vector_free(e);
    gsl_vector_free(hv);
  }
  bd_free(&B);
}
END_TEST

START_TEST(test_product_refuses) {
  gsl_vector *x = gsl_vector_alloc(3), *y = gsl_vector_alloc(3),
             *y2 = gsl_vector_alloc(2);
  gsl_vector_set_all(x, 1.0);
  gsl_vector_set_all(y, 1.0);
  gsl_vector_set_all(y2, 1.0);
  ir_error_clear();
  ck_assert_ptr_null(ir_model_product_alloc(x, y2));
  ck_assert_str_ne(ir_error_message(), "");
  ck_assert_ptr_null(ir_model_product_alloc(y2, x));
  gsl_vector_set(x, 1, NAN);
  ck_assert_ptr_null(ir_model_product_alloc(x, y));
  gsl_vector_set(x, 1, 1.0);
  gsl_vector_set(y, 2, -INFINITY);
  ck_assert_ptr_null(ir_model_product_alloc(x, y));
  gsl_vector_set(y, 2, 1.0);
  ir_model *m = ir_model_product_alloc(x, y);
  ck_assert_ptr_nonnull(m);
  ir_model_free(m);
  gsl_vector_free(x);
  gsl_vector_free(y);
  gsl_vector_free(y2);
}
END_TEST

static Suite *igr_suite(void) {
  Suite *s = suite_create("igr");
  TCase *tc = tcase_create("coefficients");
  tcase_add_test(tc, test_coefficients);
  tcase_add_test(tc, test_quad_lambda_series);
  tcase_add_test(tc, test_quad_lambda_direct);
  suite_add_tcase(s, tc);

  tc = tcase_create("heavy_ball");
  tcase_add_test(tc, test_hb_rate_roots);
  tcase_add_test(tc, test_hb_reference_numbers);
  tcase_add_test(tc, test_hb_edom);
  tcase_add_test(tc, test_hb_trajectory);
  suite_add_tcase(s, tc);

  tc = tcase_create("trajectory");
  tcase_add_loop_test(tc, test_gd_trajectory_quadratic, 0, 2);
  tcase_add_test(tc, test_trajectory_negative_loss);
  tcase_add_test(tc, test_trajectory_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("reference");
  tcase_add_test(tc, test_ref_scalar_gd);
  tcase_add_test(tc, test_ref_product_one_step);
  tcase_add_test(tc, test_ref_product_flat_minimum);
  suite_add_tcase(s, tc);

  tc = tcase_create("fit");
  tcase_add_loop_test(tc, test_fit_planted_quadratic, 0, 2);
  tcase_add_test(tc, test_fit_planted_product);
  tcase_add_test(tc, test_fit_interval_noiseless);
  tcase_add_test(tc, test_fit_coverage_noisy);
  tcase_add_test(tc, test_fit_scalar_c_not_identified);
  tcase_add_test(tc, test_fit_gd_one_curvature);
  tcase_add_test(tc, test_fit_gd_several_curvatures);
  tcase_add_test(tc, test_fit_errors);
  tcase_set_timeout(tc, 30);
  suite_add_tcase(s, tc);

  tc = tcase_create("order");
  tcase_add_test(tc, test_order_exact);
  tcase_add_test(tc, test_order_skips);
  tcase_add_test(tc, test_order_noisy);
  suite_add_tcase(s, tc);

  tc = tcase_create("sgd");
  tcase_add_test(tc, test_permutations_all);
  tcase_add_test(tc, test_permutations_all_ten);
  tcase_add_test(tc, test_permutations_random);
  tcase_add_test(tc, test_sgd_epochs_hand);
  tcase_add_test(tc, test_sgd_mean_all_shuffles);
  tcase_add_test(tc, test_sgd_analyze_exact);
  tcase_add_test(tc, test_sgd_analyze_mc);
  tcase_add_test(tc, test_sgd_analyze_mc_calibration);
  tcase_add_test(tc, test_sgd_analyze_errors);
  tcase_set_timeout(tc, 30);
  suite_add_tcase(s, tc);

  tc = tcase_create("models");
  tcase_add_test(tc, test_quadratic_model);
  tcase_add_test(tc, test_quadratic_refuses);
  tcase_add_test(tc, test_product_model);
  tcase_add_test(tc, test_product_minimum_spectrum);
  tcase_add_test(tc, test_product_refuses);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  ir_error_install_gsl_handler();
  return ir_test_run(igr_suite());
}
