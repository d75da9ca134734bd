/* test_mlp.c — networks: layout, losses, exact gradients and HVPs against
 * finite differences and closed forms. */
#include "implreg/curvature.h"
#include "implreg/mlp.h"
#include "implreg/rng.h"
#include "testutil.h"

#include <gsl/gsl_blas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A small problem: n×d Gaussian inputs, targets for the loss (one-hot for
 * CE, Gaussian otherwise). */
typedef struct {
  ir_mlp_arch a;
  gsl_matrix *X, *Y;
  ir_model *m;
  gsl_vector *theta;
} net_case;

static net_case make_case(const char *spec, ir_act act, ir_loss loss, size_t n,
                          unsigned long seed) {
  net_case c;
  memset(&c, 0, sizeof c);
  IR_ASSERT_OK(ir_mlp_arch_parse(spec, &c.a));
  c.a.act = act;
  c.a.loss = loss;
  size_t d = c.a.width[0], K = c.a.width[c.a.nlayers];
  c.X = ir_test_gaussian(n, d, seed);
  c.Y = gsl_matrix_calloc(n, K);
  gsl_rng *r = ir_rng_alloc(seed, 7);
  for (size_t i = 0; i < n; i++) {
    if (loss == IR_LOSS_CE)
      gsl_matrix_set(c.Y, i, gsl_rng_uniform_int(r, K), 1.0);
    else
      for (size_t k = 0; k < K; k++)
        gsl_matrix_set(c.Y, i, k, gsl_ran_gaussian(r, 1.0));
  }
  c.m = ir_model_mlp_alloc(&c.a, c.X, c.Y);
  ck_assert_msg(c.m != NULL, "%s", ir_error_message());
  c.theta = gsl_vector_alloc(c.m->nparams);
  /* Larger than torch's init so that the nonlinearities are exercised. */
  ir_mlp_init_torch(&c.a, r, c.theta);
  gsl_vector_scale(c.theta, 2.0);
  gsl_rng_free(r);
  return c;
}

static void free_case(net_case *c) {
  ir_model_free(c->m);
  gsl_matrix_free(c->X);
  gsl_matrix_free(c->Y);
  gsl_vector_free(c->theta);
}

static double loss_at(ir_model *m, const gsl_vector *theta, const size_t *idx,
                      size_t nb) {
  double L;
  IR_ASSERT_OK(ir_model_loss_grad(m, theta, idx, nb, &L, NULL));
  return L;
}

START_TEST(test_arch_parse) {
  ir_mlp_arch a;
  IR_ASSERT_OK(ir_mlp_arch_parse("784-64-10", &a));
  ck_assert_uint_eq(a.nlayers, 2);
  ck_assert_uint_eq(ir_mlp_nparams(&a), 784 * 64 + 64 + 64 * 10 + 10);
  ck_assert_uint_eq(ir_mlp_nparams(&a), 50890);
  IR_ASSERT_OK(ir_mlp_arch_parse("4-32-1", &a));
  ck_assert_uint_eq(ir_mlp_nparams(&a), 193);
  ck_assert_uint_eq(ir_mlp_bias_offset(&a, 0), 128);
  ck_assert_uint_eq(ir_mlp_weight_offset(&a, 1), 160);
  ck_assert_uint_eq(ir_mlp_bias_offset(&a, 1), 192);
  const char *bad[] = {
      "",           "784",     "784-",
      "-10",        "784--10", "784-0-10",
      "784-64x-10", "a-b",     "1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16-17-18"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_int_eq(ir_mlp_arch_parse(bad[i], &a), IR_EINVAL);
  ir_act act;
  ir_loss loss;
  IR_ASSERT_OK(ir_act_parse("gelu", &act));
  ck_assert_int_eq(act, IR_ACT_GELU);
  IR_ASSERT_OK(ir_loss_parse("half-mse", &loss));
  ck_assert_int_eq(loss, IR_LOSS_HALF_SSE);
  ck_assert_int_eq(ir_act_parse("sigmoid", &act), IR_EINVAL);
  ck_assert_int_eq(ir_loss_parse("hinge", &loss), IR_EINVAL);
  ck_assert_str_eq(ir_loss_name(IR_LOSS_CE), "ce");
}
END_TEST

/* A 2-2-2 tanh network with hand-set weights in torch's layout, evaluated by
 * hand: checks the layout and all three losses. */
START_TEST(test_layout_and_losses) {
  ir_mlp_arch a;
  IR_ASSERT_OK(ir_mlp_arch_parse("2-2-2", &a));
  a.act = IR_ACT_TANH;
  /* W1 = [[1, 2], [3, 4]] (out × in), b1 = [0.1, -0.2],
   * W2 = [[0.5, -1], [2, 0.25]], b2 = [0.3, 0.4]. */
  double th[] = {1, 2, 3, 4, 0.1, -0.2, 0.5, -1, 2, 0.25, 0.3, 0.4};
  gsl_vector_view theta = gsl_vector_view_array(th, 12);
  double xs[] = {0.3, -0.1, -0.2, 0.05};
  gsl_matrix_view X = gsl_matrix_view_array(xs, 2, 2);
  double f[2][2];
  for (int i = 0; i < 2; i++) {
    double x0 = xs[2 * i], x1 = xs[2 * i + 1];
    double h0 = tanh(1 * x0 + 2 * x1 + 0.1), h1 = tanh(3 * x0 + 4 * x1 - 0.2);
    f[i][0] = 0.5 * h0 - 1 * h1 + 0.3;
    f[i][1] = 2 * h0 + 0.25 * h1 + 0.4;
  }
  double ys[] = {1, 0, 0, 1}; /* one-hot: labels 0 and 1 */
  gsl_matrix_view Y = gsl_matrix_view_array(ys, 2, 2);
  double sse = 0;
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < 2; k++)
      sse += (f[i][k] - ys[2 * i + k]) * (f[i][k] - ys[2 * i + k]);
  double ce = 0;
  for (int i = 0; i < 2; i++)
    ce += log(exp(f[i][0]) + exp(f[i][1])) - f[i][i];
  ce /= 2;
  const double expect[] = {sse / 4, sse / 4, ce};
  const ir_loss losses[] = {IR_LOSS_MSE, IR_LOSS_HALF_SSE, IR_LOSS_CE};
  for (int t = 0; t < 3; t++) {
    a.loss = losses[t];
    ir_model *m = ir_model_mlp_alloc(&a, &X.matrix, &Y.matrix);
    ck_assert_ptr_nonnull(m);
    IR_ASSERT_CLOSE(loss_at(m, &theta.vector, NULL, 0), expect[t], 1e-15, 0.0);
    gsl_matrix *out = gsl_matrix_alloc(2, 2);
    IR_ASSERT_OK(ir_model_predict(m, &theta.vector, &X.matrix, out));
    for (int i = 0; i < 2; i++)
      for (int k = 0; k < 2; k++)
        IR_ASSERT_CLOSE(gsl_matrix_get(out, i, k), f[i][k], 1e-15, 0.0);
    double acc;
    IR_ASSERT_OK(ir_mlp_accuracy(m, &theta.vector, &X.matrix, &Y.matrix, &acc));
    double expect_acc = ((f[0][0] > f[0][1]) + (f[1][1] > f[1][0])) / 2.0;
    IR_ASSERT_CLOSE(acc, expect_acc, 0.0, 0.0);
    gsl_matrix_free(out);
    ir_model_free(m);
  }
}
END_TEST

/* Central differences: error h²·|L'''|/6 + eps·|L|/h; with h = 1e-5 and
 * O(1) derivatives that is about 1e-10 + 2e-11; the tolerance 1e-7 leaves
 * room for third derivatives up to 10³ (tanh/GELU networks scaled ×2). */
static void check_gradient(net_case *c, const size_t *idx, size_t nb) {
  const size_t p = c->m->nparams;
  gsl_vector *g = gsl_vector_alloc(p);
  double L0;
  IR_ASSERT_OK(ir_model_loss_grad(c->m, c->theta, idx, nb, &L0, g));
  IR_ASSERT_CLOSE(L0, loss_at(c->m, c->theta, idx, nb), 0.0, 0.0);
  const double h = 1e-5;
  double gmax = gsl_vector_max(g) > -gsl_vector_min(g) ? gsl_vector_max(g)
                                                       : -gsl_vector_min(g);
  for (size_t j = 0; j < p; j++) {
    double t = gsl_vector_get(c->theta, j);
    gsl_vector_set(c->theta, j, t + h);
    double Lp = loss_at(c->m, c->theta, idx, nb);
    gsl_vector_set(c->theta, j, t - h);
    double Lm = loss_at(c->m, c->theta, idx, nb);
    gsl_vector_set(c->theta, j, t);
    double fd = (Lp - Lm) / (2 * h);
    ck_assert_msg(fabs(fd - gsl_vector_get(g, j)) <= 1e-7 * (1 + gmax),
                  "%s/%s/%s: d/dθ_%zu: backprop %.17g, central difference "
                  "%.17g",
                  ir_act_name(c->a.act), ir_loss_name(c->a.loss),
                  idx ? "batch" : "full", j, gsl_vector_get(g, j), fd);
  }
  gsl_vector_free(g);
}

/* HVP against central differences of the exact gradient along v: the same
 * error budget, one derivative higher. */
static void check_hvp(net_case *c, const size_t *idx, size_t nb,
                      unsigned long seed) {
  const size_t p = c->m->nparams;
  gsl_vector *v = gsl_vector_alloc(p), *hv = gsl_vector_alloc(p),
             *gp = gsl_vector_alloc(p), *gm = gsl_vector_alloc(p),
             *th = gsl_vector_alloc(p);
  gsl_rng *r = ir_rng_alloc(seed, 11);
  for (size_t j = 0; j < p; j++)
    gsl_vector_set(v, j, gsl_ran_gaussian(r, 1.0));
  gsl_rng_free(r);
  IR_ASSERT_OK(ir_model_hvp(c->m, c->theta, idx, nb, v, hv));
  const double h = 1e-5;
  double L;
  gsl_vector_memcpy(th, c->theta);
  gsl_blas_daxpy(h, v, th);
  IR_ASSERT_OK(ir_model_loss_grad(c->m, th, idx, nb, &L, gp));
  gsl_vector_memcpy(th, c->theta);
  gsl_blas_daxpy(-h, v, th);
  IR_ASSERT_OK(ir_model_loss_grad(c->m, th, idx, nb, &L, gm));
  double hmax = 0;
  for (size_t j = 0; j < p; j++)
    hmax = fmax(hmax, fabs(gsl_vector_get(hv, j)));
  for (size_t j = 0; j < p; j++) {
    double fd = (gsl_vector_get(gp, j) - gsl_vector_get(gm, j)) / (2 * h);
    ck_assert_msg(fabs(fd - gsl_vector_get(hv, j)) <= 1e-6 * (1 + hmax),
                  "%s/%s: (Hv)_%zu: R-operator %.17g, difference of "
                  "gradients %.17g",
                  ir_act_name(c->a.act), ir_loss_name(c->a.loss), j,
                  gsl_vector_get(hv, j), fd);
  }
  /* The cached forward pass must not leak into a product at another θ:
   * the HVP after the gradients at θ ± hv is again the one at θ. */
  IR_ASSERT_OK(ir_model_hvp(c->m, c->theta, idx, nb, v, gp));
  for (size_t j = 0; j < p; j++)
    IR_ASSERT_CLOSE(gsl_vector_get(gp, j), gsl_vector_get(hv, j), 0.0, 0.0);
  gsl_vector_free(v);
  gsl_vector_free(hv);
  gsl_vector_free(gp);
  gsl_vector_free(gm);
  gsl_vector_free(th);
}

static const ir_act all_acts[] = {IR_ACT_RELU, IR_ACT_TANH, IR_ACT_SOFTPLUS,
                                  IR_ACT_GELU, IR_ACT_IDENTITY};
static const ir_loss all_losses[] = {IR_LOSS_MSE, IR_LOSS_HALF_SSE, IR_LOSS_CE};

START_TEST(test_gradient_fd) {
  /* _i indexes activation × loss; two and three linear layers. */
  ir_act act = all_acts[_i / 3];
  ir_loss loss = all_losses[_i % 3];
  const char *specs[] = {"3-5-2", "3-4-3-2", "4-3"};
  for (int s = 0; s < 3; s++) {
    net_case c = make_case(specs[s], act, loss, 9, 100 + (unsigned)_i);
    check_gradient(&c, NULL, 0);
    size_t idx[] = {3, 0, 3, 8, 5}; /* repeats allowed */
    check_gradient(&c, idx, 5);
    free_case(&c);
  }
}
END_TEST

START_TEST(test_hvp_fd) {
  ir_act act = all_acts[_i / 3];
  ir_loss loss = all_losses[_i % 3];
  const char *specs[] = {"3-5-2", "3-4-3-2", "4-3"};
  for (int s = 0; s < 3; s++) {
    net_case c = make_case(specs[s], act, loss, 9, 200 + (unsigned)_i);
    check_hvp(&c, NULL, 0, 5);
    size_t idx[] = {1, 1, 7, 2};
    check_hvp(&c, idx, 4, 6);
    free_case(&c);
  }
}
END_TEST

/* uᵀHv = vᵀHu to rounding: the R-operator computes an exactly symmetric
 * bilinear form only up to the order of its floating-point sums. */
START_TEST(test_hvp_symmetry) {
  ir_act act = all_acts[_i / 3];
  ir_loss loss = all_losses[_i % 3];
  net_case c = make_case("6-8-5-3", act, loss, 20, 300 + (unsigned)_i);
  const size_t p = c.m->nparams;
  gsl_vector *u = gsl_vector_alloc(p), *v = gsl_vector_alloc(p),
             *hu = gsl_vector_alloc(p), *hv = gsl_vector_alloc(p);
  gsl_rng *r = ir_rng_alloc(9, 9);
  for (size_t j = 0; j < p; j++) {
    gsl_vector_set(u, j, gsl_ran_gaussian(r, 1.0));
    gsl_vector_set(v, j, gsl_ran_gaussian(r, 1.0));
  }
  gsl_rng_free(r);
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, NULL, 0, u, hu));
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, NULL, 0, v, hv));
  double uhv, vhu;
  gsl_blas_ddot(u, hv, &uhv);
  gsl_blas_ddot(v, hu, &vhu);
  /* Both are sums of O(p) terms of size ‖u‖‖Hv‖/p: rounding ~ p·eps. */
  double scale = gsl_blas_dnrm2(u) * gsl_blas_dnrm2(hv) +
                 gsl_blas_dnrm2(v) * gsl_blas_dnrm2(hu);
  ck_assert_msg(fabs(uhv - vhu) <= 1e-13 * scale, "u'Hv = %.17g, v'Hu = %.17g",
                uhv, vhu);
  gsl_vector_free(u);
  gsl_vector_free(v);
  gsl_vector_free(hu);
  gsl_vector_free(hv);
  free_case(&c);
}
END_TEST

/* r HVPs at once (batched dgemms over the vectors) against r single ones:
 * the same sums in a different blocking, so equal to ~(m + p)·eps relative
 * to the magnitudes; r = 40 crosses the block size of 32. */
START_TEST(test_hvp_many) {
  ir_act act = all_acts[_i / 3];
  ir_loss loss = all_losses[_i % 3];
  net_case c = make_case("5-7-6-3", act, loss, 23, 400 + (unsigned)_i);
  const size_t p = c.m->nparams;
  const size_t rs[] = {1, 3, 40};
  for (int t = 0; t < 3; t++) {
    const size_t r = rs[t];
    gsl_matrix *V = gsl_matrix_alloc(r, p), *HV = gsl_matrix_alloc(r, p);
    gsl_vector *hv = gsl_vector_alloc(p);
    gsl_rng *g = ir_rng_alloc(13, (uint64_t)r);
    for (size_t i = 0; i < r * p; i++)
      V->data[i] = gsl_ran_gaussian(g, 1.0);
    gsl_rng_free(g);
    size_t idx[] = {3, 3, 9, 21, 0, 14};
    for (int b = 0; b < 2; b++) {
      const size_t *bi = b ? idx : NULL;
      size_t nb = b ? 6 : 0;
      IR_ASSERT_OK(ir_model_hvp_many(c.m, c.theta, bi, nb, V, HV));
      for (size_t v = 0; v < r; v++) {
        gsl_vector_view vv = gsl_matrix_row(V, v);
        IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, bi, nb, &vv.vector, hv));
        double scale = 0;
        for (size_t j = 0; j < p; j++)
          scale = fmax(scale, fabs(gsl_vector_get(hv, j)));
        for (size_t j = 0; j < p; j++)
          ck_assert_msg(fabs(gsl_matrix_get(HV, v, j) -
                             gsl_vector_get(hv, j)) <= 1e-13 * (scale + 1e-300),
                        "%s/%s r=%zu vector %zu entry %zu: %.17g vs %.17g",
                        ir_act_name(act), ir_loss_name(loss), r, v, j,
                        gsl_matrix_get(HV, v, j), gsl_vector_get(hv, j));
      }
    }
    gsl_matrix_free(V);
    gsl_matrix_free(HV);
    gsl_vector_free(hv);
  }
  free_case(&c);
}
END_TEST

/* vᵀHv by forward mode (second derivative along v, no backward pass)
 * against the dot product with the R-operator's Hv: two different
 * algorithms for the same number, equal to rounding relative to
 * Σ_j |v_j (Hv)_j|.  Also the linear model, which has no forward-mode
 * path (hvp_many plus dots). */
START_TEST(test_quad_forms) {
  ir_act act = all_acts[_i / 3];
  ir_loss loss = all_losses[_i % 3];
  net_case c = make_case("5-7-6-3", act, loss, 23, 500 + (unsigned)_i);
  const size_t p = c.m->nparams, r = 37;
  gsl_matrix *V = gsl_matrix_alloc(r, p);
  gsl_vector *hv = gsl_vector_alloc(p);
  double *q = malloc(r * sizeof(double));
  gsl_rng *g = ir_rng_alloc(17, 3);
  for (size_t i = 0; i < r * p; i++)
    V->data[i] = gsl_ran_gaussian(g, 1.0);
  gsl_rng_free(g);
  size_t idx[] = {3, 3, 9, 21, 0, 14};
  for (int b = 0; b < 2; b++) {
    const size_t *bi = b ? idx : NULL;
    size_t nb = b ? 6 : 0;
    IR_ASSERT_OK(ir_model_quad_many(c.m, c.theta, bi, nb, V, q));
    for (size_t v = 0; v < r; v++) {
      gsl_vector_view vv = gsl_matrix_row(V, v);
      IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, bi, nb, &vv.vector, hv));
      double dot = 0, mag = 0;
      for (size_t j = 0; j < p; j++) {
        dot += vv.vector.data[j] * hv->data[j];
        mag += fabs(vv.vector.data[j] * hv->data[j]);
      }
      ck_assert_msg(fabs(q[v] - dot) <= 1e-12 * (mag + 1e-300),
                    "%s/%s vector %zu: forward mode %.17g, v'(Hv) %.17g",
                    ir_act_name(act), ir_loss_name(loss), v, q[v], dot);
    }
  }
  free(q);
  gsl_matrix_free(V);
  gsl_vector_free(hv);
  free_case(&c);
}
END_TEST

START_TEST(test_quad_forms_linear_model) {
  gsl_matrix *X = ir_test_gaussian(12, 5, 4), *Y = ir_test_gaussian(12, 2, 5);
  ir_model *m = ir_model_linear_alloc(X, Y);
  gsl_vector *th = gsl_vector_calloc(10);
  gsl_matrix *V = ir_test_gaussian(3, 10, 6);
  double q[3];
  IR_ASSERT_OK(ir_model_quad_many(m, th, NULL, 0, V, q));
  /* θ = vec(W) row-major (p×K): vᵀHv = ‖X V_mat‖²_F / n. */
  for (size_t v = 0; v < 3; v++) {
    double e = 0;
    for (size_t i = 0; i < 12; i++)
      for (size_t k = 0; k < 2; k++) {
        double xv = 0;
        for (size_t j = 0; j < 5; j++)
          xv += gsl_matrix_get(X, i, j) * gsl_matrix_get(V, v, j * 2 + k);
        e += xv * xv;
      }
    IR_ASSERT_CLOSE(q[v], e / 12, 1e-13, 0.0);
  }
  gsl_matrix_free(V);
  gsl_vector_free(th);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* The dense Hessian from HVP columns (curvature.h) is symmetric to rounding
 * and equals the finite-difference Jacobian of the gradient. */
START_TEST(test_dense_hessian) {
  net_case c = make_case("3-4-2", IR_ACT_GELU, IR_LOSS_CE, 12, 77);
  const size_t p = c.m->nparams;
  ir_hessian_op h = {c.m, c.theta, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  gsl_matrix *H = gsl_matrix_alloc(p, p);
  double asym;
  IR_ASSERT_OK(ir_linop_dense_matrix(&op, 1e-12, H, &asym));
  ck_assert_msg(asym <= 1e-13, "asymmetry %.3g", asym);
  gsl_vector *gp = gsl_vector_alloc(p), *gm = gsl_vector_alloc(p);
  const double step = 1e-5;
  double L, hmax = 0;
  for (size_t i = 0; i < p * p; i++)
    hmax = fmax(hmax, fabs(H->data[i]));
  for (size_t j = 0; j < p; j++) {
    double t = gsl_vector_get(c.theta, j);
    gsl_vector_set(c.theta, j, t + step);
    IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, NULL, 0, &L, gp));
    gsl_vector_set(c.theta, j, t - step);
    IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, NULL, 0, &L, gm));
    gsl_vector_set(c.theta, j, t);
    for (size_t i = 0; i < p; i++) {
      double fd = (gsl_vector_get(gp, i) - gsl_vector_get(gm, i)) / (2 * step);
      ck_assert_msg(fabs(fd - gsl_matrix_get(H, i, j)) <= 1e-6 * (1 + hmax),
                    "H[%zu][%zu] = %.17g, difference %.17g", i, j,
                    gsl_matrix_get(H, i, j), fd);
    }
  }
  gsl_vector_free(gp);
  gsl_vector_free(gm);
  gsl_matrix_free(H);
  free_case(&c);
}
END_TEST

/* No hidden layer, squared loss: L = (1/2m)‖[X 1]Θᵀ − Y‖², so the Hessian
 * is (1/m)[X 1]ᵀ[X 1] per output row of W, in torch's layout: weight
 * W_kj at k·d + j, bias b_k at K·d + k.  MSELoss doubles it and divides by
 * K.  Exact up to rounding of the Gram sums. */
START_TEST(test_linear_closed_form) {
  const size_t n = 15, d = 4, K = 3;
  for (int t = 0; t < 2; t++) {
    ir_loss loss = t ? IR_LOSS_MSE : IR_LOSS_HALF_SSE;
    char spec[32];
    snprintf(spec, sizeof spec, "%zu-%zu", d, K);
    net_case c = make_case(spec, IR_ACT_RELU, loss, n, 55);
    const size_t p = c.m->nparams;
    ir_hessian_op h = {c.m, c.theta, NULL, 0};
    ir_linop op = ir_linop_hessian(&h);
    gsl_matrix *H = gsl_matrix_alloc(p, p);
    IR_ASSERT_OK(ir_linop_dense_matrix(&op, 1e-12, H, NULL));
    double c0 = (loss == IR_LOSS_MSE ? 2.0 / (double)K : 1.0) / (double)n;
    for (size_t a = 0; a < p; a++)
      for (size_t b = 0; b < p; b++) {
        /* coordinates: (output k, input j) with j == d the bias */
        size_t ka = a < K * d ? a / d : a - K * d, ja = a < K * d ? a % d : d;
        size_t kb = b < K * d ? b / d : b - K * d, jb = b < K * d ? b % d : d;
        double e = 0;
        if (ka == kb)
          for (size_t i = 0; i < n; i++)
            e += (ja < d ? gsl_matrix_get(c.X, i, ja) : 1.0) *
                 (jb < d ? gsl_matrix_get(c.X, i, jb) : 1.0);
        IR_ASSERT_CLOSE(gsl_matrix_get(H, a, b), c0 * e, 1e-13, 1e-14);
      }
    gsl_matrix_free(H);
    free_case(&c);
  }
}
END_TEST

/* A network with a linear (identity) activation, d → H → K, half-mse: f =
 * V[U x̃; 1] with U = [W₁ b₁], V = [W₂ b₂], x̃ = [x; 1], a = U x̃, ã = [a; 1],
 * r = f − y.  Its Hessian in closed form (docs/theory.md §1's least squares in
 * the product, differentiated by hand):
 *   ∂²L/∂V_kj∂V_k'j' = (1/m) Σ δ_kk' ã_j ã_j'
 *   ∂²L/∂U_hi∂U_h'i' = (1/m) Σ (V_:hᵀV_:h') x̃_i x̃_i'
 *   ∂²L/∂V_kj∂U_hi   = (1/m) Σ (V_kh x̃_i ã_j + r_k δ_jh x̃_i)
 * (the last term is the residual's cross term, which a Gauss–Newton
 * product would miss).  Compared entry by entry with the dense Hessian from
 * HVP columns, to rounding of the sums. */
START_TEST(test_linear_activation_closed_form) {
  const size_t n = 11, d = 3, H = 4, K = 2;
  net_case c = make_case("3-4-2", IR_ACT_IDENTITY, IR_LOSS_HALF_SSE, n, 66);
  const size_t p = c.m->nparams;
  const double *th = c.theta->data;
  /* index of U_hi (i == d: the bias) and V_kj (j == H: the bias) in θ */
#define UIX(h, i) ((i) < d ? (h)*d + (i) : H * d + (h))
#define VIX(k, j) ((j) < H ? H * d + H + (k)*H + (j) : H * d + H + K * H + (k))
  gsl_matrix *E = gsl_matrix_calloc(p, p);
  for (size_t s = 0; s < n; s++) {
    double xt[4], at[5], r[2];
    for (size_t i = 0; i < d; i++)
      xt[i] = gsl_matrix_get(c.X, s, i);
    xt[d] = 1;
    for (size_t h = 0; h < H; h++) {
      at[h] = 0;
      for (size_t i = 0; i <= d; i++)
        at[h] += th[UIX(h, i)] * xt[i];
    }
    at[H] = 1;
    for (size_t k = 0; k < K; k++) {
      double f = 0;
      for (size_t j = 0; j <= H; j++)
        f += th[VIX(k, j)] * at[j];
      r[k] = f - gsl_matrix_get(c.Y, s, k);
    }
    for (size_t k = 0; k < K; k++)
      for (size_t j = 0; j <= H; j++)
        for (size_t j2 = 0; j2 <= H; j2++)
          E->data[VIX(k, j) * p + VIX(k, j2)] += at[j] * at[j2] / n;
    for (size_t h = 0; h < H; h++)
      for (size_t h2 = 0; h2 < H; h2++) {
        double vv = 0;
        for (size_t k = 0; k < K; k++)
          vv += th[VIX(k, h)] * th[VIX(k, h2)];
        for (size_t i = 0; i <= d; i++)
          for (size_t i2 = 0; i2 <= d; i2++)
            E->data[UIX(h, i) * p + UIX(h2, i2)] += vv * xt[i] * xt[i2] / n;
      }
    for (size_t k = 0; k < K; k++)
      for (size_t j = 0; j <= H; j++)
        for (size_t h = 0; h < H; h++)
          for (size_t i = 0; i <= d; i++) {
            double e = (th[VIX(k, h)] * xt[i] * at[j] +
                        (j == h ? r[k] * xt[i] : 0.0)) /
                       n;
            E->data[VIX(k, j) * p + UIX(h, i)] += e;
            E->data[UIX(h, i) * p + VIX(k, j)] += e;
          }
  }
#undef UIX
#undef VIX
  ir_hessian_op h = {c.m, c.theta, NULL, 0};
  ir_linop op = ir_linop_hessian(&h);
  gsl_matrix *Hd = gsl_matrix_alloc(p, p);
  IR_ASSERT_OK(ir_linop_dense_matrix(&op, 1e-12, Hd, NULL));
  double emax = 0;
  for (size_t i = 0; i < p * p; i++)
    emax = fmax(emax, fabs(E->data[i]));
  for (size_t a = 0; a < p; a++)
    for (size_t b = 0; b < p; b++)
      ck_assert_msg(fabs(gsl_matrix_get(Hd, a, b) - gsl_matrix_get(E, a, b)) <=
                        1e-13 * emax,
                    "H[%zu][%zu]: R-operator %.17g, closed form %.17g", a, b,
                    gsl_matrix_get(Hd, a, b), gsl_matrix_get(E, a, b));
  gsl_matrix_free(Hd);
  gsl_matrix_free(E);
  free_case(&c);
}
END_TEST

/* Logistic regression: gradient (1/m)(P − Y)ᵀ[X 1] in closed form. */
START_TEST(test_logistic) {
  const size_t n = 10, d = 3, K = 4;
  gsl_matrix *X = ir_test_gaussian(n, d, 3);
  gsl_matrix *Y = gsl_matrix_calloc(n, K);
  for (size_t i = 0; i < n; i++)
    gsl_matrix_set(Y, i, i % K, 1.0);
  ir_model *m = ir_model_logistic_alloc(X, Y);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(m->nparams, K * d + K);
  /* The accessor names the architecture of networks only. */
  ck_assert_uint_eq(ir_model_mlp_arch(m)->nlayers, 1);
  ck_assert_int_eq(ir_model_mlp_arch(m)->loss, IR_LOSS_CE);
  ir_model *lin = ir_model_linear_alloc(X, Y);
  ck_assert_ptr_null(ir_model_mlp_arch(lin));
  ir_model_free(lin);
  gsl_vector *theta = gsl_vector_alloc(m->nparams),
             *g = gsl_vector_alloc(m->nparams);
  for (size_t j = 0; j < m->nparams; j++)
    gsl_vector_set(theta, j, 0.1 * (double)j - 0.5);
  double L;
  IR_ASSERT_OK(ir_model_loss_grad(m, theta, NULL, 0, &L, g));
  gsl_vector *e = gsl_vector_calloc(m->nparams);
  double Le = 0;
  for (size_t i = 0; i < n; i++) {
    double f[4], mx = -INFINITY, s = 0;
    for (size_t k = 0; k < K; k++) {
      f[k] = gsl_vector_get(theta, K * d + k);
      for (size_t j = 0; j < d; j++)
        f[k] += gsl_vector_get(theta, k * d + j) * gsl_matrix_get(X, i, j);
      mx = fmax(mx, f[k]);
    }
    for (size_t k = 0; k < K; k++)
      s += exp(f[k] - mx);
    Le += mx + log(s) - f[i % K];
    for (size_t k = 0; k < K; k++) {
      double r = (exp(f[k] - mx) / s - (k == i % K)) / (double)n;
      for (size_t j = 0; j < d; j++)
        e->data[k * d + j] += r * gsl_matrix_get(X, i, j);
      e->data[K * d + k] += r;
    }
  }
  IR_ASSERT_CLOSE(L, Le / (double)n, 1e-14, 0.0);
  for (size_t j = 0; j < m->nparams; j++)
    IR_ASSERT_CLOSE(gsl_vector_get(g, j), gsl_vector_get(e, j), 1e-13, 1e-15);
  gsl_vector_free(e);
  gsl_vector_free(theta);
  gsl_vector_free(g);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* A mini-batch with repeats is the same as the model on the gathered rows. */
START_TEST(test_batch_equals_gathered) {
  net_case c = make_case("5-7-3", IR_ACT_TANH, IR_LOSS_CE, 30, 8);
  size_t idx[] = {29, 4, 4, 0, 17, 9, 4};
  const size_t nb = 7, p = c.m->nparams;
  gsl_matrix *Xg = gsl_matrix_alloc(nb, 5), *Yg = gsl_matrix_alloc(nb, 3);
  for (size_t i = 0; i < nb; i++) {
    gsl_vector_const_view xr = gsl_matrix_const_row(c.X, idx[i]);
    gsl_vector_const_view yr = gsl_matrix_const_row(c.Y, idx[i]);
    gsl_matrix_set_row(Xg, i, &xr.vector);
    gsl_matrix_set_row(Yg, i, &yr.vector);
  }
  ir_model *mg = ir_model_mlp_alloc(&c.a, Xg, Yg);
  gsl_vector *g1 = gsl_vector_alloc(p), *g2 = gsl_vector_alloc(p),
             *v = gsl_vector_alloc(p), *h1 = gsl_vector_alloc(p),
             *h2 = gsl_vector_alloc(p);
  double L1, L2;
  IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, idx, nb, &L1, g1));
  IR_ASSERT_OK(ir_model_loss_grad(mg, c.theta, NULL, 0, &L2, g2));
  ck_assert(L1 == L2);
  for (size_t j = 0; j < p; j++) {
    ck_assert(g1->data[j] == g2->data[j]);
    v->data[j] = sin((double)j);
  }
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, idx, nb, v, h1));
  IR_ASSERT_OK(ir_model_hvp(mg, c.theta, NULL, 0, v, h2));
  for (size_t j = 0; j < p; j++)
    ck_assert(h1->data[j] == h2->data[j]);
  /* Another batch after it: the cache must follow the batch. */
  size_t idx2[] = {1, 2, 3};
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, idx2, 3, v, h1));
  int differs = 0;
  for (size_t j = 0; j < p; j++)
    differs |= h1->data[j] != h2->data[j];
  ck_assert(differs);
  gsl_vector_free(g1);
  gsl_vector_free(g2);
  gsl_vector_free(v);
  gsl_vector_free(h1);
  gsl_vector_free(h2);
  ir_model_free(mg);
  gsl_matrix_free(Xg);
  gsl_matrix_free(Yg);
  free_case(&c);
}
END_TEST

/* A batch of consecutive rows is read in place (a strided view of X, no
 * gather): the same numbers, bit for bit, as the model on a packed copy of
 * those rows, for X with a row stride larger than its width.  ReLU goes
 * through the fused bias/activation loop, tanh through the generic one. */
START_TEST(test_contiguous_batch_is_view) {
  const ir_act acts[] = {IR_ACT_RELU, IR_ACT_TANH};
  const ir_loss losses[] = {IR_LOSS_CE, IR_LOSS_MSE};
  for (size_t k = 0; k < 4; k++) {
    net_case c = make_case("5-7-6-3", acts[k / 2], losses[k % 2], 30, 11 + k);
    /* X and Y inside wider matrices: tda > columns. */
    gsl_matrix *Xw = gsl_matrix_alloc(30, 9), *Yw = gsl_matrix_alloc(30, 4);
    gsl_matrix_set_all(Xw, NAN);
    gsl_matrix_set_all(Yw, NAN);
    gsl_matrix_view Xv = gsl_matrix_submatrix(Xw, 0, 2, 30, 5);
    gsl_matrix_view Yv = gsl_matrix_submatrix(Yw, 0, 1, 30, 3);
    gsl_matrix_memcpy(&Xv.matrix, c.X);
    gsl_matrix_memcpy(&Yv.matrix, c.Y);
    ir_model *mw = ir_model_mlp_alloc(&c.a, &Xv.matrix, &Yv.matrix);
    ck_assert_ptr_nonnull(mw);
    const size_t first = 11, nb = 8, p = c.m->nparams;
    size_t idx[8];
    for (size_t i = 0; i < nb; i++)
      idx[i] = first + i;
    gsl_matrix_const_view Xs = gsl_matrix_const_submatrix(c.X, first, 0, nb, 5);
    gsl_matrix_const_view Ys = gsl_matrix_const_submatrix(c.Y, first, 0, nb, 3);
    gsl_matrix *Xg = gsl_matrix_alloc(nb, 5), *Yg = gsl_matrix_alloc(nb, 3);
    gsl_matrix_memcpy(Xg, &Xs.matrix);
    gsl_matrix_memcpy(Yg, &Ys.matrix);
    ir_model *mg = ir_model_mlp_alloc(&c.a, Xg, Yg);
    gsl_vector *g1 = gsl_vector_alloc(p), *g2 = gsl_vector_alloc(p),
               *v = gsl_vector_alloc(p), *h1 = gsl_vector_alloc(p),
               *h2 = gsl_vector_alloc(p);
    for (size_t j = 0; j < p; j++)
      v->data[j] = cos((double)j);
    double L1, L2;
    IR_ASSERT_OK(ir_model_loss_grad(mw, c.theta, idx, nb, &L1, g1));
    IR_ASSERT_OK(ir_model_loss_grad(mg, c.theta, NULL, 0, &L2, g2));
    ck_assert_msg(L1 == L2, "case %zu: loss %.17g vs %.17g", k, L1, L2);
    for (size_t j = 0; j < p; j++)
      ck_assert_msg(g1->data[j] == g2->data[j], "case %zu: gradient %zu", k,
                    j);
    IR_ASSERT_OK(ir_model_hvp(mw, c.theta, idx, nb, v, h1));
    IR_ASSERT_OK(ir_model_hvp(mg, c.theta, NULL, 0, v, h2));
    for (size_t j = 0; j < p; j++)
      ck_assert_msg(h1->data[j] == h2->data[j], "case %zu: HVP %zu", k, j);
    /* The same rows out of order go through the gather: the loss is the
     * same up to the order of the sum over samples. */
    size_t rev[8];
    for (size_t i = 0; i < nb; i++)
      rev[i] = idx[nb - 1 - i];
    IR_ASSERT_OK(ir_model_loss_grad(mw, c.theta, rev, nb, &L2, NULL));
    ck_assert_msg(fabs(L1 - L2) <= 1e-14 * fabs(L1), "case %zu: %.17g vs %.17g",
                  k, L1, L2);
    gsl_vector_free(g1);
    gsl_vector_free(g2);
    gsl_vector_free(v);
    gsl_vector_free(h1);
    gsl_vector_free(h2);
    ir_model_free(mg);
    ir_model_free(mw);
    gsl_matrix_free(Xg);
    gsl_matrix_free(Yg);
    gsl_matrix_free(Xw);
    gsl_matrix_free(Yw);
    free_case(&c);
  }
}
END_TEST

/* The forward/backward state an HVP reuses must belong to the θ it is
 * given: a gradient call before any HVP keeps no state (no copy of θ), one
 * after an HVP does; either way, an HVP after θ was changed in place must
 * equal a fresh model's. */
START_TEST(test_hvp_cache_follows_theta) {
  net_case c = make_case("4-6-3", IR_ACT_TANH, IR_LOSS_CE, 20, 21);
  ir_model *fresh = ir_model_mlp_alloc(&c.a, c.X, c.Y);
  const size_t p = c.m->nparams;
  size_t idx[] = {3, 7, 1, 12, 19};
  gsl_vector *g = gsl_vector_alloc(p), *v = gsl_vector_alloc(p),
             *h1 = gsl_vector_alloc(p), *h2 = gsl_vector_alloc(p);
  for (size_t j = 0; j < p; j++)
    v->data[j] = sin(0.7 * (double)j);
  double L;
  for (int round = 0; round < 3; round++) {
    /* round 0: no HVP seen yet; rounds 1, 2: after one. */
    IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, idx, 5, &L, g));
    if (round == 2) { /* the cached state is for this θ: reused */
      IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, idx, 5, v, h1));
      IR_ASSERT_OK(ir_model_hvp(fresh, c.theta, idx, 5, v, h2));
      for (size_t j = 0; j < p; j++)
        ck_assert(h1->data[j] == h2->data[j]);
      IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, idx, 5, &L, g));
    }
    gsl_blas_daxpy(-0.1, g, c.theta); /* in place, as the optimizers do */
    IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, idx, 5, v, h1));
    ir_model_free(fresh);
    fresh = ir_model_mlp_alloc(&c.a, c.X, c.Y);
    IR_ASSERT_OK(ir_model_hvp(fresh, c.theta, idx, 5, v, h2));
    for (size_t j = 0; j < p; j++)
      ck_assert_msg(h1->data[j] == h2->data[j], "round %d, entry %zu: %g vs %g",
                    round, j, h1->data[j], h2->data[j]);
  }
  gsl_vector_free(g);
  gsl_vector_free(v);
  gsl_vector_free(h1);
  gsl_vector_free(h2);
  ir_model_free(fresh);
  free_case(&c);
}
END_TEST

/* Extreme pre-activations: softplus and GELU stay finite, CE does not
 * overflow (log-sum-exp with the maximum subtracted). */
START_TEST(test_extreme_scales) {
  ir_act acts[] = {IR_ACT_SOFTPLUS, IR_ACT_GELU, IR_ACT_TANH};
  for (int t = 0; t < 3; t++) {
    net_case c = make_case("3-4-3", acts[t], IR_LOSS_CE, 6, 40);
    gsl_vector_scale(c.theta, 400.0);
    const size_t p = c.m->nparams;
    gsl_vector *g = gsl_vector_alloc(p), *hv = gsl_vector_alloc(p);
    double L;
    IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, NULL, 0, &L, g));
    ck_assert(isfinite(L));
    IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, NULL, 0, g, hv));
    for (size_t j = 0; j < p; j++)
      ck_assert(isfinite(g->data[j]) && isfinite(hv->data[j]));
    gsl_vector_free(g);
    gsl_vector_free(hv);
    free_case(&c);
  }
}
END_TEST

START_TEST(test_bad_input) {
  ir_mlp_arch a;
  IR_ASSERT_OK(ir_mlp_arch_parse("3-4-2", &a));
  a.act = IR_ACT_RELU;
  a.loss = IR_LOSS_MSE;
  gsl_matrix *X = ir_test_gaussian(5, 3, 1), *Y = gsl_matrix_calloc(5, 2);
  gsl_matrix *Xw = ir_test_gaussian(5, 4, 1), *Yw = gsl_matrix_calloc(4, 2);
  ck_assert_ptr_null(ir_model_mlp_alloc(&a, Xw, Y));
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "columns"));
  ck_assert_ptr_null(ir_model_mlp_alloc(&a, X, Yw));
  gsl_matrix_set(X, 2, 1, NAN);
  ck_assert_ptr_null(ir_model_mlp_alloc(&a, X, Y));
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "row 2"));
  gsl_matrix_set(X, 2, 1, 0.0);
  a.loss = IR_LOSS_CE;
  gsl_matrix_set(Y, 1, 0, -1.0);
  ck_assert_ptr_null(ir_model_mlp_alloc(&a, X, Y));
  IR_ASSERT_OK(ir_mlp_arch_parse("3-4-1", &a));
  gsl_matrix *Y1 = gsl_matrix_calloc(5, 1);
  ck_assert_ptr_null(ir_model_mlp_alloc(&a, X, Y1));
  /* A wrong-length θ or an out-of-range batch index is refused. */
  a.loss = IR_LOSS_MSE;
  ir_model *m = ir_model_mlp_alloc(&a, X, Y1);
  ck_assert_ptr_nonnull(m);
  gsl_vector *th = gsl_vector_calloc(m->nparams + 1),
             *g = gsl_vector_alloc(m->nparams);
  double L;
  ck_assert_int_eq(ir_model_loss_grad(m, th, NULL, 0, &L, NULL), IR_ESHAPE);
  gsl_vector_view t = gsl_vector_subvector(th, 0, m->nparams);
  size_t bad = 5;
  ck_assert_int_eq(ir_model_loss_grad(m, &t.vector, &bad, 1, &L, g), IR_EINVAL);
  gsl_vector_free(th);
  gsl_vector_free(g);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
  gsl_matrix_free(Xw);
  gsl_matrix_free(Yw);
  gsl_matrix_free(Y1);
}
END_TEST

/* torch's nn.Linear init: uniform on ±1/√fan_in for weights and biases. */
START_TEST(test_init_torch) {
  ir_mlp_arch a;
  IR_ASSERT_OK(ir_mlp_arch_parse("100-25-4", &a));
  gsl_vector *th = gsl_vector_alloc(ir_mlp_nparams(&a));
  gsl_rng *r = ir_rng_alloc(1, 2);
  ir_mlp_init_torch(&a, r, th);
  gsl_rng_free(r);
  double b0 = 0.1, b1 = 0.2, max0 = 0, max1 = 0;
  for (size_t j = 0; j < th->size; j++) {
    double x = fabs(gsl_vector_get(th, j));
    if (j < ir_mlp_weight_offset(&a, 1))
      max0 = fmax(max0, x);
    else
      max1 = fmax(max1, x);
  }
  ck_assert(max0 <= b0 && max0 > 0.99 * b0);
  ck_assert(max1 <= b1 && max1 > 0.95 * b1);
  gsl_vector_free(th);
}
END_TEST


/* ---- the fused kernels of small networks against the BLAS path ----------
 *
 * Both paths compute the same sums in different orders, so they agree to
 * rounding.  The bound is norm-wise per parameter block (one layer's
 * weights, or its biases): a block of the result is Σ_i q_i over samples,
 * each q_i a product of sums over at most L·(maxw + 2) terms whose sizes
 * are those of the block's entries, so each path is off by at most about
 * (L·(maxw + 2) + m)·eps·Σ_i ‖q_i,block‖_∞; the scale is computed per
 * sample (the model on the batch {i}) and the tolerance is twice that
 * (both paths), plus 8 terms for the fused path's lane sums.  Entry-wise
 * scales are not enough: inside one sample a sum over units can cancel.  A
 * bug in the fused path (a wrong index, a padding sample counted, a missing
 * term of the R-operator) moves a result by O(the scale), far above this. */

static double small_tol(const ir_mlp_arch *a, size_t m) {
  size_t maxw = 0;
  for (size_t l = 0; l <= a->nlayers; l++)
    maxw = a->width[l] > maxw ? a->width[l] : maxw;
  return 2.0 * (double)(a->nlayers * (maxw + 2) + m + 8) * DBL_EPSILON;
}

/* Compares loss, gradient and H v of the two paths on the batch (idx, nb)
 * (idx NULL: the whole set of n rows). */
static void compare_paths(const char *spec, ir_act act, ir_loss loss,
                          size_t n, const size_t *idx, size_t nb,
                          unsigned long seed) {
  net_case c = make_case(spec, act, loss, n, seed);
  const size_t p = c.m->nparams, m = idx ? nb : n;
  ir_model *mb = ir_model_mlp_alloc(&c.a, c.X, c.Y);
  ck_assert_ptr_nonnull(mb);
  IR_ASSERT_OK(ir_model_mlp_set_kernels(c.m, IR_MLP_KERNELS_SMALL));
  IR_ASSERT_OK(ir_model_mlp_set_kernels(mb, IR_MLP_KERNELS_BLAS));
  gsl_vector *gs = gsl_vector_alloc(p), *gb = gsl_vector_alloc(p),
             *hs = gsl_vector_alloc(p), *hb = gsl_vector_alloc(p),
             *v = gsl_vector_alloc(p), *gi = gsl_vector_alloc(p),
             *hi = gsl_vector_alloc(p), *Sg = gsl_vector_calloc(p),
             *Sh = gsl_vector_calloc(p);
  for (size_t j = 0; j < p; j++)
    v->data[j] = sin(1.0 + (double)j);
  double Ls, Lb, Lonly, Ssum = 0;
  IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, idx, nb, &Ls, gs));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_SMALL);
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, idx, nb, v, hs));
  IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, idx, nb, &Lonly, NULL));
  IR_ASSERT_OK(ir_model_loss_grad(mb, c.theta, idx, nb, &Lb, gb));
  ck_assert_int_eq(ir_model_mlp_last_kernels(mb), IR_MLP_KERNELS_BLAS);
  IR_ASSERT_OK(ir_model_hvp(mb, c.theta, idx, nb, v, hb));
  ck_assert_int_eq(ir_model_mlp_last_kernels(mb), IR_MLP_KERNELS_BLAS);
  /* per-sample scales (through the BLAS model: only magnitudes count);
   * the loss's terms are per-sample losses */
  for (size_t i = 0; i < m; i++) {
    size_t one = idx ? idx[i] : i;
    double Li;
    IR_ASSERT_OK(ir_model_loss_grad(mb, c.theta, &one, 1, &Li, NULL));
    Ssum += fabs(Li) / (double)m;
  }
  /* norm-wise per block: Sg, Sh become the block's Σ_i ‖q_i,block‖_∞ */
  gsl_vector *Bg = gsl_vector_calloc(p), *Bh = gsl_vector_calloc(p);
  for (size_t i = 0; i < m; i++) {
    size_t one = idx ? idx[i] : i;
    double Li;
    IR_ASSERT_OK(ir_model_loss_grad(mb, c.theta, &one, 1, &Li, gi));
    IR_ASSERT_OK(ir_model_hvp(mb, c.theta, &one, 1, v, hi));
    for (size_t l = 0; l < c.a.nlayers; l++)
      for (int part = 0; part < 2; part++) {
        const size_t lo = part ? ir_mlp_bias_offset(&c.a, l)
                               : ir_mlp_weight_offset(&c.a, l),
                     hi_ = part ? ir_mlp_weight_offset(&c.a, l + 1)
                                : ir_mlp_bias_offset(&c.a, l);
        double mg = 0, mh = 0;
        for (size_t j = lo; j < hi_; j++) {
          mg = fmax(mg, fabs(gi->data[j]));
          mh = fmax(mh, fabs(hi->data[j]));
        }
        for (size_t j = lo; j < hi_; j++) {
          Bg->data[j] += mg / (double)m;
          Bh->data[j] += mh / (double)m;
        }
      }
  }
  gsl_vector_memcpy(Sg, Bg);
  gsl_vector_memcpy(Sh, Bh);
  gsl_vector_free(Bg);
  gsl_vector_free(Bh);
  const double t = small_tol(&c.a, m);
  ck_assert_msg(fabs(Ls - Lb) <= t * Ssum,
                "%s %s %s m=%zu: loss %.17g vs %.17g (tol %.2g)", spec,
                ir_act_name(act), ir_loss_name(loss), m, Ls, Lb, t * Ssum);
  ck_assert_msg(Lonly == Ls, "%s: the loss alone differs from the loss with "
                "the gradient (%.17g vs %.17g)", spec, Lonly, Ls);
  for (size_t j = 0; j < p; j++) {
    ck_assert_msg(fabs(gs->data[j] - gb->data[j]) <= t * Sg->data[j],
                  "%s %s %s m=%zu: gradient %zu: %.17g vs %.17g (tol %.2g)",
                  spec, ir_act_name(act), ir_loss_name(loss), m, j,
                  gs->data[j], gb->data[j], t * Sg->data[j]);
    ck_assert_msg(fabs(hs->data[j] - hb->data[j]) <= t * Sh->data[j],
                  "%s %s %s m=%zu: HVP %zu: %.17g vs %.17g (tol %.2g)", spec,
                  ir_act_name(act), ir_loss_name(loss), m, j, hs->data[j],
                  hb->data[j], t * Sh->data[j]);
  }
  gsl_vector_free(gs);
  gsl_vector_free(gb);
  gsl_vector_free(hs);
  gsl_vector_free(hb);
  gsl_vector_free(v);
  gsl_vector_free(gi);
  gsl_vector_free(hi);
  gsl_vector_free(Sg);
  gsl_vector_free(Sh);
  ir_model_free(mb);
  free_case(&c);
}

/* Every activation and loss, on shapes with one sample, width 1, a single
 * layer, three layers and the 4-32-1 network; whole sets, runs of rows and
 * gathered mini-batches (sizes not multiples of 8). */
START_TEST(test_small_equals_blas) {
  const ir_act acts[] = {IR_ACT_RELU, IR_ACT_TANH, IR_ACT_SOFTPLUS,
                         IR_ACT_GELU, IR_ACT_IDENTITY};
  const ir_loss losses[] = {IR_LOSS_MSE, IR_LOSS_HALF_SSE, IR_LOSS_CE};
  const ir_act act = acts[_i / 3];
  const ir_loss loss = losses[_i % 3];
  const size_t gather[5] = {17, 3, 11, 0, 16};
  const size_t run[9] = {4, 5, 6, 7, 8, 9, 10, 11, 12};
  unsigned long seed = 100 + (unsigned long)_i;
  compare_paths("4-32-1", act, loss == IR_LOSS_CE ? IR_LOSS_MSE : loss, 64,
                NULL, 0, seed);
  compare_paths("4-32-2", act, loss, 64, NULL, 0, seed);
  compare_paths("3-1-2", act, loss, 13, NULL, 0, seed); /* width 1 */
  compare_paths("1-1-2", act, loss, 1, NULL, 0, seed);  /* one sample */
  compare_paths("5-7-3-4", act, loss, 20, NULL, 0, seed);
  compare_paths("5-7-3-4", act, loss, 20, gather, 5, seed);
  compare_paths("5-7-3-4", act, loss, 20, run, 9, seed);
  compare_paths("6-3", act, loss, 21, NULL, 0, seed);       /* no hidden */
  compare_paths("2-9-8-2", act, loss, 40, gather, 1, seed); /* batch of 1 */
  /* 64 samples (blocks of 8 vectors): rows in pairs and an odd one left;
   * weight gradients of 4 and 2 inputs by groups of rows, one left */
  compare_paths("4-9-3", act, loss, 64, NULL, 0, seed);
  compare_paths("2-5-1", act, loss == IR_LOSS_CE ? IR_LOSS_MSE : loss, 64,
                NULL, 0, seed);
}
END_TEST

/* The fused path keeps its transposed copy of the batch while the batch is
 * the same rows of X (the whole set, or one run of rows) and reloads it
 * otherwise, in particular for every gathered mini-batch (whose rows sit at
 * the same address each time): a sequence of batches on one model gives,
 * bit for bit, what a fresh model gives on each. */
START_TEST(test_small_batch_reload) {
  net_case c = make_case("4-9-2", IR_ACT_TANH, IR_LOSS_MSE, 24, 5);
  const size_t p = c.m->nparams;
  IR_ASSERT_OK(ir_model_mlp_set_kernels(c.m, IR_MLP_KERNELS_SMALL));
  const size_t ga[4] = {3, 17, 8, 1}, gb[4] = {20, 2, 9, 14},
               ra[4] = {5, 6, 7, 8}, rb[4] = {6, 7, 8, 9};
  const size_t *seq[] = {NULL, ga, gb, ga, ra, rb, NULL, gb};
  gsl_vector *g = gsl_vector_alloc(p), *gf = gsl_vector_alloc(p);
  for (size_t k = 0; k < sizeof seq / sizeof seq[0]; k++) {
    const size_t nb = seq[k] ? 4 : 0;
    ir_model *fresh = ir_model_mlp_alloc(&c.a, c.X, c.Y);
    ck_assert_ptr_nonnull(fresh);
    IR_ASSERT_OK(ir_model_mlp_set_kernels(fresh, IR_MLP_KERNELS_SMALL));
    double L, Lf;
    IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, seq[k], nb, &L, g));
    IR_ASSERT_OK(ir_model_loss_grad(fresh, c.theta, seq[k], nb, &Lf, gf));
    ck_assert_msg(L == Lf, "batch %zu: loss %.17g, fresh model %.17g", k, L,
                  Lf);
    for (size_t j = 0; j < p; j++)
      ck_assert_msg(g->data[j] == gf->data[j], "batch %zu: gradient %zu", k,
                    j);
    ir_model_free(fresh);
  }
  gsl_vector_free(g);
  gsl_vector_free(gf);
  free_case(&c);
}
END_TEST

/* AUTO takes the fused kernels at or below IR_MLP_SMALL_FLOPS forward
 * flops with at least IR_MLP_SMALL_MIN_ROWS rows, and BLAS otherwise, per
 * call (mini-batches of the same model cross both limits both ways);
 * forcing works; the state cached by one path is not served to the other;
 * hvp_many and quad_many agree with single HVPs. */
START_TEST(test_small_threshold_switch) {
  /* 10-10-1: 2·m·110 flops, the threshold falls between m0 and m0 + 1 */
  const size_t m0 = (size_t)floor(IR_MLP_SMALL_FLOPS / 220.0);
  net_case c = make_case("10-10-1", IR_ACT_TANH, IR_LOSS_MSE, m0 + 5, 3);
  const size_t p = c.m->nparams;
  ck_assert(220.0 * (double)m0 <= IR_MLP_SMALL_FLOPS);
  ck_assert(220.0 * (double)(m0 + 1) > IR_MLP_SMALL_FLOPS);
  size_t *idx = malloc((m0 + 1) * sizeof *idx);
  for (size_t i = 0; i <= m0; i++)
    idx[i] = (i * 7) % (m0 + 5);
  gsl_vector *g = gsl_vector_alloc(p), *g2 = gsl_vector_alloc(p),
             *v = gsl_vector_alloc(p), *h = gsl_vector_alloc(p),
             *h2 = gsl_vector_alloc(p);
  for (size_t j = 0; j < p; j++)
    v->data[j] = cos(0.3 * (double)j);
  double L, L2;
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_AUTO);
  IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, idx, m0, &L, g));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_SMALL);
  IR_ASSERT_OK(ir_model_loss_grad(c.m, c.theta, idx, m0 + 1, &L, g));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_BLAS);
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, idx, m0, v, h));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_SMALL);
  ck_assert(m0 > IR_MLP_SMALL_MIN_ROWS);
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, idx, IR_MLP_SMALL_MIN_ROWS, v, h));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_SMALL);
  IR_ASSERT_OK(
      ir_model_hvp(c.m, c.theta, idx, IR_MLP_SMALL_MIN_ROWS - 1, v, h));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_BLAS);
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, NULL, 0, v, h));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_BLAS);
  IR_ASSERT_OK(ir_model_mlp_set_kernels(c.m, IR_MLP_KERNELS_SMALL));
  IR_ASSERT_OK(ir_model_hvp(c.m, c.theta, NULL, 0, v, h));
  ck_assert_int_eq(ir_model_mlp_last_kernels(c.m), IR_MLP_KERNELS_SMALL);
  IR_ASSERT_OK(ir_model_mlp_set_kernels(c.m, IR_MLP_KERNELS_AUTO));
  free_case(&c);

  /* A small network and a large one under AUTO. */
  net_case s = make_case("4-32-1", IR_ACT_TANH, IR_LOSS_HALF_SSE, 64, 5);
  IR_ASSERT_OK(ir_model_loss_grad(s.m, s.theta, NULL, 0, &L, NULL));
  ck_assert_int_eq(ir_model_mlp_last_kernels(s.m), IR_MLP_KERNELS_SMALL);
  net_case b = make_case("100-64-10", IR_ACT_RELU, IR_LOSS_CE, 200, 6);
  IR_ASSERT_OK(ir_model_loss_grad(b.m, b.theta, NULL, 0, &L, NULL));
  ck_assert_int_eq(ir_model_mlp_last_kernels(b.m), IR_MLP_KERNELS_BLAS);
  free_case(&b);

  /* Cached state and path changes: gradient (small), HVP (small, cache
   * hit), forced BLAS HVP (must recompute, not read the small state),
   * back to small; quad_many (BLAS) between HVPs. */
  const size_t ps = s.m->nparams;
  gsl_vector *vs = gsl_vector_alloc(ps), *a1 = gsl_vector_alloc(ps),
             *a2 = gsl_vector_alloc(ps), *a3 = gsl_vector_alloc(ps),
             *gs = gsl_vector_alloc(ps);
  for (size_t j = 0; j < ps; j++)
    vs->data[j] = sin(0.7 * (double)j);
  IR_ASSERT_OK(ir_model_loss_grad(s.m, s.theta, NULL, 0, &L, gs));
  IR_ASSERT_OK(ir_model_hvp(s.m, s.theta, NULL, 0, vs, a1));
  IR_ASSERT_OK(ir_model_mlp_set_kernels(s.m, IR_MLP_KERNELS_BLAS));
  IR_ASSERT_OK(ir_model_hvp(s.m, s.theta, NULL, 0, vs, a2));
  IR_ASSERT_OK(ir_model_mlp_set_kernels(s.m, IR_MLP_KERNELS_AUTO));
  gsl_matrix *V = gsl_matrix_alloc(3, ps), *HV = gsl_matrix_alloc(3, ps);
  for (size_t r = 0; r < 3; r++)
    for (size_t j = 0; j < ps; j++)
      gsl_matrix_set(V, r, j, r == 1 ? vs->data[j] : cos((double)(r + j)));
  double q[3];
  IR_ASSERT_OK(ir_model_quad_many(s.m, s.theta, NULL, 0, V, q));
  ck_assert_int_eq(ir_model_mlp_last_kernels(s.m), IR_MLP_KERNELS_BLAS);
  IR_ASSERT_OK(ir_model_hvp_many(s.m, s.theta, NULL, 0, V, HV));
  ck_assert_int_eq(ir_model_mlp_last_kernels(s.m), IR_MLP_KERNELS_SMALL);
  IR_ASSERT_OK(ir_model_hvp(s.m, s.theta, NULL, 0, vs, a3));
  double dot = 0, scale = 0;
  for (size_t j = 0; j < ps; j++) {
    /* the small path's results do not depend on what ran before */
    ck_assert_msg(a3->data[j] == a1->data[j], "HVP %zu changed", j);
    ck_assert_msg(gsl_matrix_get(HV, 1, j) == a1->data[j],
                  "hvp_many row %zu differs from the single HVP", j);
    ck_assert_msg(fabs(a2->data[j] - a1->data[j]) <=
                      1e-12 * (fabs(a1->data[j]) + 1e-3),
                  "BLAS HVP %zu: %.17g vs %.17g", j, a2->data[j],
                  a1->data[j]);
    dot += vs->data[j] * a1->data[j];
    scale += fabs(vs->data[j] * a1->data[j]);
  }
  ck_assert_msg(fabs(q[1] - dot) <= 1e-13 * scale, "v'Hv %.17g vs %.17g",
                q[1], dot);
  gsl_vector_free(vs);
  gsl_vector_free(a1);
  gsl_vector_free(a2);
  gsl_vector_free(a3);
  gsl_vector_free(gs);
  gsl_matrix_free(V);
  gsl_matrix_free(HV);
  free_case(&s);
  ck_assert_int_eq(ir_model_mlp_set_kernels(NULL, IR_MLP_KERNELS_SMALL),
                   IR_EINVAL);
  free(idx);
  gsl_vector_free(g);
  gsl_vector_free(g2);
  gsl_vector_free(v);
  gsl_vector_free(h);
  gsl_vector_free(h2);
  (void)L2;
}
END_TEST

/* tanh of the network (ir_mlp_activate) against tanhl (x87 extended
 * precision, 11 more bits than double): the AVX-512 kernel's measured worst
 * case is 2.67 ulp, so 3; without AVX-512 the library uses libmvec's SSE
 * tanh (documented within 4 ulp), so 6.  Exact values at 0, −0,
 * subnormals, saturation and NaN. */
START_TEST(test_tanh_accuracy) {
  const size_t N = 200003;
  double *z = malloc((N + 8) * sizeof *z), *a = malloc((N + 8) * sizeof *a);
  for (size_t i = 0; i < N; i++) {
    double u = (double)i / (double)(N - 1);
    /* dense near 0 and over [−25, 25] */
    z[i] = (i % 2) ? (u * 50.0 - 25.0) : ldexp(1.0 + u, -(int)(i % 60)) *
                                             ((i % 4) ? 1.0 : -1.0);
  }
  const double special[8] = {0.0, -0.0, 4.9406564584124654e-324, 1e-310,
                             30.0, -40.0, 1e300, NAN};
  memcpy(z + N, special, sizeof special);
  ir_mlp_activate(IR_ACT_TANH, z, a, N + 8);
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < N; i++) {
    const long double refl = tanhl((long double)z[i]);
    const double ref = (double)refl;
    double ulp = nextafter(fabs(ref), INFINITY) - fabs(ref);
    double e = (double)(fabsl((long double)a[i] - refl) / (long double)ulp);
    if (e > worst) {
      worst = e;
      at = i;
    }
  }
  int avx512 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  avx512 = __builtin_cpu_supports("avx512f") != 0;
#endif
  const double bound = avx512 ? 3.0 : 6.0;
  ck_assert_msg(worst <= bound, "tanh: %.2f ulp at %.17g (bound %g)", worst,
                z[at], bound);
  ck_assert(a[N] == 0.0 && !signbit(a[N]));
  ck_assert(a[N + 1] == 0.0 && signbit(a[N + 1]));
  ck_assert(a[N + 2] == z[N + 2]);
  ck_assert(a[N + 3] == z[N + 3]);
  ck_assert(a[N + 4] == 1.0);
  ck_assert(a[N + 5] == -1.0);
  ck_assert(a[N + 6] == 1.0);
  ck_assert(isnan(a[N + 7]));
  free(z);
  free(a);
}
END_TEST

static Suite *mlp_suite(void) {
  Suite *s = suite_create("mlp");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_arch_parse);
  tcase_add_test(tc, test_layout_and_losses);
  tcase_add_loop_test(tc, test_gradient_fd, 0, 15);
  tcase_add_loop_test(tc, test_hvp_fd, 0, 15);
  tcase_add_loop_test(tc, test_hvp_symmetry, 0, 15);
  tcase_add_loop_test(tc, test_hvp_many, 0, 15);
  tcase_add_loop_test(tc, test_quad_forms, 0, 15);
  tcase_add_test(tc, test_quad_forms_linear_model);
  tcase_add_test(tc, test_dense_hessian);
  tcase_add_test(tc, test_linear_closed_form);
  tcase_add_test(tc, test_linear_activation_closed_form);
  tcase_add_test(tc, test_logistic);
  tcase_add_test(tc, test_batch_equals_gathered);
  tcase_add_test(tc, test_contiguous_batch_is_view);
  tcase_add_test(tc, test_hvp_cache_follows_theta);
  tcase_add_test(tc, test_extreme_scales);
  tcase_add_test(tc, test_bad_input);
  tcase_add_test(tc, test_init_torch);
  tcase_add_loop_test(tc, test_small_equals_blas, 0, 15);
  tcase_add_test(tc, test_small_threshold_switch);
  tcase_add_test(tc, test_small_batch_reload);
  tcase_add_test(tc, test_tanh_accuracy);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(mlp_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
