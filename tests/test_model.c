/* test_model.c — the linear least-squares model against naive loops of its
 * definition, finite differences and closed forms.
 *
 * Tolerances come from standard rounding-error bounds (Higham, "Accuracy and
 * Stability of Numerical Algorithms", 2nd ed., §3.1): a sum of q products
 * computed in any order differs from the exact value by at most
 * γ_q·Σ|terms|, γ_q = qu/(1 − qu), u = 2⁻⁵³.  Each reference below returns,
 * beside its value, that bound for ONE evaluation; two independent
 * evaluations (the library's BLAS and the loop here) can differ by twice it.
 */
#include "implreg/model.h"

#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <string.h>

#define UNIT_ROUNDOFF (DBL_EPSILON / 2)

/* γ_q of Higham §3.1. */
static double gamma_q(double q) {
  return q * UNIT_ROUNDOFF / (1 - q * UNIT_ROUNDOFF);
}

/* The output counts the suites loop over: a single output and several. */
static const size_t K_VALUES[] = {1, 3};

enum { N_ROWS = 7, N_IN = 4 };

/* ---- Naive references ---------------------------------------------------- */

/* Residual r = x_iᵀW_k − y_ik by a plain loop (θ[j·K + k] = W_jk), and the
 * scale a = Σ_j |x_ij W_jk| + |y_ik| that bounds its rounding error by
 * γ_{p+1}·a. */
static double ref_residual(const gsl_matrix *X, const gsl_matrix *Y,
                           const double *th, size_t i, size_t k, double *a) {
  const size_t p = X->size2, K = Y->size2;
  double r = 0, s = 0;
  for (size_t j = 0; j < p; j++) {
    r += gsl_matrix_get(X, i, j) * th[j * K + k];
    s += fabs(gsl_matrix_get(X, i, j) * th[j * K + k]);
  }
  *a = s + fabs(gsl_matrix_get(Y, i, k));
  return r - gsl_matrix_get(Y, i, k);
}

/* L = (1/2m) Σ_{i ∈ rows} Σ_k r_ik², straight from the definition.  *bound
 * receives the rounding error of one evaluation: each residual is off by at
 * most e = γ_{p+1}·a, so r² by 2|r|e + e², and the sum of the m·K squares
 * adds γ_{mK}·Σr² (plus two roundings for the scaling). */
static double ref_loss(const gsl_matrix *X, const gsl_matrix *Y,
                       const double *th, const size_t *rows, size_t m,
                       double *bound) {
  const size_t p = X->size2, K = Y->size2;
  double ss = 0, err = 0;
  for (size_t t = 0; t < m; t++)
    for (size_t k = 0; k < K; k++) {
      double a;
      double r = ref_residual(X, Y, th, rows[t], k, &a);
      double e = gamma_q((double)p + 1) * a;
      ss += r * r;
      err += 2 * fabs(r) * e + e * e;
    }
  *bound = (err + gamma_q((double)(m * K) + 2) * ss) / (2.0 * (double)m);
  return ss / (2.0 * (double)m);
}

/* g_jk = (1/m) Σ_i x_ij r_ik.  gb[jk] receives the rounding bound
 * γ_{m+p+3}·(1/m)·Σ_i |x_ij|·a_ik: the residual error γ_{p+1}·a_ik is
 * multiplied by |x_ij|, the outer sum adds γ_m·Σ|x_ij r_ik| ≤ γ_m·Σ|x_ij|a_ik,
 * and the scaling one more rounding. */
static void ref_grad(const gsl_matrix *X, const gsl_matrix *Y, const double *th,
                     const size_t *rows, size_t m, double *g, double *gb) {
  const size_t p = X->size2, K = Y->size2;
  for (size_t q = 0; q < p * K; q++)
    g[q] = gb[q] = 0;
  for (size_t t = 0; t < m; t++)
    for (size_t k = 0; k < K; k++) {
      double a;
      double r = ref_residual(X, Y, th, rows[t], k, &a);
      for (size_t j = 0; j < p; j++) {
        double x = gsl_matrix_get(X, rows[t], j);
        g[j * K + k] += x * r;
        gb[j * K + k] += fabs(x) * a;
      }
    }
  for (size_t q = 0; q < p * K; q++) {
    g[q] /= (double)m;
    gb[q] *= gamma_q((double)(m + p) + 3) / (double)m;
  }
}

/* hv = (1/m) X_bᵀ(X_b V).  hb receives γ_{m+p+2}·(1/m)(|X_b|ᵀ|X_b||V|), the
 * bound for the two nested sums and the scaling.  When absv is not NULL it
 * receives (1/m)|X_b|ᵀ|X_b||V| itself (the entrywise-absolute Hessian
 * applied to |V|). */
static void ref_hvp(const gsl_matrix *X, size_t K, const size_t *rows, size_t m,
                    const double *v, double *hv, double *hb, double *absv) {
  const size_t p = X->size2;
  for (size_t q = 0; q < p * K; q++)
    hv[q] = hb[q] = 0;
  for (size_t t = 0; t < m; t++)
    for (size_t k = 0; k < K; k++) {
      double s = 0, sa = 0;
      for (size_t l = 0; l < p; l++) {
        s += gsl_matrix_get(X, rows[t], l) * v[l * K + k];
        sa += fabs(gsl_matrix_get(X, rows[t], l) * v[l * K + k]);
      }
      for (size_t j = 0; j < p; j++) {
        double x = gsl_matrix_get(X, rows[t], j);
        hv[j * K + k] += x * s;
        hb[j * K + k] += fabs(x) * sa;
      }
    }
  for (size_t q = 0; q < p * K; q++) {
    hv[q] /= (double)m;
    hb[q] /= (double)m;
    if (absv)
      absv[q] = hb[q];
    hb[q] *= gamma_q((double)(m + p) + 2);
  }
}

/* The rows 0..n-1, i.e. the whole training set. */
static size_t *all_rows(size_t n) {
  size_t *r = malloc(n * sizeof *r);
  for (size_t i = 0; i < n; i++)
    r[i] = i;
  return r;
}

/* A vector of independent N(0, 1) entries. */
static gsl_vector *gaussian_vector(size_t len, unsigned long seed) {
  gsl_matrix *g = ir_test_gaussian(len, 1, seed);
  gsl_vector *v = gsl_vector_alloc(len);
  for (size_t i = 0; i < len; i++)
    gsl_vector_set(v, i, gsl_matrix_get(g, i, 0));
  gsl_matrix_free(g);
  return v;
}

/* ---- Fixture: Gaussian data, one model per output count ------------------ */

typedef struct {
  size_t n, p, K;
  gsl_matrix *X, *Y;
  ir_model *m;
  gsl_vector *theta;
} problem;

static problem problem_make(size_t n, size_t p, size_t K, unsigned long seed) {
  problem P;
  P.n = n;
  P.p = p;
  P.K = K;
  P.X = ir_test_gaussian(n, p, seed);
  P.Y = ir_test_gaussian(n, K, seed + 100);
  P.m = ir_model_linear_alloc(P.X, P.Y);
  ck_assert_ptr_nonnull(P.m);
  P.theta = gaussian_vector(p * K, seed + 200);
  return P;
}

static void problem_free(problem *P) {
  ir_model_free(P->m);
  gsl_matrix_free(P->X);
  gsl_matrix_free(P->Y);
  gsl_vector_free(P->theta);
}

/* ---- Full-batch loss, gradient and structure ----------------------------- */

START_TEST(test_model_fields) {
  const size_t K = K_VALUES[_i];
  problem P = problem_make(N_ROWS, N_IN, K, 1);
  ck_assert_uint_eq(P.m->nparams, N_IN * K);
  ck_assert_uint_eq(P.m->nsamples, N_ROWS);
  ck_assert_uint_eq(P.m->nin, N_IN);
  ck_assert_uint_eq(P.m->nout, K);
  ck_assert_ptr_nonnull(P.m->ops);
  ck_assert_ptr_nonnull(P.m->loss_name);
  problem_free(&P);
}
END_TEST

START_TEST(test_loss_grad_naive) {
  const size_t K = K_VALUES[_i];
  problem P = problem_make(N_ROWS, N_IN, K, 2);
  size_t *rows = all_rows(P.n);
  double bound, lref = ref_loss(P.X, P.Y, P.theta->data, rows, P.n, &bound);
  double gref[N_IN * 3], gb[N_IN * 3];
  ref_grad(P.X, P.Y, P.theta->data, rows, P.n, gref, gb);

  double loss = -1, loss_only = -1;
  gsl_vector *g = gsl_vector_alloc(P.p * K);
  IR_ASSERT_OK(ir_model_loss_grad(P.m, P.theta, NULL, 0, &loss, g));
  IR_ASSERT_OK(ir_model_loss_grad(P.m, P.theta, NULL, 0, &loss_only, NULL));
  /* Two evaluations, each within the bound of the exact value. */
  IR_ASSERT_CLOSE(loss, lref, 0.0, 2 * bound);
  IR_ASSERT_CLOSE(loss_only, lref, 0.0, 2 * bound);
  for (size_t q = 0; q < P.p * K; q++)
    IR_ASSERT_CLOSE(gsl_vector_get(g, q), gref[q], 0.0, 2 * gb[q]);
  gsl_vector_free(g);
  free(rows);
  problem_free(&P);
}
END_TEST

START_TEST(test_grad_finite_differences) {
  const size_t K = K_VALUES[_i];
  problem P = problem_make(N_ROWS, N_IN, K, 3);
  size_t *rows = all_rows(P.n);
  gsl_vector *g = gsl_vector_alloc(P.p * K);
  double loss;
  IR_ASSERT_OK(ir_model_loss_grad(P.m, P.theta, NULL, 0, &loss, g));
  double gref[N_IN * 3], gb[N_IN * 3];
  ref_grad(P.X, P.Y, P.theta->data, rows, P.n, gref, gb);
  gsl_vector *tp = gsl_vector_alloc(P.p * K);
  for (size_t j = 0; j < P.p * K; j++) {
    const double tj = gsl_vector_get(P.theta, j);
    const double h = 1e-6 * fmax(1.0, fabs(tj));
    gsl_vector_memcpy(tp, P.theta);
    gsl_vector_set(tp, j, tj + h);
    double lp, lm, bp, bm;
    IR_ASSERT_OK(ir_model_loss_grad(P.m, tp, NULL, 0, &lp, NULL));
    ref_loss(P.X, P.Y, tp->data, rows, P.n, &bp);
    const double up = gsl_vector_get(tp, j);
    gsl_vector_set(tp, j, tj - h);
    IR_ASSERT_OK(ir_model_loss_grad(P.m, tp, NULL, 0, &lm, NULL));
    ref_loss(P.X, P.Y, tp->data, rows, P.n, &bm);
    const double um = gsl_vector_get(tp, j);
    /* Divide by the step actually taken (θ_j ± h is rounded). */
    const double fd = (lp - lm) / (up - um);
    /* Truncation: the central difference errs by (h²/6)·∂³L/∂θ_j³, which
     * is zero because L is quadratic.  Rounding: each loss is within its
     * bound bp, bm of the exact value, which moves the quotient by at most
     * (bp + bm)/(up − um) ≈ 1e-9 here; the gradient itself is within gb[j];
     * the subtraction and division add a few units in the last place. */
    const double atol = (bp + bm) / (up - um) + gb[j];
    IR_ASSERT_CLOSE(gsl_vector_get(g, j), fd, 4 * DBL_EPSILON, atol);
  }
  gsl_vector_free(tp);
  gsl_vector_free(g);
  free(rows);
  problem_free(&P);
}
END_TEST

/* ---- Hessian-vector products --------------------------------------------- */

START_TEST(test_hvp_closed_form) {
  const size_t K = K_VALUES[_i];
  problem P = problem_make(N_ROWS, N_IN, K, 4);
  size_t *rows = all_rows(P.n);
  gsl_vector *v = gaussian_vector(P.p * K, 44);
  gsl_vector *hv = gsl_vector_alloc(P.p * K);
  gsl_vector *hv2 = gsl_vector_alloc(P.p * K);
  gsl_vector *other = gaussian_vector(P.p * K, 45);
  double ref[N_IN * 3], hb[N_IN * 3];
  ref_hvp(P.X, K, rows, P.n, v->data, ref, hb, NULL);
  IR_ASSERT_OK(ir_model_hvp(P.m, P.theta, NULL, 0, v, hv));
  /* The closed form (1/m)XᵀXv by loops. */
  for (size_t q = 0; q < P.p * K; q++)
    IR_ASSERT_CLOSE(gsl_vector_get(hv, q), ref[q], 0.0, 2 * hb[q]);
  /* The Hessian of a quadratic is the same at every θ. */
  IR_ASSERT_OK(ir_model_hvp(P.m, other, NULL, 0, v, hv2));
  for (size_t q = 0; q < P.p * K; q++)
    IR_ASSERT_CLOSE(gsl_vector_get(hv2, q), ref[q], 0.0, 2 * hb[q]);
  gsl_vector_free(v);
  gsl_vector_free(hv);
  gsl_vector_free(hv2);
  gsl_vector_free(other);
  free(rows);
  problem_free(&P);
}
END_TEST

START_TEST(test_hvp_finite_differences) {
  const size_t K = K_VALUES[_i];
  problem P = problem_make(N_ROWS, N_IN, K, 5);
  const size_t d = P.p * K;
  size_t *rows = all_rows(P.n);
  gsl_vector *v = gaussian_vector(d, 55);
  gsl_vector *hv = gsl_vector_alloc(d);
  IR_ASSERT_OK(ir_model_hvp(P.m, P.theta, NULL, 0, v, hv));
  double ref[N_IN * 3], hb[N_IN * 3];
  ref_hvp(P.X, K, rows, P.n, v->data, ref, hb, NULL);

  /* The step moves θ by 1e-6·max(1, ‖θ‖∞) in the largest coordinate. */
  const double h =
      1e-6 *
      fmax(1.0, fabs(gsl_vector_get(P.theta, gsl_blas_idamax(P.theta)))) /
      fabs(gsl_vector_get(v, gsl_blas_idamax(v)));
  gsl_vector *tp = gsl_vector_alloc(d), *tm = gsl_vector_alloc(d);
  gsl_vector *gp = gsl_vector_alloc(d), *gm = gsl_vector_alloc(d);
  gsl_vector_memcpy(tp, P.theta);
  gsl_blas_daxpy(h, v, tp);
  gsl_vector_memcpy(tm, P.theta);
  gsl_blas_daxpy(-h, v, tm);
  double lp, lm;
  IR_ASSERT_OK(ir_model_loss_grad(P.m, tp, NULL, 0, &lp, gp));
  IR_ASSERT_OK(ir_model_loss_grad(P.m, tm, NULL, 0, &lm, gm));
  double gref[N_IN * 3], gbp[N_IN * 3], gbm[N_IN * 3];
  ref_grad(P.X, P.Y, tp->data, rows, P.n, gref, gbp);
  ref_grad(P.X, P.Y, tm->data, rows, P.n, gref, gbm);
  /* |θ+| + |θ−|: rounding θ ± hv moves each coordinate by at most u times
   * its size, which moves the gradient by the absolute Hessian times that. */
  double absth[N_IN * 3] = {0}, habs[N_IN * 3] = {0};
  double unused[N_IN * 3], unused2[N_IN * 3];
  for (size_t q = 0; q < d; q++)
    absth[q] = fabs(gsl_vector_get(tp, q)) + fabs(gsl_vector_get(tm, q));
  ref_hvp(P.X, K, rows, P.n, absth, unused, unused2, habs);
  for (size_t q = 0; q < d; q++) {
    const double fd = (gsl_vector_get(gp, q) - gsl_vector_get(gm, q)) / (2 * h);
    /* The gradient is affine in θ, so the central difference has no
     * truncation error; what remains is the gradients' rounding
     * (gbp + gbm)/(2h), the rounding of θ ± hv, u·habs/(2h), and the HVP's
     * own rounding hb. */
    const double atol =
        (gbp[q] + gbm[q]) / (2 * h) + UNIT_ROUNDOFF * habs[q] / (2 * h) + hb[q];
    IR_ASSERT_CLOSE(gsl_vector_get(hv, q), fd, 4 * DBL_EPSILON, atol);
  }
  gsl_vector_free(tp);
  gsl_vector_free(tm);
  gsl_vector_free(gp);
  gsl_vector_free(gm);
  gsl_vector_free(v);
  gsl_vector_free(hv);
  free(rows);
  problem_free(&P);
}
END_TEST

START_TEST(test_hvp_symmetric) {
  const size_t K = K_VALUES[_i];
  problem P = problem_make(N_ROWS, N_IN, K, 6);
  const size_t d = P.p * K;
  size_t *rows = all_rows(P.n);
  gsl_vector *u = gaussian_vector(d, 61), *v = gaussian_vector(d, 62);
  gsl_vector *hu = gsl_vector_alloc(d), *hv = gsl_vector_alloc(d);
  IR_ASSERT_OK(ir_model_hvp(P.m, P.theta, NULL, 0, u, hu));
  IR_ASSERT_OK(ir_model_hvp(P.m, P.theta, NULL, 0, v, hv));
  double r1[N_IN * 3], hbu[N_IN * 3], hbv[N_IN * 3];
  ref_hvp(P.X, K, rows, P.n, u->data, r1, hbu, NULL);
  ref_hvp(P.X, K, rows, P.n, v->data, r1, hbv, NULL);
  double uHv, vHu;
  gsl_blas_ddot(u, hv, &uHv);
  gsl_blas_ddot(v, hu, &vHu);
  /* In exact arithmetic uᵀHv = vᵀHu.  Each computed HVP is within hb of
   * the exact one, and each dot product of length d adds γ_d·Σ|terms|. */
  double tol = 0;
  for (size_t q = 0; q < d; q++)
    tol += fabs(gsl_vector_get(u, q)) * hbv[q] +
           fabs(gsl_vector_get(v, q)) * hbu[q] +
           gamma_q((double)d) *
               (fabs(gsl_vector_get(u, q) * gsl_vector_get(hv, q)) +
                fabs(gsl_vector_get(v, q) * gsl_vector_get(hu, q)));
  IR_ASSERT_CLOSE(uHv, vHu, 0.0, tol);
  gsl_vector_free(u);
  gsl_vector_free(v);
  gsl_vector_free(hu);
  gsl_vector_free(hv);
  free(rows);
  problem_free(&P);
}
END_TEST

/* ---- Mini-batches -------------------------------------------------------- */

/* Checks the model's loss, gradient and HVP on the batch idx[0..nb) against
 * (a) the naive references on those rows and (b) a second model built by
 * hand on the gathered rows X[idx], Y[idx] and evaluated on its full set. */
static void check_batch(problem *P, const size_t *idx, size_t nb) {
  const size_t d = P->p * P->K;
  gsl_matrix *Xs = gsl_matrix_alloc(nb, P->p), *Ys = gsl_matrix_alloc(nb, P->K);
  for (size_t t = 0; t < nb; t++) {
    for (size_t j = 0; j < P->p; j++)
      gsl_matrix_set(Xs, t, j, gsl_matrix_get(P->X, idx[t], j));
    for (size_t k = 0; k < P->K; k++)
      gsl_matrix_set(Ys, t, k, gsl_matrix_get(P->Y, idx[t], k));
  }
  ir_model *ms = ir_model_linear_alloc(Xs, Ys);
  ck_assert_ptr_nonnull(ms);
  gsl_vector *g = gsl_vector_alloc(d), *gs = gsl_vector_alloc(d);
  gsl_vector *v = gaussian_vector(d, 77);
  gsl_vector *hv = gsl_vector_alloc(d), *hvs = gsl_vector_alloc(d);
  double loss, loss_s;
  IR_ASSERT_OK(ir_model_loss_grad(P->m, P->theta, idx, nb, &loss, g));
  IR_ASSERT_OK(ir_model_loss_grad(ms, P->theta, NULL, 0, &loss_s, gs));
  IR_ASSERT_OK(ir_model_hvp(P->m, P->theta, idx, nb, v, hv));
  IR_ASSERT_OK(ir_model_hvp(ms, P->theta, NULL, 0, v, hvs));

  double bound, lref = ref_loss(P->X, P->Y, P->theta->data, idx, nb, &bound);
  double *gref = malloc(d * sizeof(double)), *gb = malloc(d * sizeof(double));
  double *href = malloc(d * sizeof(double)), *hb = malloc(d * sizeof(double));
  ref_grad(P->X, P->Y, P->theta->data, idx, nb, gref, gb);
  ref_hvp(P->X, P->K, idx, nb, v->data, href, hb, NULL);
  /* Every pair of evaluations of the same quantity is within twice the
   * one-evaluation bound. */
  IR_ASSERT_CLOSE(loss, lref, 0.0, 2 * bound);
  IR_ASSERT_CLOSE(loss, loss_s, 0.0, 2 * bound);
  for (size_t q = 0; q < d; q++) {
    IR_ASSERT_CLOSE(gsl_vector_get(g, q), gref[q], 0.0, 2 * gb[q]);
    IR_ASSERT_CLOSE(gsl_vector_get(g, q), gsl_vector_get(gs, q), 0.0,
                    2 * gb[q]);
    IR_ASSERT_CLOSE(gsl_vector_get(hv, q), href[q], 0.0, 2 * hb[q]);
    IR_ASSERT_CLOSE(gsl_vector_get(hv, q), gsl_vector_get(hvs, q), 0.0,
                    2 * hb[q]);
  }
  free(gref);
  free(gb);
  free(href);
  free(hb);
  gsl_vector_free(g);
  gsl_vector_free(gs);
  gsl_vector_free(v);
  gsl_vector_free(hv);
  gsl_vector_free(hvs);
  ir_model_free(ms);
  gsl_matrix_free(Xs);
  gsl_matrix_free(Ys);
}

/* Checks the full-batch loss and gradient against the references. */
static void check_full(problem *P) {
  size_t *rows = all_rows(P->n);
  const size_t d = P->p * P->K;
  double bound, lref = ref_loss(P->X, P->Y, P->theta->data, rows, P->n, &bound);
  double *gref = malloc(d * sizeof(double)), *gb = malloc(d * sizeof(double));
  ref_grad(P->X, P->Y, P->theta->data, rows, P->n, gref, gb);
  gsl_vector *g = gsl_vector_alloc(d);
  double loss;
  IR_ASSERT_OK(ir_model_loss_grad(P->m, P->theta, NULL, 0, &loss, g));
  IR_ASSERT_CLOSE(loss, lref, 0.0, 2 * bound);
  for (size_t q = 0; q < d; q++)
    IR_ASSERT_CLOSE(gsl_vector_get(g, q), gref[q], 0.0, 2 * gb[q]);
  gsl_vector_free(g);
  free(gref);
  free(gb);
  free(rows);
}

START_TEST(test_batch_subset) {
  problem P = problem_make(N_ROWS, N_IN, K_VALUES[_i], 7);
  const size_t idx[] = {5, 0, 3};
  check_batch(&P, idx, 3);
  /* A single row, and every row in shuffled order (the full loss). */
  const size_t one[] = {6};
  check_batch(&P, one, 1);
  const size_t perm[N_ROWS] = {4, 2, 6, 0, 1, 5, 3};
  check_batch(&P, perm, N_ROWS);
  problem_free(&P);
}
END_TEST

START_TEST(test_batch_repeats) {
  /* Sampling with replacement: a row drawn three times counts three
   * times, exactly as three copies of it in the data. */
  problem P = problem_make(N_ROWS, N_IN, K_VALUES[_i], 8);
  const size_t idx[] = {2, 2, 2, 6};
  check_batch(&P, idx, 4);
  problem_free(&P);
}
END_TEST

START_TEST(test_batch_larger_than_n) {
  /* Batches of 3n and 6n rows exceed both n (so residuals cannot live in
   * an n-row scratch) and the model's initial capacity, and the small
   * batches and full evaluations in between check that regrown scratch
   * leaves no stale rows behind. */
  problem P = problem_make(N_ROWS, N_IN, K_VALUES[_i], 9);
  gsl_matrix *X0 = gsl_matrix_alloc(P.n, P.p), *Y0 = gsl_matrix_alloc(P.n, P.K);
  gsl_matrix_memcpy(X0, P.X);
  gsl_matrix_memcpy(Y0, P.Y);
  size_t big[6 * N_ROWS];
  for (size_t t = 0; t < 6 * N_ROWS; t++)
    big[t] = (t * 3 + t / 5) % N_ROWS;
  const size_t small[] = {1, 4};
  check_batch(&P, small, 2);
  check_batch(&P, big, 3 * N_ROWS);
  check_full(&P);
  check_batch(&P, small, 2);
  check_batch(&P, big, 6 * N_ROWS);
  check_full(&P);
  /* The model borrows X and Y: no evaluation may write into them. */
  ck_assert(gsl_matrix_equal(X0, P.X));
  ck_assert(gsl_matrix_equal(Y0, P.Y));
  gsl_matrix_free(X0);
  gsl_matrix_free(Y0);
  problem_free(&P);
}
END_TEST

START_TEST(test_strided_data) {
  /* X and Y as views inside wider matrices (row stride tda > columns), the
   * way a feature prefix of a larger bank is passed. */
  const size_t K = K_VALUES[_i];
  gsl_matrix *Xw = ir_test_gaussian(N_ROWS, N_IN + 3, 10);
  gsl_matrix *Yw = ir_test_gaussian(N_ROWS, K + 2, 110);
  gsl_matrix_view Xv = gsl_matrix_submatrix(Xw, 0, 1, N_ROWS, N_IN);
  gsl_matrix_view Yv = gsl_matrix_submatrix(Yw, 0, 2, N_ROWS, K);
  problem P;
  P.n = N_ROWS;
  P.p = N_IN;
  P.K = K;
  P.X = &Xv.matrix;
  P.Y = &Yv.matrix;
  P.m = ir_model_linear_alloc(P.X, P.Y);
  ck_assert_ptr_nonnull(P.m);
  P.theta = gaussian_vector(N_IN * K, 210);
  check_full(&P);
  const size_t idx[] = {6, 1, 1, 3};
  check_batch(&P, idx, 4);
  ir_model_free(P.m);
  gsl_vector_free(P.theta);
  gsl_matrix_free(Xw);
  gsl_matrix_free(Yw);
}
END_TEST

/* ---- Errors -------------------------------------------------------------- */

START_TEST(test_batch_index_out_of_range) {
  problem P = problem_make(N_ROWS, N_IN, K_VALUES[_i], 11);
  gsl_vector *g = gsl_vector_alloc(P.p * P.K),
             *hv = gsl_vector_alloc(P.p * P.K);
  const size_t bad[] = {0, N_ROWS, 2};
  double loss;
  ir_error_clear();
  ck_assert_int_eq(ir_model_loss_grad(P.m, P.theta, bad, 3, &loss, g),
                   IR_EINVAL);
  ck_assert_str_ne(ir_error_message(), "");
  ck_assert_int_eq(ir_model_hvp(P.m, P.theta, bad, 3, P.theta, hv), IR_EINVAL);
  const size_t huge[] = {(size_t)-1};
  ck_assert_int_eq(ir_model_loss_grad(P.m, P.theta, huge, 1, &loss, NULL),
                   IR_EINVAL);
  /* An empty batch has no mean. */
  const size_t ok[] = {0};
  ck_assert_int_eq(ir_model_loss_grad(P.m, P.theta, ok, 0, &loss, g),
                   IR_EINVAL);
  gsl_vector_free(g);
  gsl_vector_free(hv);
  problem_free(&P);
}
END_TEST

START_TEST(test_wrong_lengths) {
  problem P = problem_make(N_ROWS, N_IN, K_VALUES[_i], 12);
  const size_t d = P.p * P.K;
  gsl_vector *shortv = gsl_vector_alloc(d - 1),
             *longv = gsl_vector_alloc(d + 1);
  gsl_vector *g = gsl_vector_alloc(d), *hv = gsl_vector_alloc(d);
  double loss;
  ck_assert_int_eq(ir_model_loss_grad(P.m, shortv, NULL, 0, &loss, g),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_model_loss_grad(P.m, longv, NULL, 0, &loss, NULL),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_model_loss_grad(P.m, P.theta, NULL, 0, &loss, longv),
                   IR_ESHAPE);
  ck_assert_int_eq(ir_model_hvp(P.m, shortv, NULL, 0, P.theta, hv), IR_ESHAPE);
  ck_assert_int_eq(ir_model_hvp(P.m, P.theta, NULL, 0, shortv, hv), IR_ESHAPE);
  ck_assert_int_eq(ir_model_hvp(P.m, P.theta, NULL, 0, P.theta, longv),
                   IR_ESHAPE);
  gsl_matrix *out = gsl_matrix_alloc(P.n, P.K);
  ck_assert_int_eq(ir_model_predict(P.m, longv, P.X, out), IR_ESHAPE);
  gsl_vector_free(shortv);
  gsl_vector_free(longv);
  gsl_vector_free(g);
  gsl_vector_free(hv);
  gsl_matrix_free(out);
  problem_free(&P);
}
END_TEST

START_TEST(test_rows_mismatch) {
  gsl_matrix *X = ir_test_gaussian(7, 3, 13);
  gsl_matrix *Y = ir_test_gaussian(13, 2, 14);
  ir_error_clear();
  ck_assert_ptr_null(ir_model_linear_alloc(X, Y));
  /* The message says what did not match: both row counts appear. */
  const char *msg = ir_error_message();
  ck_assert_ptr_nonnull(strstr(msg, "7"));
  ck_assert_ptr_nonnull(strstr(msg, "13"));
  ir_model_free(NULL);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* ---- Prediction ---------------------------------------------------------- */

START_TEST(test_predict) {
  const size_t K = K_VALUES[_i];
  problem P = problem_make(N_ROWS, N_IN, K, 15);
  enum { NTEST = 5 };
  gsl_matrix *Xt = ir_test_gaussian(NTEST, N_IN, 16);
  gsl_matrix *out = gsl_matrix_alloc(NTEST, K);
  IR_ASSERT_OK(ir_model_predict(P.m, P.theta, Xt, out));
  for (size_t i = 0; i < NTEST; i++)
    for (size_t k = 0; k < K; k++) {
      double s = 0, a = 0;
      for (size_t j = 0; j < N_IN; j++) {
        double t =
            gsl_matrix_get(Xt, i, j) * gsl_vector_get(P.theta, j * K + k);
        s += t;
        a += fabs(t);
      }
      /* Two sums of p products, each within γ_p·Σ|terms|. */
      IR_ASSERT_CLOSE(gsl_matrix_get(out, i, k), s, 0.0, 2 * gamma_q(N_IN) * a);
    }
  /* Inputs with the wrong width, or outputs of the wrong shape. */
  gsl_matrix *Xbad = gsl_matrix_calloc(NTEST, N_IN + 1);
  gsl_matrix *out_rows = gsl_matrix_alloc(NTEST + 1, K);
  gsl_matrix *out_cols = gsl_matrix_alloc(NTEST, K + 1);
  ck_assert_int_eq(ir_model_predict(P.m, P.theta, Xbad, out), IR_ESHAPE);
  ck_assert_int_eq(ir_model_predict(P.m, P.theta, Xt, out_rows), IR_ESHAPE);
  ck_assert_int_eq(ir_model_predict(P.m, P.theta, Xt, out_cols), IR_ESHAPE);
  gsl_matrix_free(Xbad);
  gsl_matrix_free(out_rows);
  gsl_matrix_free(out_cols);
  gsl_matrix_free(Xt);
  gsl_matrix_free(out);
  problem_free(&P);
}
END_TEST

/* ---- One sample ---------------------------------------------------------- */

START_TEST(test_one_sample) {
  /* n = 1, p = 3, K = 2 with small integers: L = ½‖xᵀW − y‖²,
   * ∇L = x rᵀ, HV = x (xᵀV).  Every intermediate value is an integer (or
   * half an integer) below 2⁵³, so the results are exact. */
  gsl_matrix *X = gsl_matrix_alloc(1, 3), *Y = gsl_matrix_alloc(1, 2);
  const double x[3] = {1, -2, 3}, y[2] = {4, -1};
  const double W[6] = {2, 0, 1, -1, -1, 1}; /* W_jk = W[j·2 + k] */
  for (size_t j = 0; j < 3; j++)
    gsl_matrix_set(X, 0, j, x[j]);
  for (size_t k = 0; k < 2; k++)
    gsl_matrix_set(Y, 0, k, y[k]);
  ir_model *m = ir_model_linear_alloc(X, Y);
  ck_assert_ptr_nonnull(m);
  gsl_vector_const_view th = gsl_vector_const_view_array(W, 6);
  /* xᵀW = (2 − 2 − 3, 0 + 2 + 3) = (−3, 5); r = (−7, 6); L = (49 + 36)/2. */
  const double r[2] = {-7, 6};
  gsl_vector *g = gsl_vector_alloc(6);
  double loss;
  IR_ASSERT_OK(ir_model_loss_grad(m, &th.vector, NULL, 0, &loss, g));
  ck_assert(loss == 42.5);
  for (size_t j = 0; j < 3; j++)
    for (size_t k = 0; k < 2; k++)
      ck_assert(gsl_vector_get(g, j * 2 + k) == x[j] * r[k]);
  /* V = W: xᵀV = (−3, 5), so HV_jk = x_j·(−3, 5)_k. */
  const double xv[2] = {-3, 5};
  gsl_vector *hv = gsl_vector_alloc(6);
  IR_ASSERT_OK(ir_model_hvp(m, &th.vector, NULL, 0, &th.vector, hv));
  for (size_t j = 0; j < 3; j++)
    for (size_t k = 0; k < 2; k++)
      ck_assert(gsl_vector_get(hv, j * 2 + k) == x[j] * xv[k]);
  /* The only valid batch index is 0, drawn any number of times. */
  const size_t idx[] = {0, 0, 0};
  double lb;
  IR_ASSERT_OK(ir_model_loss_grad(m, &th.vector, idx, 3, &lb, NULL));
  ck_assert(lb == 42.5);
  const size_t bad[] = {1};
  ck_assert_int_eq(ir_model_loss_grad(m, &th.vector, bad, 1, &lb, NULL),
                   IR_EINVAL);
  gsl_vector_free(g);
  gsl_vector_free(hv);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

static Suite *model_suite(void) {
  Suite *s = suite_create("model");
  const int nk = (int)(sizeof K_VALUES / sizeof K_VALUES[0]);
  /* Loop tests run once per output count K in K_VALUES (_i indexes it). */
  TCase *tc = tcase_create("full");
  tcase_add_loop_test(tc, test_model_fields, 0, nk);
  tcase_add_loop_test(tc, test_loss_grad_naive, 0, nk);
  tcase_add_loop_test(tc, test_grad_finite_differences, 0, nk);
  suite_add_tcase(s, tc);

  tc = tcase_create("hvp");
  tcase_add_loop_test(tc, test_hvp_closed_form, 0, nk);
  tcase_add_loop_test(tc, test_hvp_finite_differences, 0, nk);
  tcase_add_loop_test(tc, test_hvp_symmetric, 0, nk);
  suite_add_tcase(s, tc);

  tc = tcase_create("batch");
  tcase_add_loop_test(tc, test_batch_subset, 0, nk);
  tcase_add_loop_test(tc, test_batch_repeats, 0, nk);
  tcase_add_loop_test(tc, test_batch_larger_than_n, 0, nk);
  tcase_add_loop_test(tc, test_strided_data, 0, nk);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_loop_test(tc, test_batch_index_out_of_range, 0, nk);
  tcase_add_loop_test(tc, test_wrong_lengths, 0, nk);
  tcase_add_test(tc, test_rows_mismatch);
  suite_add_tcase(s, tc);

  tc = tcase_create("predict");
  tcase_add_loop_test(tc, test_predict, 0, nk);
  tcase_add_test(tc, test_one_sample);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(model_suite());
}
