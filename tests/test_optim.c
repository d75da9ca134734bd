/* test_optim.c — GD, SGD and heavy ball on an underdetermined least-squares
 * problem (docs/theory.md §1): n = 20 samples, p = 50 Gaussian features, so the
 * minimizers form an affine space and the optimizers must pick the one the
 * theory predicts, X⁺y + (I − X⁺X)w₀.
 *
 * The references are computed without the optimizer and without an SVD:
 * X⁺y = Xᵀ(XXᵀ)⁻¹y by a Cholesky solve (XXᵀ is 20×20 and well conditioned,
 * κ ≈ ((√p + √n)/(√p − √n))² ≈ 20 in theory, 11 for this draw, so it
 * carries ~1e-15 relative error),
 * and the spectrum of the Hessian XᵀX/n from the eigenvalues of XXᵀ/n,
 * which has the same non-zero eigenvalues.
 *
 * Step budgets are derived from the contraction rates of the iteration with
 * margin 1e3 below the asserted accuracy, which covers the rounding floor
 * (about 1e-14 relative, docs/theory.md §1), instead of being tuned. */
#include "implreg/optim.h"

#include "implreg/model.h"
#include "implreg/rng.h"

#include "testutil.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <string.h>

enum { N = 20, P = 50 };

/* ---- Fixture ------------------------------------------------------------- */

static struct {
  gsl_matrix *X, *Y;
  ir_model *m;
  gsl_matrix *chol;  /* Cholesky factor of XXᵀ */
  gsl_vector *wstar; /* X⁺y */
  gsl_vector *eval;  /* eigenvalues of XXᵀ/n = non-zero ones of XᵀX/n */
  gsl_matrix *evec;  /* their eigenvectors (in sample space) */
  double lmax, lmin; /* largest and smallest non-zero Hessian eigenvalue */
  double rowmax;     /* max_i ‖x_i‖² */
} F;

/* w = Xᵀ(XXᵀ)⁻¹ b for b of length n: the minimum-norm solution of Xw = b. */
static void minnorm_solve(const gsl_vector *b, gsl_vector *w) {
  gsl_vector *z = gsl_vector_alloc(N);
  IR_ASSERT_OK(ir_status_from_gsl(gsl_linalg_cholesky_solve(F.chol, b, z)));
  gsl_blas_dgemv(CblasTrans, 1.0, F.X, z, 0.0, w);
  gsl_vector_free(z);
}

static void setup(void) {
  ir_error_install_gsl_handler();
  F.X = ir_test_gaussian(N, P, 2025);
  F.Y = ir_test_gaussian(N, 1, 2026);
  F.m = ir_model_linear_alloc(F.X, F.Y);
  ck_assert_ptr_nonnull(F.m);

  gsl_matrix *G = gsl_matrix_alloc(N, N);
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, F.X, F.X, 0.0, G);
  F.chol = gsl_matrix_alloc(N, N);
  gsl_matrix_memcpy(F.chol, G);
  IR_ASSERT_OK(ir_status_from_gsl(gsl_linalg_cholesky_decomp1(F.chol)));
  F.wstar = gsl_vector_alloc(P);
  gsl_vector_const_view y = gsl_matrix_const_column(F.Y, 0);
  minnorm_solve(&y.vector, F.wstar);

  gsl_matrix_scale(G, 1.0 / N);
  F.eval = gsl_vector_alloc(N);
  F.evec = gsl_matrix_alloc(N, N);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(N);
  IR_ASSERT_OK(ir_status_from_gsl(gsl_eigen_symmv(G, F.eval, F.evec, ws)));
  gsl_eigen_symmv_free(ws);
  gsl_matrix_free(G);
  F.lmax = gsl_vector_max(F.eval);
  F.lmin = gsl_vector_min(F.eval);
  ck_assert(F.lmin > 0);

  F.rowmax = 0;
  for (size_t i = 0; i < N; i++) {
    gsl_vector_const_view r = gsl_matrix_const_row(F.X, i);
    double nr = gsl_blas_dnrm2(&r.vector);
    F.rowmax = fmax(F.rowmax, nr * nr);
  }
}

static void teardown(void) {
  ir_model_free(F.m);
  gsl_matrix_free(F.X);
  gsl_matrix_free(F.Y);
  gsl_matrix_free(F.chol);
  gsl_vector_free(F.wstar);
  gsl_vector_free(F.eval);
  gsl_matrix_free(F.evec);
}

/* ---- Helpers ------------------------------------------------------------- */

/* ‖a − b‖ / ‖b‖. */
static double relerr(const gsl_vector *a, const gsl_vector *b) {
  gsl_vector *d = gsl_vector_alloc(a->size);
  gsl_vector_memcpy(d, a);
  gsl_vector_sub(d, b);
  double r = gsl_blas_dnrm2(d) / gsl_blas_dnrm2(b);
  gsl_vector_free(d);
  return r;
}

static int all_finite(const gsl_vector *v) {
  for (size_t i = 0; i < v->size; i++)
    if (!isfinite(gsl_vector_get(v, i)))
      return 0;
  return 1;
}

/* Steps t so that rate^t <= target, for 0 <= rate < 1. */
static size_t steps_for(double rate, double target) {
  if (rate <= 0)
    return 1;
  return (size_t)ceil(log(target) / log(rate));
}

/* The GD contraction factor max over the non-zero Hessian eigenvalues λ of
 * |1 − ηλ|: the error in the row space shrinks at least this fast. */
static double gd_rate(double lr) {
  double r = 0;
  for (size_t i = 0; i < N; i++)
    r = fmax(r, fabs(1 - lr * gsl_vector_get(F.eval, i)));
  return r;
}

static ir_optim_params params(double lr, size_t batch, size_t steps) {
  ir_optim_params p;
  ir_optim_params_default(&p);
  p.lr = lr;
  p.batch = batch;
  p.max_steps = steps;
  return p;
}

/* The step at which full-batch GD from 0 must report divergence.
 *
 * With e_t = w_t − X⁺y, the loss is L_t = Σ_i ½λ_i c_i² (1 − ηλ_i)^{2t}
 * over the Hessian's non-zero eigenpairs, c_i the components of e₀ = −X⁺y.
 * Keeping only the top term gives a lower bound ℓ(t) = top₀·g^{2t}
 * (g = |1 − ηλ_max| > 1, top₀ = ½λ_max c²), so L_t > ratio·L₀ as soon as
 * t > t_late = log(ratio·L₀/top₀)/(2 log g).  When every other direction
 * has |1 − ηλ_i| <= 1, its terms never grow, L_t <= ℓ(t) + (L₀ − top₀), and
 * L_t <= ratio·L₀ while t <= t_early = log(((ratio − 1)L₀ + top₀)/top₀) /
 * (2 log g).  The check at step t looks at θ_{t−1}, and diverged_at is the
 * index of the iterate that crossed, so ceil(t_early) <= diverged_at <=
 * ceil(t_late) (both computed with a relative margin 1e-9 on the loss,
 * far above the ~1e-13 rounding of the iterates).  Without the upper bound
 * (other directions growing too) *earliest is 0. */
static void divergence_window(double lr, double ratio, size_t *earliest,
                              size_t *latest) {
  size_t top = gsl_vector_max_index(F.eval);
  gsl_vector_const_view u = gsl_matrix_const_column(F.evec, top);
  gsl_vector_const_view y = gsl_matrix_const_column(F.Y, 0);
  /* L₀ = ‖y‖²/(2n).  The top right singular direction is v = Xᵀu/√(nλ),
   * and Xw* = y, so c = vᵀw* = uᵀy/√(nλ). */
  const double ny = gsl_blas_dnrm2(&y.vector), L0 = ny * ny / (2 * N);
  double uy;
  gsl_blas_ddot(&u.vector, &y.vector, &uy);
  const double top0 = 0.5 * F.lmax * uy * uy / (N * F.lmax);
  const double lg = 2 * log(fabs(1 - lr * F.lmax));
  ck_assert(lg > 0);
  const double t_late = log(ratio * (1 + 1e-9) * L0 / top0) / lg;
  *latest = t_late < 0 ? 0 : (size_t)ceil(t_late);
  int others_shrink = 1;
  for (size_t i = 0; i < N; i++)
    if (i != top && fabs(1 - lr * gsl_vector_get(F.eval, i)) > 1)
      others_shrink = 0;
  *earliest = 0;
  if (others_shrink) {
    const double t_early =
        log(((ratio * (1 - 1e-9) - 1) * L0 + top0) / top0) / lg;
    *earliest = t_early < 0 ? 0 : (size_t)ceil(t_early);
  }
}

/* ---- Gradient descent: implicit bias ------------------------------------- */

START_TEST(test_gd_from_zero_minnorm) {
  const double lr = 1.0 / F.lmax;
  /* With η = 1/λ_max every row-space direction contracts by
   * 1 − ηλ ∈ [0, 1 − ηλ_min]; the error starts at ‖X⁺y‖. */
  const size_t T = steps_for(1 - lr * F.lmin, 1e-13);
  ir_optim_params p = params(lr, 0, T);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.reason, IR_OPTIM_MAX_STEPS);
  ck_assert_int_eq(res.diverged, 0);
  ck_assert_uint_eq(res.steps, T);
  ck_assert_msg(relerr(w, F.wstar) <= 1e-10, "rel err %g after %zu steps",
                relerr(w, F.wstar), T);
  /* L(0) = ‖y‖²/(2n), a sum of n squares within γ_n of the exact value. */
  gsl_vector_const_view y = gsl_matrix_const_column(F.Y, 0);
  double ny = gsl_blas_dnrm2(&y.vector);
  IR_ASSERT_CLOSE(res.initial_loss, ny * ny / (2 * N), 4 * N * DBL_EPSILON,
                  0.0);
  /* L(w) = ½eᵀ(XᵀX/n)e <= ½λ_max‖e‖² <= ½λ_max·1e-20‖w*‖², and
   * L(0) >= ½λ_min‖w*‖², so L/L₀ <= κ·1e-20 ≈ 1e-19 (κ ≈ 11); the
   * rounding floor of the residuals (≈ p·u·|x||w| ≈ 1e-14 each) squared is
   * far lower.  The bound 1e-16 leaves a factor of about 1e3 for it. */
  ck_assert_msg(res.final_loss <= 1e-16 * res.initial_loss, "final %g",
                res.final_loss);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_gd_from_random_keeps_nullspace) {
  const double lr = 1.0 / F.lmax;
  gsl_matrix *g = ir_test_gaussian(P, 1, 77);
  gsl_vector_view w0 = gsl_matrix_column(g, 0);
  /* Target X⁺y + (I − X⁺X)w₀ = X⁺y + w₀ − Xᵀ(XXᵀ)⁻¹Xw₀. */
  gsl_vector *xw0 = gsl_vector_alloc(N), *proj = gsl_vector_alloc(P);
  gsl_vector *target = gsl_vector_alloc(P);
  gsl_blas_dgemv(CblasNoTrans, 1.0, F.X, &w0.vector, 0.0, xw0);
  minnorm_solve(xw0, proj);
  gsl_vector_memcpy(target, F.wstar);
  gsl_vector_add(target, &w0.vector);
  gsl_vector_sub(target, proj);
  /* The initial error w₀ − target = X⁺Xw₀ − X⁺y lies in the row space and
   * contracts at 1 − ηλ_min per step; aim 1e3 below the asserted 1e-10. */
  gsl_vector *e0 = gsl_vector_alloc(P);
  gsl_vector_memcpy(e0, &w0.vector);
  gsl_vector_sub(e0, target);
  const double ratio = gsl_blas_dnrm2(e0) / gsl_blas_dnrm2(target);
  const size_t T = steps_for(1 - lr * F.lmin, 1e-13 / ratio);

  ir_optim_params p = params(lr, 0, T);
  gsl_vector *w = gsl_vector_alloc(P);
  gsl_vector_memcpy(w, &w0.vector);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.diverged, 0);
  ck_assert_msg(relerr(w, target) <= 1e-10, "rel err %g", relerr(w, target));
  /* And it is not the minimum-norm solution: w₀ left a null-space part. */
  ck_assert(relerr(w, F.wstar) > 1e-3);
  gsl_vector_free(xw0);
  gsl_vector_free(proj);
  gsl_vector_free(target);
  gsl_vector_free(e0);
  gsl_vector_free(w);
  gsl_matrix_free(g);
}
END_TEST

/* ---- SGD: same limit ----------------------------------------------------- */

/* Batch sizes: 1, n/4 = 5, and 7, which does not divide n (so each epoch
 * ends with a short batch of 6). */
static const size_t SGD_BATCH[] = {1, N / 4, 7};

START_TEST(test_sgd_minnorm) {
  /* _i enumerates batch size × {without, with} replacement. */
  const size_t batch = SGD_BATCH[_i / 2];
  const int replacement = _i % 2;
  /* Step: every batch Hessian H_b = (1/B)Σ_{i∈b} x_i x_iᵀ has
   * λ_max(H_b) <= max_i ‖x_i‖², so η = 1/max_i‖x_i‖² gives 0 ≼ ηH_b ≼ I.
   * Budget: then (I − ηH_b)² ≼ I − ηH_b, so for batches drawn uniformly
   * with replacement E‖e_{t+1}‖² <= eᵀ(I − η·XᵀX/n)e <= (1 − ηλ_min)‖e‖²
   * on the row space.  After T steps with (1 − ηλ_min)^T <= 1e-22,
   * Markov's inequality puts ‖e_T‖/‖X⁺y‖ > 1e-8 at probability <= 1e-6.
   * Without replacement each sample is used once per epoch (random
   * reshuffling), which for consistent least squares converges at least as
   * fast in practice; the same budget is used.  About 1e4 steps. */
  const double lr = 1.0 / F.rowmax;
  const size_t T = steps_for(1 - lr * F.lmin, 1e-22);
  ir_optim_params p = params(lr, batch, T);
  p.replacement = replacement;
  p.seed = 7;
  p.stream = ir_rng_stream(IR_STREAM_SGD, batch, (uint64_t)replacement);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.diverged, 0);
  ck_assert_uint_eq(res.steps, T);
  ck_assert_msg(relerr(w, F.wstar) <= 1e-8,
                "batch %zu, replacement %d: rel err %g after %zu steps", batch,
                replacement, relerr(w, F.wstar), T);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_full_batch_sizes_are_gd) {
  /* batch = 0 and batch >= n both mean full-batch GD: the same arithmetic,
   * so bit-identical iterates, whatever the replacement flag. */
  const double lr = 1.0 / F.lmax;
  const size_t batches[] = {0, N, 3 * N};
  gsl_vector *ref = gsl_vector_calloc(P), *w = gsl_vector_alloc(P);
  ir_optim_result res;
  ir_optim_params p = params(lr, 0, 40);
  IR_ASSERT_OK(ir_optim_run(F.m, &p, ref, NULL, NULL, &res));
  for (size_t b = 0; b < 3; b++)
    for (int repl = 0; repl < 2; repl++) {
      p = params(lr, batches[b], 40);
      p.replacement = repl;
      gsl_vector_set_zero(w);
      IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
      ck_assert(memcmp(w->data, ref->data, P * sizeof(double)) == 0);
    }
  gsl_vector_free(ref);
  gsl_vector_free(w);
}
END_TEST

/* A model that forwards to another one and logs the mini-batches it is
 * asked about, to check the batch schedule through the public interface. */
typedef struct {
  ir_model base;
  ir_model *inner;
  size_t *idx;   /* concatenated batch indices */
  size_t *sizes; /* batch sizes, in call order */
  size_t nidx, nbatch, cap;
} logging_model;

static int logging_loss_grad(ir_model *m, const double *theta,
                             const size_t *idx, size_t nb, double *loss,
                             double *grad) {
  logging_model *l = (logging_model *)m;
  if (idx != NULL) {
    /* A full log fails the run (and the test) without a Check assertion
     * per call. */
    if (l->nidx + nb > l->cap || l->nbatch == l->cap)
      return ir_error(IR_EINTERNAL, "batch log full (%zu indices)", l->cap);
    memcpy(l->idx + l->nidx, idx, nb * sizeof(size_t));
    l->nidx += nb;
    l->sizes[l->nbatch++] = nb;
  }
  return l->inner->ops->loss_grad(l->inner, theta, idx, nb, loss, grad);
}

static void logging_destroy(ir_model *m) {
  logging_model *l = (logging_model *)m;
  free(l->idx);
  free(l->sizes);
  free(l);
}

static const ir_model_ops logging_ops = {
    "logging", logging_loss_grad, NULL, NULL, logging_destroy, NULL, NULL};

/* Wraps F.m; room for cap logged indices. */
static logging_model *logging_alloc(size_t cap) {
  logging_model *l = calloc(1, sizeof *l);
  l->base = *F.m;
  l->base.ops = &logging_ops;
  l->inner = F.m;
  l->idx = malloc(cap * sizeof(size_t));
  l->sizes = malloc(cap * sizeof(size_t));
  l->cap = cap;
  return l;
}

START_TEST(test_sgd_epochs_cover_samples) {
  /* Without replacement, every epoch of ceil(n/B) batches (the last one
   * holding the n mod B leftovers) uses each sample exactly once, and a
   * fresh shuffle orders the next epoch. */
  const size_t B = SGD_BATCH[_i];
  const size_t per_epoch = (N + B - 1) / B, epochs = 6;
  logging_model *l = logging_alloc(epochs * N);
  ir_optim_params p = params(1.0 / F.rowmax, B, epochs * per_epoch);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(&l->base, &p, w, NULL, NULL, &res));
  ck_assert_uint_eq(l->nbatch, epochs * per_epoch);
  ck_assert_uint_eq(l->nidx, epochs * N);
  for (size_t b = 0; b < l->nbatch; b++)
    ck_assert_uint_eq(l->sizes[b],
                      (b + 1) % per_epoch == 0 ? N - (per_epoch - 1) * B : B);
  for (size_t e = 0; e < epochs; e++) {
    int seen[N] = {0};
    for (size_t k = 0; k < N; k++) {
      size_t i = l->idx[e * N + k];
      ck_assert_uint_lt(i, N);
      ck_assert_msg(!seen[i], "epoch %zu uses sample %zu twice", e, i);
      seen[i] = 1;
    }
  }
  /* Two epochs in the same order has probability 1/20! per pair. */
  ck_assert(memcmp(l->idx, l->idx + N, N * sizeof(size_t)) != 0);
  ir_model_free(&l->base);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_sgd_replacement_uniform) {
  /* With replacement every batch has B indices drawn uniformly from 0..n-1:
   * over 10⁴ draws each sample is expected 500 times, and Pearson's
   * statistic stays below the 99.9% quantile of χ² with n − 1 = 19 degrees
   * of freedom except with probability 1e-3. */
  const size_t B = 5, steps = 2000;
  logging_model *l = logging_alloc(B * steps);
  ir_optim_params p = params(1.0 / F.rowmax, B, steps);
  p.replacement = 1;
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(&l->base, &p, w, NULL, NULL, &res));
  ck_assert_uint_eq(l->nbatch, steps);
  size_t wrong_size = 0, out_of_range = 0;
  for (size_t b = 0; b < steps; b++)
    wrong_size += l->sizes[b] != B;
  ck_assert_uint_eq(wrong_size, 0);
  double count[N] = {0};
  for (size_t k = 0; k < l->nidx; k++) {
    if (l->idx[k] < N)
      count[l->idx[k]]++;
    else
      out_of_range++;
  }
  ck_assert_uint_eq(out_of_range, 0);
  const double expected = (double)(B * steps) / N;
  double chi2 = 0;
  for (size_t i = 0; i < N; i++)
    chi2 += (count[i] - expected) * (count[i] - expected) / expected;
  const double bound = gsl_cdf_chisq_Qinv(1e-3, N - 1);
  ck_assert_msg(chi2 <= bound, "chi2 = %g > %g", chi2, bound);
  ir_model_free(&l->base);
  gsl_vector_free(w);
}
END_TEST

/* ---- Heavy ball ---------------------------------------------------------- */

/* Spectral radius of the heavy-ball iteration on an eigenvalue λ: the larger
 * root modulus of z² − (1 + β − ηλ)z + β = 0. */
static double hb_rate(double lr, double beta, double lambda) {
  double b = 1 + beta - lr * lambda;
  double disc = b * b - 4 * beta;
  if (disc < 0)
    return sqrt(beta); /* complex pair, |z|² = β */
  return (fabs(b) + sqrt(disc)) / 2;
}

START_TEST(test_heavy_ball_minnorm) {
  const double lr = 1.0 / F.lmax, beta = 0.5;
  double rho = 0;
  for (size_t i = 0; i < N; i++)
    rho = fmax(rho, hb_rate(lr, beta, gsl_vector_get(F.eval, i)));
  ck_assert(rho < 1);
  /* With v₀ = 0 the recursion e_{t+1} = (1 + β − ηλ)e_t − βe_{t−1} starts
   * from e_{−1} = e₀, so e_t = e₀(S_{t+1} − βS_t) with
   * S_t = (z₁ᵗ − z₂ᵗ)/(z₁ − z₂) = Σ_k z₁ᵏz₂^{t−1−k}, |S_t| <= tρ^{t−1}.
   * Hence |e_t| <= |e₀|·2(t + 1)ρ^{t−1}, even for (nearly) equal roots.
   * Take the first T with that bound <= 1e-13. */
  size_t T = 1;
  while (2.0 * (double)(T + 1) * pow(rho, (double)T - 1) > 1e-13)
    T++;
  ir_optim_params p = params(lr, 0, T);
  p.momentum = beta;
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.diverged, 0);
  ck_assert_msg(relerr(w, F.wstar) <= 1e-10, "rel err %g after %zu steps",
                relerr(w, F.wstar), T);
  gsl_vector_free(w);
}
END_TEST

/* Records the first iterates an observer sees. */
typedef struct {
  double theta[3][3];
  size_t seen;
} first_iterates;

static int record_first(void *ctx, size_t step, const gsl_vector *theta) {
  first_iterates *f = ctx;
  if (step < 3) {
    for (size_t j = 0; j < 3; j++)
      f->theta[step][j] = gsl_vector_get(theta, j);
    f->seen = step + 1;
  }
  return 0;
}

/* g = (1/n) Xᵀ(Xθ − y) by loops, for the 2×3 example below. */
static void grad_by_hand(const double X[2][3], const double y[2],
                         const double th[3], double g[3]) {
  double r[2];
  for (size_t i = 0; i < 2; i++) {
    r[i] = -y[i];
    for (size_t j = 0; j < 3; j++)
      r[i] += X[i][j] * th[j];
  }
  for (size_t j = 0; j < 3; j++)
    g[j] = (X[0][j] * r[0] + X[1][j] * r[1]) / 2;
}

START_TEST(test_momentum_first_iterates) {
  /* Heavy ball v ← βv + g, θ ← θ − ηv from v₀ = 0:
   *   θ₁ = θ₀ − ηg(θ₀),  θ₂ = θ₁ − η(βg(θ₀) + g(θ₁)).
   * Small integers, n = 2, η = 1/8 and β ∈ {0, 1/2, 3/4} keep every
   * intermediate a dyadic rational with a short numerator, so both the hand
   * recursion and the library compute exactly: equality is exact. */
  static const double betas[] = {0.0, 0.5, 0.75};
  const double beta = betas[_i], lr = 0.125;
  const double Xa[2][3] = {{1, 2, -1}, {0, 1, 3}}, ya[2] = {3, -2};
  const double th0[3] = {1, 0, -1};
  gsl_matrix *X = gsl_matrix_alloc(2, 3), *Y = gsl_matrix_alloc(2, 1);
  for (size_t i = 0; i < 2; i++) {
    for (size_t j = 0; j < 3; j++)
      gsl_matrix_set(X, i, j, Xa[i][j]);
    gsl_matrix_set(Y, i, 0, ya[i]);
  }
  ir_model *m = ir_model_linear_alloc(X, Y);
  ck_assert_ptr_nonnull(m);

  double g0[3], th1[3], g1[3], th2[3];
  grad_by_hand(Xa, ya, th0, g0);
  for (size_t j = 0; j < 3; j++)
    th1[j] = th0[j] - lr * g0[j];
  grad_by_hand(Xa, ya, th1, g1);
  for (size_t j = 0; j < 3; j++)
    th2[j] = th1[j] - lr * (beta * g0[j] + g1[j]);

  ir_optim_params p = params(lr, 0, 2);
  p.momentum = beta;
  gsl_vector *th = gsl_vector_alloc(3);
  for (size_t j = 0; j < 3; j++)
    gsl_vector_set(th, j, th0[j]);
  first_iterates f;
  memset(&f, 0, sizeof f);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(m, &p, th, record_first, &f, &res));
  ck_assert_uint_eq(f.seen, 3);
  for (size_t j = 0; j < 3; j++) {
    ck_assert(f.theta[0][j] == th0[j]);
    ck_assert_msg(f.theta[1][j] == th1[j], "θ₁[%zu] = %.17g, expected %.17g", j,
                  f.theta[1][j], th1[j]);
    ck_assert_msg(f.theta[2][j] == th2[j], "θ₂[%zu] = %.17g, expected %.17g", j,
                  f.theta[2][j], th2[j]);
    ck_assert(gsl_vector_get(th, j) == th2[j]);
  }
  gsl_vector_free(th);
  ir_model_free(m);
  gsl_matrix_free(X);
  gsl_matrix_free(Y);
}
END_TEST

/* Explicit gradient regularization on least squares: the step direction is
 * g + 2μHg with H = XᵀX/n, which stays in the row space of X, so GD from 0
 * on L + μ‖∇L‖² still converges to X⁺y (the minimizers are unchanged), at
 * the rate of the modified Hessian H + 2μH²: stable iff η(λ + 2μλ²) < 2. */
START_TEST(test_egr_minnorm) {
  const double mu = 0.5 / F.lmax;
  const double top = F.lmax + 2 * mu * F.lmax * F.lmax;
  const double lr = 1.0 / top;
  const double bottom = F.lmin + 2 * mu * F.lmin * F.lmin;
  const size_t T = steps_for(1 - lr * bottom, 1e-13);
  ir_optim_params p = params(lr, 0, T);
  p.egr = mu;
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.diverged, 0);
  ck_assert_msg(relerr(w, F.wstar) <= 1e-10, "rel err %g after %zu steps",
                relerr(w, F.wstar), T);
  /* One step by hand from w₀ = 0: g = −Xᵀy/n, w₁ = −η(g + 2μHg). */
  p.max_steps = 1;
  gsl_vector_set_zero(w);
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  gsl_vector *g = gsl_vector_alloc(P), *Xg = gsl_vector_alloc(N),
             *e = gsl_vector_alloc(P);
  gsl_vector_const_view y = gsl_matrix_const_column(F.Y, 0);
  gsl_blas_dgemv(CblasTrans, -1.0 / N, F.X, &y.vector, 0.0, g);
  gsl_blas_dgemv(CblasNoTrans, 1.0, F.X, g, 0.0, Xg);
  gsl_vector_memcpy(e, g);
  gsl_blas_dgemv(CblasTrans, 2 * mu / N, F.X, Xg, 1.0, e);
  gsl_vector_scale(e, -lr);
  /* Different summation orders: a few ulps times the condition of the sums
   * (entries of X are O(1), so well within 1e-13). */
  ck_assert_msg(relerr(w, e) <= 1e-13, "one EGR step: rel err %g",
                relerr(w, e));
  /* A diverging EGR step size is reported like any other. */
  p.lr = 2.5 / top;
  p.max_steps = 2000;
  gsl_vector_set_zero(w);
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.diverged, 1);
  ck_assert(all_finite(w));
  gsl_vector_free(g);
  gsl_vector_free(Xg);
  gsl_vector_free(e);
  gsl_vector_free(w);
}
END_TEST

/* ---- Stability threshold and divergence ---------------------------------- */

START_TEST(test_gd_stable_below_two_over_lmax) {
  /* η = 1.99/λ_max: the top direction oscillates with factor 0.99, the
   * slowest other direction contracts by 1 − 1.99λ_min/λ_max. */
  const double lr = 1.99 / F.lmax;
  const size_t T = steps_for(gd_rate(lr), 1e-13);
  ir_optim_params p = params(lr, 0, T);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.diverged, 0);
  ck_assert_int_eq(res.reason, IR_OPTIM_MAX_STEPS);
  ck_assert_msg(relerr(w, F.wstar) <= 1e-10, "rel err %g after %zu steps",
                relerr(w, F.wstar), T);
  gsl_vector_free(w);
}
END_TEST

/* Checks a diverged run: flags, a finite θ and a finite final loss equal to
 * the loss of the returned θ. */
static void check_diverged(const ir_optim_result *res, const gsl_vector *w,
                           size_t latest) {
  ck_assert_int_eq(res->diverged, 1);
  ck_assert_int_eq(res->reason, IR_OPTIM_DIVERGED);
  ck_assert_msg(res->diverged_at <= latest, "diverged at %zu, bound %zu",
                res->diverged_at, latest);
  ck_assert(isfinite(res->final_loss));
  ck_assert(all_finite(w));
  double l;
  IR_ASSERT_OK(ir_model_loss_grad(F.m, w, NULL, 0, &l, NULL));
  ck_assert(l == res->final_loss);
}

START_TEST(test_gd_diverges_above_two_over_lmax) {
  /* η = 2.01/λ_max: the top direction grows by 1.01 per step while all the
   * others shrink, so divergence_window pins the step at which the loss
   * passes diverge_ratio·L₀ (about 1.2e3 here).  The budget is ten times
   * that, so a run that missed the divergence would be visible. */
  const double lr = 2.01 / F.lmax;
  ir_optim_params p = params(lr, 0, 0);
  size_t earliest, latest;
  divergence_window(lr, p.diverge_ratio, &earliest, &latest);
  ck_assert_uint_gt(earliest, 0);
  p.max_steps = 10 * (latest + 1);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  check_diverged(&res, w, latest);
  ck_assert_uint_ge(res.diverged_at, earliest);
  /* θ is not restored when the loss is finite: it is the iterate whose loss
   * crossed the threshold, and steps counts the updates that produced it. */
  ck_assert(res.final_loss > p.diverge_ratio * res.initial_loss);
  ck_assert_uint_eq(res.steps, res.diverged_at);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_gd_huge_step_diverges_fast) {
  /* η = 100/λ_max: the top direction grows by 99 per step, so divergence
   * comes within a few steps, long before the 1000-step budget would
   * overflow θ (99¹⁰⁰⁰ = Inf). */
  const double lr = 100.0 / F.lmax;
  ir_optim_params p = params(lr, 0, 1000);
  size_t earliest, latest;
  divergence_window(lr, p.diverge_ratio, &earliest, &latest);
  ck_assert_uint_le(latest, 5);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  check_diverged(&res, w, latest);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_gd_overflowing_step_returns_finite) {
  /* η = 1e200/λ_max: θ₁ ≈ 1e200 is finite but its loss overflows to Inf.
   * The run must return the last iterate whose loss was finite, θ₀. */
  const double lr = 1e200 / F.lmax;
  ir_optim_params p = params(lr, 0, 100);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  check_diverged(&res, w, 1);
  ck_assert(gsl_vector_isnull(w));
  ck_assert(res.final_loss == res.initial_loss);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_gd_last_iterate_checked) {
  /* "Full-batch divergence is checked every step", including the iterate
   * produced by the last update.  With η = 1e8/λ_max the top direction grows
   * by ≈ 1e8 in one step, so divergence_window puts the crossing at step 1:
   * a one-step run must report it.  With η = 1e200/λ_max the loss of θ₁
   * overflows, so the run must hand back θ₀. */
  const double lrs[] = {1e8 / F.lmax, 1e200 / F.lmax};
  for (size_t c = 0; c < 2; c++) {
    ir_optim_params p = params(lrs[c], 0, 1);
    size_t earliest, latest;
    divergence_window(lrs[c], p.diverge_ratio, &earliest, &latest);
    ck_assert_uint_le(latest, 1);
    gsl_vector *w = gsl_vector_calloc(P);
    ir_optim_result res;
    IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
    ck_assert_msg(res.diverged == 1,
                  "lr·λ_max = %g, 1 step: reason %d, final loss %g = %g·L0",
                  lrs[c] * F.lmax, res.reason, res.final_loss,
                  res.final_loss / res.initial_loss);
    check_diverged(&res, w, 1);
    gsl_vector_free(w);
  }
}
END_TEST

START_TEST(test_divergence_sweep) {
  /* The contract of optim.h for every step size: the returned θ and the
   * final loss are finite, and a run that does not report divergence ends
   * with a loss <= diverge_ratio·L₀.  Swept over η = 10^k/L for
   * k = 0..300 (L = λ_max for GD, max‖x_i‖² for SGD), full batch and
   * batches 1, 5 and 7 with and without replacement, and run lengths 1 and
   * 5 (shorter than an epoch, so the end of the run is not an epoch end). */
  static const size_t batches[] = {0, 1, 5, 7};
  static const size_t lengths[] = {1, 5};
  gsl_vector *w = gsl_vector_alloc(P);
  size_t violations = 0;
  char first[256] = "";
  for (size_t b = 0; b < 4; b++)
    for (int repl = 0; repl < 2; repl++)
      for (int k = 0; k <= 300; k++)
        for (size_t T = 0; T < 2; T++) {
          const double L = batches[b] ? F.rowmax : F.lmax;
          ir_optim_params p = params(pow(10.0, k) / L, batches[b], lengths[T]);
          p.replacement = repl;
          ir_optim_result res;
          gsl_vector_set_zero(w);
          int st = ir_optim_run(F.m, &p, w, NULL, NULL, &res);
          int ok = st == IR_OK && all_finite(w) && isfinite(res.final_loss) &&
                   (res.diverged ||
                    res.final_loss <= p.diverge_ratio * res.initial_loss);
          if (!ok && violations++ == 0)
            snprintf(first, sizeof first,
                     "batch %zu, replacement %d, lr = 1e%d/L, %zu steps: "
                     "status %d, diverged %d, final loss %g = %g·L0",
                     batches[b], repl, k, lengths[T], st, res.diverged,
                     res.final_loss, res.final_loss / res.initial_loss);
        }
  gsl_vector_free(w);
  ck_assert_msg(violations == 0, "%zu runs break the contract; first: %s",
                violations, first);
}
END_TEST

START_TEST(test_sgd_huge_step_diverges) {
  /* Mini-batch SGD far above the stable step: caught at the latest by the
   * full-loss check at the end of an epoch, with θ still finite. */
  const double lr = 100.0 / F.rowmax;
  ir_optim_params p = params(lr, 5, 2000);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  check_diverged(&res, w, 2000);
  ck_assert_uint_lt(res.steps, 2000);
  gsl_vector_free(w);
}
END_TEST

/* Keeps θ_t for t = 0..cap−1. */
typedef struct {
  gsl_matrix *th; /* row t = θ_t */
  size_t count;
} trail;

static int trail_observe(void *ctx, size_t step, const gsl_vector *theta) {
  trail *tr = ctx;
  if (step < tr->th->size1) {
    gsl_matrix_set_row(tr->th, step, theta);
    tr->count = step + 1;
  }
  return 0;
}

START_TEST(test_sgd_epoch_mean_divergence) {
  /* Mini-batches without a loss goal: divergence is declared at the first
   * epoch end where the mean of the epoch's batch losses, weighted by batch
   * size, exceeds diverge_ratio·L₀ (optim.h).  Recomputed here from the
   * logged batches and the observed iterates: batch t's loss is taken at
   * θ_{t−1}.  n = 20 and B = 7 give batches of 7, 7, 6 (3 per epoch); the
   * step 30/max‖x_i‖² grows the loss geometrically, and diverge_ratio 1e3
   * makes the crossing happen while every loss is still finite, so the
   * per-step non-finite check cannot be what stops the run. */
  const size_t B = 7, per_epoch = 3, T = 300;
  ir_optim_params p = params(30.0 / F.rowmax, B, T);
  p.diverge_ratio = 1e3;
  logging_model *l = logging_alloc(T * B);
  trail tr = {gsl_matrix_alloc(T + 1, P), 0};
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(&l->base, &p, w, trail_observe, &tr, &res));
  ck_assert_int_eq(res.reason, IR_OPTIM_DIVERGED);
  const double limit = p.diverge_ratio * res.initial_loss;
  size_t expect = 0, off = 0;
  double sum = 0, rows = 0;
  for (size_t t = 1; t <= l->nbatch && t < tr.count && !expect; t++) {
    gsl_vector_const_view th = gsl_matrix_const_row(tr.th, t - 1);
    double bl;
    IR_ASSERT_OK(ir_model_loss_grad(F.m, &th.vector, l->idx + off,
                                    l->sizes[t - 1], &bl, NULL));
    ck_assert(isfinite(bl));
    sum += bl * (double)l->sizes[t - 1];
    rows += (double)l->sizes[t - 1];
    off += l->sizes[t - 1];
    if (t % per_epoch == 0) {
      if (sum / rows > limit)
        expect = t;
      sum = rows = 0;
    }
  }
  ck_assert_msg(expect > 0, "no epoch mean above the limit in %zu steps",
                l->nbatch);
  ck_assert_uint_eq(res.diverged_at, expect);
  ck_assert_uint_eq(res.steps, expect);
  check_diverged(&res, w, expect);
  gsl_vector_free(w);
  gsl_matrix_free(tr.th);
  logging_destroy(&l->base);
}
END_TEST

/* ---- Stopping: loss goal and observer ------------------------------------ */

/* Longest run an observer records. */
enum { WATCH_MAX = 512 };

typedef struct {
  size_t steps[WATCH_MAX];
  double loss[WATCH_MAX];
  size_t count;
  size_t stop_at; /* return 1 at this step (SIZE_MAX: never) */
  gsl_vector *at_stop;
} watch;

static int watcher(void *ctx, size_t step, const gsl_vector *theta) {
  watch *w = ctx;
  if (w->count < WATCH_MAX) {
    w->steps[w->count] = step;
    IR_ASSERT_OK(
        ir_model_loss_grad(F.m, theta, NULL, 0, &w->loss[w->count], NULL));
  }
  w->count++;
  if (step == w->stop_at) {
    gsl_vector_memcpy(w->at_stop, theta);
    return 1;
  }
  return 0;
}

START_TEST(test_loss_goal_gd) {
  /* GD stops at the first iterate whose full loss is <= the goal; the
   * observer's own loss evaluations say which one that is. */
  const double lr = 1.0 / F.lmax;
  static watch wt;
  memset(&wt, 0, sizeof wt);
  wt.stop_at = SIZE_MAX;
  ir_optim_params p = params(lr, 0, 0);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  p.loss_goal = 1e-2 * res.initial_loss;
  /* L = Σ_i ½λ_i c_i² and each term shrinks by (1 − ηλ_i)² per step, so
   * L_t <= (1 − ηλ_min)^{2t} L₀: the goal is met by step Tg. */
  const size_t Tg = steps_for(gd_rate(lr) * gd_rate(lr), 1e-2);
  ck_assert_uint_lt(Tg, WATCH_MAX);
  p.max_steps = 10 * Tg;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, watcher, &wt, &res));
  ck_assert_int_eq(res.reason, IR_OPTIM_GOAL);
  ck_assert_int_eq(res.diverged, 0);
  ck_assert_uint_le(res.steps, Tg);
  size_t first = 0;
  while (first < wt.count && wt.loss[first] > p.loss_goal)
    first++;
  ck_assert_uint_lt(first, wt.count);
  ck_assert_uint_eq(res.steps, wt.steps[first]);
  ck_assert(res.final_loss <= p.loss_goal);
  ck_assert(res.final_loss == wt.loss[first]);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_loss_goal_at_start) {
  /* A goal already met by θ₀: no update at all. */
  ir_optim_params p = params(1.0 / F.lmax, 0, 100);
  p.loss_goal = 1e300;
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.reason, IR_OPTIM_GOAL);
  ck_assert_uint_eq(res.steps, 0);
  ck_assert(gsl_vector_isnull(w));
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_loss_goal_sgd) {
  /* Mini-batches check the full loss once per epoch (4 steps of 5).  With
   * e = w − X⁺y, L = ½eᵀ(XᵀX/n)e lies between ½λ_min‖e‖² and ½λ_max‖e‖², so
   * the bound E‖e_t‖² <= (1 − ηλ_min)^t‖e₀‖² of test_sgd_minnorm gives
   * E L_t <= κ(1 − ηλ_min)^t L₀: the goal 1e-4·L₀ is met in expectation
   * after T₁ = log(1e-4/κ)/log(1 − ηλ_min) steps.  The budget 10·T₁ makes
   * missing it a Markov-bound event of probability <= (1e-4/κ)⁹. */
  const double lr = 1.0 / F.rowmax;
  ir_optim_params p = params(lr, 5, 0);
  gsl_vector *w = gsl_vector_calloc(P);
  ir_optim_result res;
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  p.loss_goal = 1e-4 * res.initial_loss;
  p.max_steps = 10 * steps_for(1 - lr * F.lmin, 1e-4 * F.lmin / F.lmax);
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, &res));
  ck_assert_int_eq(res.reason, IR_OPTIM_GOAL);
  ck_assert_uint_lt(res.steps, p.max_steps);
  ck_assert_uint_eq(res.steps % (N / 5), 0);
  ck_assert(res.final_loss <= p.loss_goal);
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_observer_sees_all_steps) {
  const size_t T = 12;
  static watch wt;
  memset(&wt, 0, sizeof wt);
  wt.stop_at = SIZE_MAX;
  for (int b = 0; b < 2; b++) {
    /* Full batch, then mini-batches of 7. */
    ir_optim_params p = params(b ? 1.0 / F.rowmax : 1.0 / F.lmax, b ? 7 : 0, T);
    gsl_vector *w = gsl_vector_calloc(P);
    ir_optim_result res;
    wt.count = 0;
    IR_ASSERT_OK(ir_optim_run(F.m, &p, w, watcher, &wt, &res));
    ck_assert_uint_eq(wt.count, T + 1);
    for (size_t t = 0; t <= T; t++)
      ck_assert_uint_eq(wt.steps[t], t);
    /* Step 0 is θ₀ itself. */
    ck_assert(wt.loss[0] == res.initial_loss);
    ck_assert_int_eq(res.reason, IR_OPTIM_MAX_STEPS);
    gsl_vector_free(w);
  }
}
END_TEST

START_TEST(test_observer_sees_returned_iterate) {
  /* "Called with θ_t after step t": the iterate the run returns is the one
   * the observer saw last, whatever ends the run (here the loss goal,
   * checked at epoch ends for mini-batches, and the step budget). */
  const size_t batches[] = {0, 5};
  for (size_t b = 0; b < 2; b++)
    for (int goal = 0; goal < 2; goal++) {
      static watch wt;
      memset(&wt, 0, sizeof wt);
      wt.stop_at = SIZE_MAX;
      ir_optim_params p =
          params(batches[b] ? 1.0 / F.rowmax : 1.0 / F.lmax, batches[b], 200);
      /* Half the initial loss ‖y‖²/(2n), met within a few epochs. */
      gsl_vector_const_view y = gsl_matrix_const_column(F.Y, 0);
      const double ny = gsl_blas_dnrm2(&y.vector);
      if (goal)
        p.loss_goal = 0.5 * ny * ny / (2 * N);
      gsl_vector *w = gsl_vector_calloc(P);
      ir_optim_result res;
      IR_ASSERT_OK(ir_optim_run(F.m, &p, w, watcher, &wt, &res));
      ck_assert_int_eq(res.reason, goal ? IR_OPTIM_GOAL : IR_OPTIM_MAX_STEPS);
      ck_assert_uint_le(wt.count, WATCH_MAX);
      ck_assert_msg(wt.steps[wt.count - 1] == res.steps,
                    "batch %zu, reason %d: last observed step %zu, run "
                    "returned step %zu",
                    batches[b], res.reason, wt.steps[wt.count - 1], res.steps);
      ck_assert(wt.loss[wt.count - 1] == res.final_loss);
      gsl_vector_free(w);
    }
}
END_TEST

START_TEST(test_observer_stops) {
  const size_t stops[] = {0, 3};
  for (size_t s = 0; s < 2; s++) {
    static watch wt;
    memset(&wt, 0, sizeof wt);
    wt.stop_at = stops[s];
    wt.at_stop = gsl_vector_alloc(P);
    ir_optim_params p = params(1.0 / F.lmax, 0, 100);
    gsl_vector *w = gsl_vector_calloc(P);
    ir_optim_result res;
    IR_ASSERT_OK(ir_optim_run(F.m, &p, w, watcher, &wt, &res));
    ck_assert_int_eq(res.reason, IR_OPTIM_STOPPED);
    ck_assert_int_eq(res.diverged, 0);
    ck_assert_uint_eq(res.steps, stops[s]);
    ck_assert_uint_eq(wt.count, stops[s] + 1);
    /* The run returns the iterate the observer saw last. */
    ck_assert(memcmp(w->data, wt.at_stop->data, P * sizeof(double)) == 0);
    ck_assert(res.final_loss == wt.loss[stops[s]]);
    gsl_vector_free(w);
    gsl_vector_free(wt.at_stop);
  }
}
END_TEST

/* ---- Reproducibility ----------------------------------------------------- */

/* Runs 60 SGD steps of batch 3 from 0 with the given seed, stream and
 * replacement flag, into w. */
static void sgd_run(unsigned long seed, uint64_t stream, int repl,
                    gsl_vector *w, ir_optim_result *res) {
  ir_optim_params p = params(1.0 / F.rowmax, 3, 60);
  p.seed = seed;
  p.stream = stream;
  p.replacement = repl;
  gsl_vector_set_zero(w);
  IR_ASSERT_OK(ir_optim_run(F.m, &p, w, NULL, NULL, res));
}

START_TEST(test_sgd_reproducible) {
  const int repl = _i;
  const uint64_t s1 = ir_rng_stream(IR_STREAM_SGD, 1, 2);
  const uint64_t s2 = ir_rng_stream(IR_STREAM_SGD, 2, 1);
  gsl_vector *a = gsl_vector_alloc(P), *b = gsl_vector_alloc(P);
  ir_optim_result ra, rb;
  sgd_run(5, s1, repl, a, &ra);
  sgd_run(5, s1, repl, b, &rb);
  ck_assert(memcmp(a->data, b->data, P * sizeof(double)) == 0);
  ck_assert(ra.final_loss == rb.final_loss);
  ck_assert_uint_eq(ra.steps, rb.steps);
  /* Another seed, or another stream, orders the batches differently. */
  sgd_run(6, s1, repl, b, &rb);
  ck_assert(memcmp(a->data, b->data, P * sizeof(double)) != 0);
  sgd_run(5, s2, repl, b, &rb);
  ck_assert(memcmp(a->data, b->data, P * sizeof(double)) != 0);
  gsl_vector_free(a);
  gsl_vector_free(b);
}
END_TEST

/* ---- Parameters ---------------------------------------------------------- */

START_TEST(test_params_default) {
  ir_optim_params p;
  memset(&p, 0xab, sizeof p);
  ir_optim_params_default(&p);
  ck_assert(p.lr == 0);
  ck_assert(p.momentum == 0);
  ck_assert_uint_eq(p.batch, 0);
  ck_assert_int_eq(p.replacement, 0);
  ck_assert_uint_eq(p.max_steps, 1000);
  ck_assert(p.loss_goal < 0);
  ck_assert(p.diverge_ratio == 1e8);
  ck_assert_uint_eq(p.seed, 1);
  ck_assert(p.stream == ir_rng_stream(IR_STREAM_SGD, 0, 0));
  /* lr must be set: the defaults alone are rejected. */
  ck_assert_int_eq(ir_optim_params_check(&p), IR_EINVAL);
  p.lr = 0.1;
  IR_ASSERT_OK(ir_optim_params_check(&p));
}
END_TEST

START_TEST(test_params_invalid) {
  ir_optim_params good = params(0.01, 0, 10);
  IR_ASSERT_OK(ir_optim_params_check(&good));
  const double bad_lr[] = {0.0, -1.0, NAN, INFINITY, -INFINITY};
  const double bad_momentum[] = {1.0, 1.5, -0.1, NAN};
  const double bad_ratio[] = {1.0, 0.5, NAN};
  gsl_vector *w = gsl_vector_alloc(P);
  ir_optim_result res;
  /* Each bad field is rejected by the check and by the run, which leaves θ
   * untouched and records a message. */
  const double bad_egr[] = {-1e-3, NAN, INFINITY};
  for (size_t c = 0; c < 5 + 4 + 3 + 1 + 3; c++) {
    ir_optim_params p = good;
    if (c < 5)
      p.lr = bad_lr[c];
    else if (c < 9)
      p.momentum = bad_momentum[c - 5];
    else if (c < 12)
      p.diverge_ratio = bad_ratio[c - 9];
    else if (c == 12)
      p.seed = 0;
    else
      p.egr = bad_egr[c - 13];
    ck_assert_msg(ir_optim_params_check(&p) == IR_EINVAL, "case %zu", c);
    for (size_t j = 0; j < P; j++)
      gsl_vector_set(w, j, (double)j);
    ir_error_clear();
    ck_assert_msg(ir_optim_run(F.m, &p, w, NULL, NULL, &res) == IR_EINVAL,
                  "case %zu", c);
    ck_assert_str_ne(ir_error_message(), "");
    for (size_t j = 0; j < P; j++)
      ck_assert(gsl_vector_get(w, j) == (double)j);
  }
  gsl_vector_free(w);
}
END_TEST

START_TEST(test_theta_wrong_length) {
  ir_optim_params p = params(0.01, 0, 10);
  gsl_vector *w = gsl_vector_calloc(P + 1);
  ir_optim_result res;
  ck_assert_int_eq(ir_optim_run(F.m, &p, w, NULL, NULL, &res), IR_ESHAPE);
  gsl_vector_free(w);
}
END_TEST

static Suite *optim_suite(void) {
  Suite *s = suite_create("optim");
  TCase *tc = tcase_create("implicit_bias");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_gd_from_zero_minnorm);
  tcase_add_test(tc, test_gd_from_random_keeps_nullspace);
  /* Loop index: 3 batch sizes × 2 replacement modes. */
  tcase_add_loop_test(tc, test_sgd_minnorm, 0, 6);
  tcase_add_test(tc, test_full_batch_sizes_are_gd);
  tcase_add_loop_test(tc, test_sgd_epochs_cover_samples, 0, 3);
  tcase_add_test(tc, test_sgd_replacement_uniform);
  tcase_add_test(tc, test_heavy_ball_minnorm);
  tcase_add_loop_test(tc, test_momentum_first_iterates, 0, 3);
  tcase_add_test(tc, test_egr_minnorm);
  suite_add_tcase(s, tc);

  tc = tcase_create("stability");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_gd_stable_below_two_over_lmax);
  tcase_add_test(tc, test_gd_diverges_above_two_over_lmax);
  tcase_add_test(tc, test_gd_huge_step_diverges_fast);
  tcase_add_test(tc, test_gd_overflowing_step_returns_finite);
  tcase_add_test(tc, test_gd_last_iterate_checked);
  tcase_add_test(tc, test_sgd_huge_step_diverges);
  tcase_add_test(tc, test_divergence_sweep);
  suite_add_tcase(s, tc);

  tc = tcase_create("stopping");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_loss_goal_gd);
  tcase_add_test(tc, test_loss_goal_at_start);
  tcase_add_test(tc, test_loss_goal_sgd);
  tcase_add_test(tc, test_observer_sees_all_steps);
  tcase_add_test(tc, test_observer_sees_returned_iterate);
  tcase_add_test(tc, test_sgd_epoch_mean_divergence);
  tcase_add_test(tc, test_observer_stops);
  suite_add_tcase(s, tc);

  tc = tcase_create("reproducibility");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, test_sgd_reproducible, 0, 2);
  suite_add_tcase(s, tc);

  tc = tcase_create("params");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_params_default);
  tcase_add_test(tc, test_params_invalid);
  tcase_add_test(tc, test_theta_wrong_length);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(optim_suite());
}
