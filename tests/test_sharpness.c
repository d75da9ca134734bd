/* test_sharpness.c — ε-sharpness against closed forms: the quadratic example
 * of docs/theory.md §9 (1.4375e-3), a random subspace checked by enumerating
 * the box's vertices, Dinh et al.'s rescaling on ab = 1, and bad input. */
#include "implreg/sharpness.h"

#include "implreg/model.h"
#include "implreg/rng.h"
#include "implreg/status.h"
#include "testutil.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

/* L(w) = (1/2n)‖Xw − y‖² = ½(w − c)ᵀH(w − c) for diagonal H: X = diag of
 * √(n·h_i) (n = p rows), y = X c, so L(c) = 0 exactly. */
typedef struct {
  gsl_matrix *X, *Y;
  ir_model *m;
} quad_fix;

static quad_fix quad_model(const double *h, const double *c, size_t p) {
  quad_fix q = {gsl_matrix_calloc(p, p), gsl_matrix_alloc(p, 1), NULL};
  for (size_t i = 0; i < p; i++) {
    const double x = sqrt((double)p * h[i]);
    gsl_matrix_set(q.X, i, i, x);
    gsl_matrix_set(q.Y, i, 0, x * c[i]);
  }
  q.m = ir_model_linear_alloc(q.X, q.Y);
  ck_assert_ptr_nonnull(q.m);
  return q;
}

static void quad_free(quad_fix *q) {
  ir_model_free(q->m);
  gsl_matrix_free(q->X);
  gsl_matrix_free(q->Y);
}

/* docs/theory.md §9: H = diag(1, 2, 3), c = (1, −2, 0.5), x = c, ε = 1e-3:
 * the box half-widths are ε(|c_i| + 1) = (2, 3, 1.5)·1e-3, a convex f peaks
 * at a vertex, and every vertex gives ½Σ h_i b_i² = 1.4375e-5, so
 * φ = 100·1.4375e-5/(1 + 0) = 1.4375e-3.  From any interior start the
 * ascent must reach a vertex exactly (the gradient pushes each coordinate
 * outwards), so the value is the exact maximum up to rounding. */
START_TEST(test_keskar_quadratic) {
  const double h[3] = {1, 2, 3}, c[3] = {1, -2, 0.5};
  quad_fix q = quad_model(h, c, 3);
  gsl_vector_const_view th = gsl_vector_const_view_array(c, 3);
  ir_sharpness_params p;
  ir_sharpness_params_default(&p);
  for (unsigned long seed = 1; seed <= 5; seed++) {
    p.seed = seed;
    ir_sharpness_result r;
    IR_ASSERT_OK(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &r));
    ck_assert(fabs(r.f0) <= 1e-30);
    IR_ASSERT_CLOSE(r.phi, 1.4375e-3, 1e-12, 0);
    ck_assert(r.at_bound == 1.0 && r.stationary);
    ck_assert(r.nevals >= 3 && r.iters >= 1);
  }
  /* ε = 5e-4: a quarter (the value is quadratic in ε). */
  p.eps = 5e-4;
  ir_sharpness_result r;
  IR_ASSERT_OK(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &r));
  IR_ASSERT_CLOSE(r.phi, 1.4375e-3 / 4, 1e-12, 0);
  quad_free(&q);
}
END_TEST

/* A random 3-dimensional subspace of a 6-parameter quadratic: F(y) =
 * ½yᵀ(AᵀHA)y is convex, so its maximum over the box is at one of the 8
 * vertices.  The ascent ends at a vertex (a local maximum) whose value is
 * one of theirs and never above the largest; over a few seeds the largest
 * is found.  A is rebuilt here from the same stream to get the box. */
START_TEST(test_random_subspace) {
  const size_t np = 6, r = 3;
  const double h[6] = {1, 0.5, 2, 0.1, 3, 1.5};
  const double c[6] = {0.3, -1, 2, 0, 0.7, -0.2};
  quad_fix q = quad_model(h, c, np);
  gsl_vector_const_view th = gsl_vector_const_view_array(c, np);
  ir_sharpness_params p;
  ir_sharpness_params_default(&p);
  p.rank = r;
  p.eps = 1e-2;
  double best_found = 0, fvals[8] = {0};
  for (unsigned long seed = 1; seed <= 6; seed++) {
    p.seed = seed;
    ir_sharpness_result res;
    IR_ASSERT_OK(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &res));
    /* The same A (first r·p Gaussians of the stream), its A⁺c by the
     * normal equations (3×3, well conditioned), the vertices' values. */
    gsl_rng *g = ir_rng_alloc(seed, p.stream);
    gsl_matrix *A = gsl_matrix_alloc(np, r);
    for (size_t i = 0; i < np; i++)
      for (size_t j = 0; j < r; j++)
        gsl_matrix_set(A, i, j, gsl_ran_gaussian_ziggurat(g, 1.0));
    ir_rng_free(g);
    gsl_matrix *AtA = gsl_matrix_alloc(r, r);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, A, A, 0.0, AtA);
    gsl_vector *Atc = gsl_vector_alloc(r), *z = gsl_vector_alloc(r);
    gsl_blas_dgemv(CblasTrans, 1.0, A, &th.vector, 0.0, Atc);
    gsl_linalg_cholesky_decomp1(AtA);
    gsl_linalg_cholesky_solve(AtA, Atc, z);
    double fmax_all = 0;
    for (int v = 0; v < 8; v++) {
      double f = 0;
      for (size_t i = 0; i < np; i++) {
        double d = 0;
        for (size_t j = 0; j < r; j++) {
          const double bj = p.eps * (fabs(gsl_vector_get(z, j)) + 1);
          d += gsl_matrix_get(A, i, j) * ((v >> j & 1) ? bj : -bj);
        }
        f += 0.5 * h[i] * d * d;
      }
      fvals[v] = f;
      fmax_all = fmax(fmax_all, f);
    }
    ck_assert(res.fmax <= fmax_all * (1 + 1e-12));
    int is_vertex = 0;
    for (int v = 0; v < 8; v++)
      is_vertex |= fabs(res.fmax - fvals[v]) <= 1e-12 * fmax_all;
    ck_assert_msg(is_vertex && res.at_bound == 1.0,
                  "seed %lu: ended at %.17g, not a vertex", seed, res.fmax);
    best_found = fmax(best_found, res.fmax / fmax_all);
    gsl_matrix_free(A);
    gsl_matrix_free(AtA);
    gsl_vector_free(Atc);
    gsl_vector_free(z);
  }
  IR_ASSERT_CLOSE(best_found, 1.0, 1e-12, 0);
  quad_free(&q);
}
END_TEST

/* Dinh et al.: E(a, b) = ½(ab − 1)² at (α, 1/α) is the same minimum for
 * every α (E = 0), yet its ε-sharpness is not.  With A = I the half-widths
 * are ε(α + 1) and ε(1/α + 1), and at the vertex ±(those) exactly
 *   ab − 1 = ±εs + ε²s,  s = (α + 1)(1/α + 1) = 2 + α + 1/α,
 * so the two local maxima of E over the box are ½ε²s²(1 ± ε)²; the ascent
 * must end at one of them (relative 1e-12), and φ grows with α ≥ 1. */
START_TEST(test_dinh_rescaling) {
  gsl_vector *x = gsl_vector_alloc(1), *y = gsl_vector_alloc(1);
  gsl_vector_set(x, 0, 1.0);
  gsl_vector_set(y, 0, 1.0);
  ir_model *m = ir_model_product_alloc(x, y);
  ck_assert_ptr_nonnull(m);
  ir_sharpness_params p;
  ir_sharpness_params_default(&p);
  p.eps = 1e-4;
  const double alphas[4] = {0.1, 1, 3, 10};
  double prev = 0;
  for (int i = 0; i < 4; i++) {
    const double a = alphas[i];
    double th[2] = {a, 1 / a};
    gsl_vector_view tv = gsl_vector_view_array(th, 2);
    ir_sharpness_result r;
    IR_ASSERT_OK(ir_sharpness_eps(m, &tv.vector, NULL, 0, &p, &r));
    const double e = p.eps, s = 2 + a + 1 / a;
    const double hi = 100 * 0.5 * e * e * s * s * (1 + e) * (1 + e);
    const double lo = 100 * 0.5 * e * e * s * s * (1 - e) * (1 - e);
    ck_assert(fabs(r.f0) <= 1e-30);
    ck_assert_msg(fabs(r.phi - hi) <= 1e-10 * hi ||
                      fabs(r.phi - lo) <= 1e-10 * lo,
                  "alpha %g: phi %.17g, local maxima %.17g and %.17g", a,
                  r.phi, hi, lo);
    if (i >= 2)
      ck_assert(r.phi > prev); /* grows with α away from the balance */
    prev = r.phi;
  }
  ir_model_free(m);
  gsl_vector_free(x);
  gsl_vector_free(y);
}
END_TEST

START_TEST(test_errors) {
  const double h[2] = {1, 1}, c[2] = {0, 0};
  quad_fix q = quad_model(h, c, 2);
  gsl_vector_const_view th = gsl_vector_const_view_array(c, 2);
  gsl_vector *bad = gsl_vector_calloc(3);
  ir_sharpness_params p;
  ir_sharpness_params_default(&p);
  ir_sharpness_result r;
  ck_assert_int_eq(ir_sharpness_eps(q.m, bad, NULL, 0, &p, &r), IR_ESHAPE);
  p.eps = 0;
  ck_assert_int_eq(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &r),
                   IR_EINVAL);
  p.eps = NAN;
  ck_assert_int_eq(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &r),
                   IR_EINVAL);
  ir_sharpness_params_default(&p);
  p.rank = 3;
  ck_assert_int_eq(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &r),
                   IR_EINVAL);
  ir_sharpness_params_default(&p);
  p.seed = 0;
  ck_assert_int_eq(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &r),
                   IR_EINVAL);
  ir_sharpness_params_default(&p);
  p.max_iter = 0;
  ck_assert_int_eq(ir_sharpness_eps(q.m, &th.vector, NULL, 0, &p, &r),
                   IR_EINVAL);
  ck_assert_int_eq(ir_sharpness_eps(NULL, &th.vector, NULL, 0, &p, &r),
                   IR_EINVAL);
  gsl_vector_free(bad);
  quad_free(&q);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sharpness");
  TCase *tc = tcase_create("closed forms");
  tcase_add_test(tc, test_keskar_quadratic);
  tcase_add_test(tc, test_random_subspace);
  tcase_add_test(tc, test_dinh_rescaling);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_test(tc, test_errors);
  suite_add_tcase(s, tc);
  return ir_test_run(s);
}
