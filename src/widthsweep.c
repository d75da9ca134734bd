/* widthsweep.c — the numerics of model-wise and epoch-wise double descent
 * for two-layer networks (widthsweep.h). */
#include "implreg/widthsweep.h"

#include "implreg/model.h"
#include "implreg/optim.h"
#include "implreg/rng.h"
#include "implreg/status.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- data ------------------------------------------------------------------
 */

int ir_widthsweep_pool(const gsl_matrix *X, size_t side, size_t k,
                       gsl_matrix **out) {
  if (X == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_widthsweep_pool: NULL argument");
  *out = NULL;
  if (side == 0 || k == 0 || side % k != 0)
    return ir_error(IR_EINVAL,
                    "ir_widthsweep_pool: pooling factor %zu must divide the "
                    "image side %zu",
                    k, side);
  if (X->size2 != side * side)
    return ir_error(IR_ESHAPE,
                    "ir_widthsweep_pool: rows have %zu entries, not %zu x %zu "
                    "pixels",
                    X->size2, side, side);
  const size_t s2 = side / k, n = X->size1;
  gsl_matrix *P = gsl_matrix_alloc(n, s2 * s2);
  if (P == NULL)
    return ir_error(IR_ENOMEM, "ir_widthsweep_pool: out of memory");
  const double inv = 1.0 / (double)(k * k);
  for (size_t i = 0; i < n; i++) {
    const double *x = X->data + i * X->tda;
    double *p = P->data + i * P->tda;
    for (size_t a = 0; a < s2; a++)
      for (size_t b = 0; b < s2; b++) {
        double sum = 0;
        for (size_t u = 0; u < k; u++)
          for (size_t v = 0; v < k; v++)
            sum += x[(a * k + u) * side + b * k + v];
        p[a * s2 + b] = sum * inv;
      }
  }
  *out = P;
  return IR_OK;
}

uint64_t ir_widthsweep_noise_stream(double frac) {
  return ir_rng_stream(IR_STREAM_DATA, (uint64_t)llround(1000.0 * frac), 7);
}

int ir_widthsweep_noisy_copy(const ir_dataset *ds, double frac,
                             unsigned long seed, ir_dataset **out) {
  if (ds == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_widthsweep_noisy_copy: NULL argument");
  *out = NULL;
  if (ds->labels == NULL)
    return ir_error(IR_EINVAL,
                    "ir_widthsweep_noisy_copy: the data set has no labels");
  size_t n = ds->X->size1;
  size_t *idx = malloc(n * sizeof *idx);
  if (idx == NULL)
    return ir_error(IR_ENOMEM, "ir_widthsweep_noisy_copy: out of memory");
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  ir_dataset *c = NULL;
  int s = ir_data_subset(ds, idx, n, &c);
  free(idx);
  if (s != IR_OK)
    return s;
  gsl_rng *r = ir_rng_alloc(seed, ir_widthsweep_noise_stream(frac));
  if (r == NULL) {
    ir_dataset_free(c);
    return IR_EINVAL;
  }
  s = ir_data_label_noise(c, frac, r);
  ir_rng_free(r);
  if (s != IR_OK) {
    ir_dataset_free(c);
    return s;
  }
  *out = c;
  return IR_OK;
}

int ir_widthsweep_count_changed(const gsl_matrix *Y, const size_t *clean,
                                size_t *changed, size_t *bad) {
  if (Y == NULL || clean == NULL || changed == NULL || bad == NULL)
    return ir_error(IR_EINVAL, "ir_widthsweep_count_changed: NULL argument");
  size_t ch = 0, nb = 0;
  for (size_t i = 0; i < Y->size1; i++) {
    const double *y = Y->data + i * Y->tda;
    size_t am = 0, ones = 0, zeros = 0;
    for (size_t j = 0; j < Y->size2; j++) {
      if (y[j] > y[am])
        am = j;
      if (y[j] == 1.0)
        ones++;
      else if (y[j] == 0.0)
        zeros++;
    }
    if (ones != 1 || zeros != Y->size2 - 1)
      nb++;
    if (am != clean[i])
      ch++;
  }
  *changed = ch;
  *bad = nb;
  return IR_OK;
}

/* ---- the width grid
 * ---------------------------------------------------------- */

size_t ir_widthsweep_nparams(size_t d, size_t H, size_t K) {
  return H * (d + 1) + K * (H + 1);
}

/* The width whose parameter count is nearest P (at least 1). */
static size_t width_for(size_t d, size_t K, double P) {
  double h = (P - (double)K) / (double)(d + 1 + K);
  size_t lo = h < 1 ? 1 : (size_t)floor(h), best = lo;
  double bd = INFINITY;
  for (size_t H = lo; H <= lo + 1; H++) {
    double e = fabs((double)ir_widthsweep_nparams(d, H, K) - P);
    if (e < bd) {
      bd = e;
      best = H;
    }
  }
  return best;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

int ir_widthsweep_widths(size_t d, size_t K, size_t n, double lo, double hi,
                         size_t npts, size_t *widths, size_t *m) {
  if (widths == NULL || m == NULL || d == 0 || K == 0 || n == 0)
    return ir_error(IR_EINVAL, "ir_widthsweep_widths: bad arguments");
  if (npts < 2 || !(lo > 0) || !(hi > lo) || !isfinite(hi))
    return ir_error(IR_EINVAL,
                    "ir_widthsweep_widths: need 0 < lo < hi and at least 2 "
                    "points (lo = %g, hi = %g, %zu points)",
                    lo, hi, npts);
  const double nK = (double)n * (double)K;
  static const double near[5] = {0.7, 0.85, 1.0, 1.2, 1.4};
  size_t c = 0;
  for (size_t i = 0; i < npts; i++) {
    double f = lo * pow(hi / lo, (double)i / (double)(npts - 1));
    widths[c++] = width_for(d, K, f * nK);
  }
  for (size_t i = 0; i < 5; i++)
    if (near[i] >= lo && near[i] <= hi)
      widths[c++] = width_for(d, K, near[i] * nK);
  qsort(widths, c, sizeof *widths, cmp_size);
  size_t u = 0;
  for (size_t i = 0; i < c; i++)
    if (u == 0 || widths[i] != widths[u - 1])
      widths[u++] = widths[i];
  *m = u;
  return IR_OK;
}

/* ---- training
 * ---------------------------------------------------------------- */

void ir_widthsweep_params_default(ir_widthsweep_params *p) {
  memset(p, 0, sizeof *p);
  p->width = 1;
  p->act = IR_ACT_RELU;
  p->loss = IR_LOSS_HALF_SSE;
  p->max_steps = 1000;
  p->loss_goal = -1;
}

typedef struct {
  ir_model *mtest;
  const gsl_matrix *Xt, *Yt;
  ir_model *m;
  ir_widthsweep_curve *curve;
  size_t next;
  int status;
} ws_observer;

static int ws_observe(void *ctx, size_t step, const gsl_vector *theta) {
  ws_observer *o = ctx;
  ir_widthsweep_curve *c = o->curve;
  if (c == NULL || o->next >= c->n || c->steps[o->next] != step)
    return 0;
  double acc = NAN, loss = NAN;
  int s = IR_OK;
  if (o->mtest)
    s = ir_mlp_accuracy(o->mtest, theta, o->Xt, o->Yt, &acc);
  if (s == IR_OK)
    s = ir_model_loss_grad(o->m, theta, NULL, 0, &loss, NULL);
  if (s != IR_OK) {
    o->status = s;
    return 1;
  }
  if (c->test_err)
    c->test_err[o->next] = 1.0 - acc;
  if (c->train_loss)
    c->train_loss[o->next] = loss;
  o->next++;
  return 0;
}

int ir_widthsweep_train(const gsl_matrix *X, const gsl_matrix *Y,
                        const gsl_matrix *Xt, const gsl_matrix *Yt,
                        const ir_widthsweep_params *p, unsigned long seed,
                        const gsl_vector *theta0, gsl_vector **theta_out,
                        ir_widthsweep_curve *curve, ir_widthsweep_result *res) {
  if (X == NULL || Y == NULL || p == NULL || res == NULL)
    return ir_error(IR_EINVAL, "ir_widthsweep_train: NULL argument");
  if ((Xt == NULL) != (Yt == NULL))
    return ir_error(IR_EINVAL,
                    "ir_widthsweep_train: give both test inputs and targets "
                    "or neither");
  if (p->width == 0)
    return ir_error(IR_EINVAL, "ir_widthsweep_train: width must be >= 1");
  if (curve != NULL)
    for (size_t i = 0; i < curve->n; i++)
      if (i > 0 && curve->steps[i] <= curve->steps[i - 1])
        return ir_error(IR_EINVAL, "ir_widthsweep_train: curve steps must "
                                   "increase strictly");
  if (theta_out)
    *theta_out = NULL;
  memset(res, 0, sizeof *res);
  res->test_loss = res->test_err = NAN;
  ir_mlp_arch arch;
  memset(&arch, 0, sizeof arch);
  arch.nlayers = 2;
  arch.width[0] = X->size2;
  arch.width[1] = p->width;
  arch.width[2] = Y->size2;
  arch.act = p->act;
  arch.loss = p->loss;
  const size_t P = ir_mlp_nparams(&arch);
  if (theta0 != NULL && theta0->size != P)
    return ir_error(IR_ESHAPE,
                    "ir_widthsweep_train: theta0 has %zu entries, the "
                    "network %zu",
                    theta0->size, P);
  ir_optim_params op;
  ir_optim_params_default(&op);
  op.lr = p->lr;
  op.momentum = p->momentum;
  op.batch = p->batch;
  op.max_steps = p->max_steps;
  op.loss_goal = p->loss_goal;
  op.seed = seed;
  op.stream = ir_rng_stream(IR_STREAM_SGD, p->width, (uint64_t)p->loss);
  int s = ir_optim_params_check(&op);
  if (s != IR_OK)
    return s;
  ir_model *m = ir_model_mlp_alloc(&arch, X, Y), *mt = NULL;
  gsl_vector *theta = gsl_vector_alloc(P);
  if (m == NULL || theta == NULL) {
    s = m == NULL ? IR_EINVAL : ir_error(IR_ENOMEM, "out of memory");
    goto done;
  }
  if (Xt != NULL && (mt = ir_model_mlp_alloc(&arch, Xt, Yt)) == NULL) {
    s = IR_EINVAL;
    goto done;
  }
  if (theta0 != NULL) {
    gsl_vector_memcpy(theta, theta0);
  } else {
    gsl_rng *r = ir_rng_alloc(
        seed, ir_rng_stream(IR_STREAM_INIT, p->width, (uint64_t)p->loss));
    if (r == NULL) {
      s = IR_EINVAL;
      goto done;
    }
    ir_mlp_init_torch(&arch, r, theta);
    ir_rng_free(r);
  }
  ws_observer ob = {mt, Xt, Yt, m, curve, 0, IR_OK};
  if (curve != NULL)
    for (size_t i = 0; i < curve->n; i++) {
      if (curve->test_err)
        curve->test_err[i] = NAN;
      if (curve->train_loss)
        curve->train_loss[i] = NAN;
    }
  ir_optim_result orr;
  s = ir_optim_run(m, &op, theta, curve ? ws_observe : NULL, &ob, &orr);
  if (s == IR_OK)
    s = ob.status;
  if (s != IR_OK)
    goto done;
  res->nparams = P;
  res->steps = orr.steps;
  res->reason = orr.reason;
  res->reached_goal = orr.reason == IR_OPTIM_GOAL;
  res->init_loss = orr.initial_loss;
  res->train_loss = orr.final_loss;
  res->theta_norm = gsl_blas_dnrm2(theta);
  double acc = NAN;
  if ((s = ir_mlp_accuracy(m, theta, X, Y, &acc)) != IR_OK)
    goto done;
  res->train_err = 1.0 - acc;
  if (mt != NULL) {
    if ((s = ir_model_loss_grad(mt, theta, NULL, 0, &res->test_loss, NULL)) !=
            IR_OK ||
        (s = ir_mlp_accuracy(mt, theta, Xt, Yt, &acc)) != IR_OK)
      goto done;
    res->test_err = 1.0 - acc;
  }
  if (theta_out) {
    *theta_out = theta;
    theta = NULL;
  }
done:
  ir_model_free(m);
  ir_model_free(mt);
  if (theta)
    gsl_vector_free(theta);
  return s;
}

int ir_widthsweep_grow(size_t d, size_t K, size_t Hs, const gsl_vector *ts,
                       size_t Hb, double sd, gsl_rng *r, gsl_vector **out) {
  if (ts == NULL || r == NULL || out == NULL)
    return ir_error(IR_EINVAL, "ir_widthsweep_grow: NULL argument");
  *out = NULL;
  if (Hs == 0 || Hb < Hs || d == 0 || K == 0)
    return ir_error(IR_EINVAL,
                    "ir_widthsweep_grow: widths %zu -> %zu (need 1 <= Hs <= "
                    "Hb)",
                    Hs, Hb);
  if (ts->size != ir_widthsweep_nparams(d, Hs, K))
    return ir_error(IR_ESHAPE,
                    "ir_widthsweep_grow: theta has %zu entries, d -> %zu -> "
                    "K has %zu",
                    ts->size, Hs, ir_widthsweep_nparams(d, Hs, K));
  if (!(sd >= 0) || !isfinite(sd))
    return ir_error(IR_EINVAL, "ir_widthsweep_grow: sd = %g", sd);
  gsl_vector *tb = gsl_vector_alloc(ir_widthsweep_nparams(d, Hb, K));
  if (tb == NULL)
    return ir_error(IR_ENOMEM, "ir_widthsweep_grow: out of memory");
  /* Layout (mlp.h): W1 (Hb × d), b1 (Hb), W2 (K × Hb), b2 (K). */
  const double *s = ts->data;
  double *b = tb->data;
  const size_t sW1 = 0, sb1 = Hs * d, sW2 = sb1 + Hs, sb2 = sW2 + K * Hs;
  const size_t bW1 = 0, bb1 = Hb * d, bW2 = bb1 + Hb, bb2 = bW2 + K * Hb;
  for (size_t h = 0; h < Hb; h++)
    for (size_t j = 0; j < d; j++)
      b[bW1 + h * d + j] =
          h < Hs ? s[sW1 + h * d + j] : sd * gsl_ran_ugaussian(r);
  for (size_t h = 0; h < Hb; h++)
    b[bb1 + h] = h < Hs ? s[sb1 + h] : sd * gsl_ran_ugaussian(r);
  for (size_t k = 0; k < K; k++)
    for (size_t h = 0; h < Hb; h++)
      b[bW2 + k * Hb + h] =
          h < Hs ? s[sW2 + k * Hs + h] : sd * gsl_ran_ugaussian(r);
  for (size_t k = 0; k < K; k++)
    b[bb2 + k] = s[sb2 + k];
  *out = tb;
  return IR_OK;
}

/* ---- effective model complexity
 * ---------------------------------------------- */

int ir_widthsweep_emc(ir_widthsweep_fit_fn fit, void *ctx, size_t nmin,
                      size_t nmax, size_t step, double eps, size_t *emc,
                      int *censored, size_t *evals) {
  if (fit == NULL || emc == NULL || censored == NULL)
    return ir_error(IR_EINVAL, "ir_widthsweep_emc: NULL argument");
  if (nmin == 0 || nmax < nmin || step == 0 || !(eps >= 0) || eps >= 1)
    return ir_error(IR_EINVAL,
                    "ir_widthsweep_emc: need 1 <= nmin <= nmax, step >= 1, "
                    "0 <= eps < 1 (nmin %zu, nmax %zu, step %zu, eps %g)",
                    nmin, nmax, step, eps);
  size_t ne = 0;
  double err;
  *emc = 0;
  *censored = 0;
  /* Grid points k = 0..kmax for n = nmin + k·step. */
  size_t kmax = (nmax - nmin) / step;
  int s = fit(ctx, nmin, &err);
  ne++;
  if (s != IR_OK)
    goto out;
  if (!(err <= eps))
    goto out; /* not even nmin */
  s = fit(ctx, nmin + kmax * step, &err);
  ne++;
  if (s != IR_OK)
    goto out;
  if (err <= eps) {
    *emc = nmin + kmax * step;
    *censored = 1;
    goto out;
  }
  /* fitted at lo, not at hi */
  size_t lo = 0, hi = kmax;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    s = fit(ctx, nmin + mid * step, &err);
    ne++;
    if (s != IR_OK)
      goto out;
    if (err <= eps)
      lo = mid;
    else
      hi = mid;
  }
  *emc = nmin + lo * step;
out:
  if (evals)
    *evals = ne;
  return s;
}

int ir_widthsweep_emc_net_fit(void *ctx, size_t n, double *train_err) {
  const ir_widthsweep_emc_net *e = ctx;
  if (e == NULL || e->X == NULL || e->Y == NULL || e->p == NULL)
    return ir_error(IR_EINVAL, "ir_widthsweep_emc_net_fit: NULL argument");
  if (n == 0 || n > e->X->size1)
    return ir_error(IR_EINVAL,
                    "ir_widthsweep_emc_net_fit: n = %zu outside 1..%zu", n,
                    e->X->size1);
  gsl_matrix_const_view Xv =
      gsl_matrix_const_submatrix(e->X, 0, 0, n, e->X->size2);
  gsl_matrix_const_view Yv =
      gsl_matrix_const_submatrix(e->Y, 0, 0, n, e->Y->size2);
  ir_widthsweep_result r;
  int s = ir_widthsweep_train(&Xv.matrix, &Yv.matrix, NULL, NULL, e->p, e->seed,
                              NULL, NULL, NULL, &r);
  if (s == IR_OK)
    *train_err = r.train_err;
  return s;
}

/* ---- the peak
 * ------------------------------------------------------------------- */

int ir_widthsweep_peak(const double *err, size_t nseeds, size_t m,
                       size_t *ipeak, size_t *imin, double *height) {
  if (err == NULL || ipeak == NULL || imin == NULL || height == NULL ||
      m == 0 || nseeds == 0)
    return ir_error(IR_EINVAL, "ir_widthsweep_peak: bad arguments");
  for (size_t i = 0; i < nseeds * m; i++)
    if (!isfinite(err[i]))
      return ir_error(IR_EBADDATA,
                      "ir_widthsweep_peak: error of seed %zu at width %zu is "
                      "not finite",
                      i / m + 1, i % m + 1);
  /* The mean curve; its first local minimum from the left ends the
   * classical (under-parameterized) descent; the peak is the largest mean
   * after it. */
  double *mean = malloc(m * sizeof *mean);
  if (mean == NULL)
    return ir_error(IR_ENOMEM, "ir_widthsweep_peak: out of memory");
  for (size_t j = 0; j < m; j++) {
    mean[j] = 0;
    for (size_t s = 0; s < nseeds; s++)
      mean[j] += err[s * m + j];
    mean[j] /= (double)nseeds;
  }
  size_t jmin = 0;
  while (jmin + 1 < m && mean[jmin + 1] < mean[jmin])
    jmin++;
  size_t best = jmin;
  for (size_t j = jmin + 1; j < m; j++)
    if (mean[j] > mean[best])
      best = j;
  free(mean);
  *imin = jmin;
  *ipeak = best;
  for (size_t s = 0; s < nseeds; s++)
    height[s] = err[s * m + best] - err[s * m + m - 1];
  return IR_OK;
}
