/* test_landscape.c — filter-normalized directions, slices and paths against
 * direct evaluation and closed forms; Dinh et al.'s rescaling keeps the
 * function to rounding while the curvature moves; balancing maps every
 * rescaling to one point. */
#include "implreg/landscape.h"

#include "implreg/curvature.h"
#include "implreg/rng.h"
#include "implreg/status.h"
#include "testutil.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

#define EPS 2.220446049250313e-16

/* A small ReLU network 5-7-4-3 with MSE on random data, and random θ. */
typedef struct {
  ir_mlp_arch arch;
  gsl_matrix *X, *Y;
  ir_model *m;
  gsl_vector *theta;
} net_fix;

static net_fix net(ir_act act, unsigned long seed) {
  net_fix f;
  ck_assert_int_eq(ir_mlp_arch_parse("5-7-4-3", &f.arch), IR_OK);
  f.arch.act = act;
  f.arch.loss = IR_LOSS_MSE;
  f.X = ir_test_gaussian(30, 5, seed);
  f.Y = ir_test_gaussian(30, 3, seed + 100);
  f.m = ir_model_mlp_alloc(&f.arch, f.X, f.Y);
  ck_assert_ptr_nonnull(f.m);
  f.theta = gsl_vector_alloc(ir_mlp_nparams(&f.arch));
  gsl_rng *r = ir_rng_alloc(seed, 7);
  ir_mlp_init_torch(&f.arch, r, f.theta);
  ir_rng_free(r);
  return f;
}

static void net_free(net_fix *f) {
  ir_model_free(f->m);
  gsl_matrix_free(f->X);
  gsl_matrix_free(f->Y);
  gsl_vector_free(f->theta);
}

static double loss_at(ir_model *m, const gsl_vector *th) {
  double L;
  IR_ASSERT_OK(ir_model_loss_grad(m, th, NULL, 0, &L, NULL));
  return L;
}

static double lambda_max(ir_model *m, const gsl_vector *th) {
  ir_hessian_op h = {m, th, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  double *ev = malloc(m->nparams * sizeof(double));
  IR_ASSERT_OK(ir_dense_spectrum(&op, 1e-10, ev, NULL, NULL));
  double top = ev[m->nparams - 1];
  free(ev);
  return top;
}

/* Each weight row of d has the norm of θ's row; biases are 0. */
START_TEST(test_filter_normalization) {
  net_fix f = net(IR_ACT_RELU, 1);
  gsl_vector *d = gsl_vector_alloc(f.theta->size);
  IR_ASSERT_OK(ir_landscape_direction(&f.arch, f.theta, 3, 9, d));
  for (size_t l = 0; l < f.arch.nlayers; l++) {
    const size_t in = f.arch.width[l], out = f.arch.width[l + 1];
    const size_t w0 = ir_mlp_weight_offset(&f.arch, l),
                 b0 = ir_mlp_bias_offset(&f.arch, l);
    for (size_t u = 0; u < out; u++) {
      double nt = 0, nd = 0;
      for (size_t k = 0; k < in; k++) {
        nt += pow(gsl_vector_get(f.theta, w0 + u * in + k), 2);
        nd += pow(gsl_vector_get(d, w0 + u * in + k), 2);
      }
      IR_ASSERT_CLOSE(sqrt(nd), sqrt(nt), 1e-14, 0);
    }
    for (size_t u = 0; u < out; u++)
      ck_assert(gsl_vector_get(d, b0 + u) == 0);
  }
  /* Reproducible from (seed, stream); another seed gives another d. */
  gsl_vector *d2 = gsl_vector_alloc(f.theta->size);
  IR_ASSERT_OK(ir_landscape_direction(&f.arch, f.theta, 3, 9, d2));
  ck_assert(memcmp(d->data, d2->data, d->size * sizeof(double)) == 0);
  IR_ASSERT_OK(ir_landscape_direction(&f.arch, f.theta, 4, 9, d2));
  ck_assert(memcmp(d->data, d2->data, d->size * sizeof(double)) != 0);
  /* Without layers: the whole vector gets ‖θ‖. */
  IR_ASSERT_OK(ir_landscape_direction(NULL, f.theta, 3, 9, d2));
  IR_ASSERT_CLOSE(gsl_blas_dnrm2(d2), gsl_blas_dnrm2(f.theta), 1e-14, 0);
  gsl_vector_free(d);
  gsl_vector_free(d2);
  net_free(&f);
}
END_TEST

/* Slices equal direct evaluations at θ + t·d (and s·d1 + t·d2) bit for bit
 * (the same arithmetic), and t = 0 gives L(θ). */
START_TEST(test_slices) {
  net_fix f = net(IR_ACT_TANH, 2);
  const size_t p = f.theta->size;
  gsl_vector *d1 = gsl_vector_alloc(p), *d2 = gsl_vector_alloc(p),
             *x = gsl_vector_alloc(p);
  IR_ASSERT_OK(ir_landscape_direction(&f.arch, f.theta, 1, 1, d1));
  IR_ASSERT_OK(ir_landscape_direction(&f.arch, f.theta, 2, 1, d2));
  const double t[5] = {-1, -0.25, 0, 0.5, 1};
  double L1[5], L2[25];
  IR_ASSERT_OK(ir_landscape_slice(f.m, f.theta, d1, NULL, 0, t, 5, L1));
  IR_ASSERT_OK(
      ir_landscape_slice2(f.m, f.theta, d1, d2, NULL, 0, t, 5, t, 5, L2));
  ck_assert(L1[2] == loss_at(f.m, f.theta));
  for (size_t i = 0; i < 5; i++) {
    gsl_vector_memcpy(x, f.theta);
    gsl_blas_daxpy(t[i], d1, x);
    ck_assert(L1[i] == loss_at(f.m, x));
    for (size_t j = 0; j < 5; j++) {
      gsl_vector_memcpy(x, f.theta);
      gsl_blas_daxpy(t[i], d1, x);
      gsl_blas_daxpy(t[j], d2, x);
      ck_assert(L2[i * 5 + j] == loss_at(f.m, x));
    }
    ck_assert(L2[i * 5 + 2] == L1[i]); /* t₂ = 0 is the 1-D slice */
  }
  gsl_vector_free(d1);
  gsl_vector_free(d2);
  gsl_vector_free(x);
  net_free(&f);
}
END_TEST

/* E(a, b) = ½(ab − 1)² from (1, 1) to (−1, −1), both minima: the segment
 * passes (0, 0) where E = ½, and E(t) = ½((1 − 2t)² − 1)², so the barrier
 * is ½ at t = ½ exactly. */
START_TEST(test_path_barrier) {
  gsl_vector *x = gsl_vector_alloc(1), *y = gsl_vector_alloc(1);
  gsl_vector_set_all(x, 1);
  gsl_vector_set_all(y, 1);
  ir_model *m = ir_model_product_alloc(x, y);
  double a[2] = {1, 1}, b[2] = {-1, -1}, L[9], bar;
  gsl_vector_view va = gsl_vector_view_array(a, 2), vb = gsl_vector_view_array(b, 2);
  IR_ASSERT_OK(ir_landscape_path(m, &va.vector, &vb.vector, NULL, 0, 9, L, &bar));
  for (int i = 0; i < 9; i++) {
    const double t = i / 8.0, u = (1 - 2 * t) * (1 - 2 * t) - 1;
    IR_ASSERT_CLOSE(L[i], 0.5 * u * u, 1e-15, 1e-30);
  }
  ck_assert(bar == 0.5);
  /* A path inside one valley (along ab = 1 is not straight, but between a
   * minimum and itself it is a point): zero barrier. */
  IR_ASSERT_OK(ir_landscape_path(m, &va.vector, &va.vector, NULL, 0, 3, L, &bar));
  ck_assert(bar == 0);
  ir_model_free(m);
  gsl_vector_free(x);
  gsl_vector_free(y);
}
END_TEST

/* Dinh et al.: a ReLU network rescaled by α over six decades computes the
 * same loss (to rounding: a few eps relative per layer) while its Hessian's
 * λ_max moves by orders of magnitude; after balancing, every rescaled copy
 * is the same point, so λ_max after balancing does not move. */
START_TEST(test_rescaling_and_balance) {
  net_fix f = net(IR_ACT_RELU, 3);
  const size_t p = f.theta->size;
  gsl_vector *r = gsl_vector_alloc(p), *bal0 = gsl_vector_alloc(p),
             *bal = gsl_vector_alloc(p);
  const double L0 = loss_at(f.m, f.theta), lam0 = lambda_max(f.m, f.theta);
  IR_ASSERT_OK(ir_mlp_balance(&f.arch, f.theta, bal0));
  IR_ASSERT_CLOSE(loss_at(f.m, bal0), L0, 1e-13, 0);
  /* Balanced: equal weight norms. */
  double n[3];
  for (size_t l = 0; l < 3; l++)
    n[l] = cblas_dnrm2((int)(f.arch.width[l] * f.arch.width[l + 1]),
                       bal0->data + ir_mlp_weight_offset(&f.arch, l), 1);
  IR_ASSERT_CLOSE(n[0], n[1], 1e-14, 0);
  IR_ASSERT_CLOSE(n[1], n[2], 1e-14, 0);
  const double lam_bal = lambda_max(f.m, bal0);
  const double alphas[4] = {1e-3, 0.1, 10, 1e3};
  double lam_min = INFINITY, lam_max = 0;
  for (int i = 0; i < 4; i++) {
    IR_ASSERT_OK(ir_mlp_rescale(&f.arch, f.theta, i % 2, alphas[i], r));
    IR_ASSERT_CLOSE(loss_at(f.m, r), L0, 1e-13, 0);
    const double lam = lambda_max(f.m, r);
    lam_min = fmin(lam_min, lam);
    lam_max = fmax(lam_max, lam);
    IR_ASSERT_OK(ir_mlp_balance(&f.arch, r, bal));
    for (size_t k = 0; k < p; k++)
      IR_ASSERT_CLOSE(gsl_vector_get(bal, k), gsl_vector_get(bal0, k), 1e-12,
                      1e-15);
    IR_ASSERT_CLOSE(lambda_max(f.m, bal), lam_bal, 1e-10, 0);
  }
  /* As for ½(ab − 1)² (λ_max = α² + α⁻²), unbalancing either way sharpens:
   * here every rescaled copy is sharper than θ, the extreme ones by > 1e3. */
  ck_assert_msg(lam_min > lam0 && lam_max > 1e3 * lam0,
                "lambda_max moved only to [%g, %g] (unscaled %g)", lam_min,
                lam_max, lam0);
  /* In place works too. */
  gsl_vector_memcpy(r, f.theta);
  IR_ASSERT_OK(ir_mlp_rescale(&f.arch, r, 1, 4.0, r));
  IR_ASSERT_CLOSE(loss_at(f.m, r), L0, 1e-13, 0);
  gsl_vector_free(r);
  gsl_vector_free(bal0);
  gsl_vector_free(bal);
  net_free(&f);
}
END_TEST

START_TEST(test_errors) {
  net_fix f = net(IR_ACT_TANH, 4);
  gsl_vector *r = gsl_vector_alloc(f.theta->size), *s = gsl_vector_alloc(3);
  ck_assert_int_eq(ir_mlp_rescale(&f.arch, f.theta, 0, 2.0, r), IR_EINVAL);
  ck_assert_int_eq(ir_mlp_balance(&f.arch, f.theta, r), IR_EINVAL);
  f.arch.act = IR_ACT_RELU;
  ck_assert_int_eq(ir_mlp_rescale(&f.arch, f.theta, 2, 2.0, r), IR_EINVAL);
  ck_assert_int_eq(ir_mlp_rescale(&f.arch, f.theta, 0, 0.0, r), IR_EINVAL);
  ck_assert_int_eq(ir_mlp_rescale(&f.arch, f.theta, 0, NAN, r), IR_EINVAL);
  ck_assert_int_eq(ir_mlp_rescale(&f.arch, s, 0, 2.0, r), IR_ESHAPE);
  gsl_vector_set_zero(r);
  ck_assert_int_eq(ir_mlp_balance(&f.arch, r, r), IR_EDOM);
  ck_assert_int_eq(ir_landscape_direction(&f.arch, f.theta, 1, 1, s),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_landscape_direction(&f.arch, f.theta, 0, 1, r),
                   IR_EINVAL);
  double t = 0, L;
  ck_assert_int_eq(ir_landscape_slice(f.m, f.theta, s, NULL, 0, &t, 1, &L),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_landscape_slice(f.m, f.theta, r, NULL, 0, &t, 0, &L),
                   IR_EINVAL);
  double bar;
  ck_assert_int_eq(
      ir_landscape_path(f.m, f.theta, f.theta, NULL, 0, 1, &L, &bar),
      IR_EINVAL);
  gsl_vector_free(r);
  gsl_vector_free(s);
  net_free(&f);
}
END_TEST

/* The batched slices of a network (ir_landscape_slice_mlp) against the
 * per-point ones.  (1) On dyadic data — X, θ, d1, d2 in {−2..2}/4, points
 * in {−1, −½, 0, ½, 1} — with ReLU and the squared losses every sum and
 * product is exact, so the two must agree bit for bit: a wrong index, a
 * missing bias or a point paired with the wrong (s, t) shows.  (2) On
 * Gaussian data for every activation and loss the first layer's sums are
 * reassociated: the pre-activations differ by about (d + 3)·eps·Σ|terms|
 * (~2e-15 here, d = 5, O(1) terms), and the 5-7-4-3 network at torch's
 * initialization and its losses pass that on with gains of order one; the
 * bound 1e-13·max(1, |L|) leaves a factor of about ten. */
static void dyadic(gsl_vector *v, unsigned long seed) {
  gsl_rng *r = ir_rng_alloc(seed, 3);
  for (size_t i = 0; i < v->size; i++)
    v->data[i] = ((double)gsl_rng_uniform_int(r, 5) - 2.0) / 4.0;
  ir_rng_free(r);
}

START_TEST(test_slice_mlp) {
  const double t[5] = {-1, -0.5, 0, 0.5, 1};
  double L1[5], L2[25], B1[5], B2[25];
  for (int loss = 0; loss < 2; loss++) { /* (1): exact */
    net_fix f = net(IR_ACT_RELU, 4);
    f.arch.loss = loss == 0 ? IR_LOSS_MSE : IR_LOSS_HALF_SSE;
    ir_model_free(f.m);
    gsl_vector_view xv = gsl_vector_view_array(f.X->data, 30 * 5);
    gsl_vector_view yv = gsl_vector_view_array(f.Y->data, 30 * 3);
    dyadic(&xv.vector, 11);
    dyadic(&yv.vector, 12);
    dyadic(f.theta, 13);
    f.m = ir_model_mlp_alloc(&f.arch, f.X, f.Y);
    const size_t p = f.theta->size;
    gsl_vector *d1 = gsl_vector_alloc(p), *d2 = gsl_vector_alloc(p);
    dyadic(d1, 14);
    dyadic(d2, 15);
    IR_ASSERT_OK(ir_landscape_slice(f.m, f.theta, d1, NULL, 0, t, 5, L1));
    IR_ASSERT_OK(
        ir_landscape_slice2(f.m, f.theta, d1, d2, NULL, 0, t, 5, t, 5, L2));
    IR_ASSERT_OK(ir_landscape_slice_mlp(&f.arch, f.X, f.Y, f.theta, d1, NULL,
                                        t, 5, NULL, 0, B1));
    IR_ASSERT_OK(ir_landscape_slice_mlp(&f.arch, f.X, f.Y, f.theta, d1, d2, t,
                                        5, t, 5, B2));
    for (size_t i = 0; i < 5; i++)
      ck_assert_msg(B1[i] == L1[i], "1-D point %zu: %.17g vs %.17g", i, B1[i],
                    L1[i]);
    for (size_t i = 0; i < 25; i++)
      ck_assert_msg(B2[i] == L2[i], "2-D point %zu: %.17g vs %.17g", i, B2[i],
                    L2[i]);
    gsl_vector_free(d1);
    gsl_vector_free(d2);
    net_free(&f);
  }
  const ir_act acts[5] = {IR_ACT_RELU, IR_ACT_TANH, IR_ACT_SOFTPLUS,
                          IR_ACT_GELU, IR_ACT_IDENTITY};
  const ir_loss losses[3] = {IR_LOSS_MSE, IR_LOSS_HALF_SSE, IR_LOSS_CE};
  for (size_t a = 0; a < 5; a++)
    for (size_t l = 0; l < 3; l++) { /* (2): to rounding */
      net_fix f = net(acts[a], 20 + a);
      f.arch.loss = losses[l];
      if (losses[l] == IR_LOSS_CE) /* one-hot rows */
        for (size_t i = 0; i < 30; i++)
          for (size_t k = 0; k < 3; k++)
            gsl_matrix_set(f.Y, i, k, k == (i * 7 + a) % 3 ? 1.0 : 0.0);
      ir_model_free(f.m);
      f.m = ir_model_mlp_alloc(&f.arch, f.X, f.Y);
      const size_t p = f.theta->size;
      gsl_vector *d1 = gsl_vector_alloc(p), *d2 = gsl_vector_alloc(p);
      IR_ASSERT_OK(ir_landscape_direction(&f.arch, f.theta, 1, 1, d1));
      IR_ASSERT_OK(ir_landscape_direction(&f.arch, f.theta, 2, 1, d2));
      IR_ASSERT_OK(ir_landscape_slice(f.m, f.theta, d1, NULL, 0, t, 5, L1));
      IR_ASSERT_OK(
          ir_landscape_slice2(f.m, f.theta, d1, d2, NULL, 0, t, 5, t, 5, L2));
      IR_ASSERT_OK(ir_landscape_slice_mlp(&f.arch, f.X, f.Y, f.theta, d1,
                                          NULL, t, 5, NULL, 0, B1));
      IR_ASSERT_OK(ir_landscape_slice_mlp(&f.arch, f.X, f.Y, f.theta, d1, d2,
                                          t, 5, t, 5, B2));
      for (size_t i = 0; i < 5; i++)
        ck_assert_msg(fabs(B1[i] - L1[i]) <= 1e-13 * fmax(1, fabs(L1[i])),
                      "act %zu loss %zu 1-D %zu: %.17g vs %.17g", a, l, i,
                      B1[i], L1[i]);
      for (size_t i = 0; i < 25; i++)
        ck_assert_msg(fabs(B2[i] - L2[i]) <= 1e-13 * fmax(1, fabs(L2[i])),
                      "act %zu loss %zu 2-D %zu: %.17g vs %.17g", a, l, i,
                      B2[i], L2[i]);
      /* Bad arguments: one line, no crash. */
      if (a == 0 && l == 0) {
        ck_assert_int_eq(ir_landscape_slice_mlp(&f.arch, f.X, f.Y, f.theta,
                                                d1, NULL, t, 5, t, 5, B1),
                         IR_EINVAL);
        ck_assert_int_eq(ir_landscape_slice_mlp(&f.arch, f.Y, f.Y, f.theta,
                                                d1, NULL, t, 5, NULL, 0, B1),
                         IR_ESHAPE);
        ck_assert_int_eq(ir_landscape_slice_mlp(&f.arch, f.X, f.Y, d1, f.theta,
                                                d2, t, 0, t, 5, B2),
                         IR_EINVAL);
      }
      gsl_vector_free(d1);
      gsl_vector_free(d2);
      net_free(&f);
    }
}
END_TEST

int main(void) {
  Suite *s = suite_create("landscape");
  TCase *tc = tcase_create("landscape");
  tcase_add_test(tc, test_filter_normalization);
  tcase_add_test(tc, test_slices);
  tcase_add_test(tc, test_path_barrier);
  tcase_add_test(tc, test_rescaling_and_balance);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_slice_mlp);
  suite_add_tcase(s, tc);
  return ir_test_run(s);
}
