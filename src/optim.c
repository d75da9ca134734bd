/* optim.c — GD, SGD and heavy-ball momentum with divergence detection. */
#include "implreg/optim.h"

#include "implreg/rng.h"
#include "implreg/status.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ir_optim_params_default(ir_optim_params *p) {
  memset(p, 0, sizeof *p);
  p->max_steps = 1000;
  p->loss_goal = -1;
  p->diverge_ratio = 1e8;
  p->seed = 1;
  p->stream = ir_rng_stream(IR_STREAM_SGD, 0, 0);
}

int ir_optim_params_check(const ir_optim_params *p) {
  if (!(p->lr > 0) || !isfinite(p->lr))
    return ir_error(IR_EINVAL, "step size %g must be finite and > 0", p->lr);
  if (!(p->momentum >= 0 && p->momentum < 1))
    return ir_error(IR_EINVAL, "momentum %g must be in [0, 1)", p->momentum);
  if (!(p->egr >= 0) || !isfinite(p->egr))
    return ir_error(IR_EINVAL,
                    "gradient-regularization weight %g must be finite and >= 0",
                    p->egr);
  if (!(p->diverge_ratio > 1))
    return ir_error(IR_EINVAL, "diverge_ratio %g must be > 1",
                    p->diverge_ratio);
  if (p->seed == 0)
    return ir_error(IR_EINVAL, "seed 0 is not allowed (seeds start at 1)");
  return IR_OK;
}

/* Are all entries finite?  x·0 is 0 for finite x and NaN for ±inf and NaN,
 * so one NaN-propagating sum answers without a branch per entry (the loop
 * vectorizes; it runs on the whole gradient every step). */
static int ir_vec_finite(const gsl_vector *v) {
  const double *x = v->data;
  const size_t n = v->size, st = v->stride;
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0; /* independent chains */
  size_t i = 0;
  if (st == 1)
    for (; i + 4 <= n; i += 4) {
      a0 += x[i] * 0.0;
      a1 += x[i + 1] * 0.0;
      a2 += x[i + 2] * 0.0;
      a3 += x[i + 3] * 0.0;
    }
  for (; i < n; i++)
    a0 += x[i * st] * 0.0;
  return (a0 + a1) + (a2 + a3) == 0.0;
}

typedef struct {
  gsl_vector *grad, *vel, *prev;
  gsl_vector *hg;   /* H·g for explicit gradient regularization */
  gsl_vector *good;  /* mini-batches: the iterate at the last epoch end */
  gsl_vector *start; /* mini-batches: θ₀ (its full loss is finite) */
  size_t *idx, *perm;
  gsl_rng *rng;
} ir_optim_ws;

static void ir_optim_ws_free(ir_optim_ws *w) {
  if (w->grad)
    gsl_vector_free(w->grad);
  if (w->vel)
    gsl_vector_free(w->vel);
  if (w->prev)
    gsl_vector_free(w->prev);
  if (w->hg)
    gsl_vector_free(w->hg);
  if (w->good)
    gsl_vector_free(w->good);
  if (w->start)
    gsl_vector_free(w->start);
  free(w->idx);
  free(w->perm);
  ir_rng_free(w->rng);
}

/* Fills idx with the next mini-batch and returns its size; *pos walks
 * through the current permutation (reshuffled when exhausted). */
static size_t ir_optim_next_batch(ir_optim_ws *w, const ir_optim_params *p,
                                  size_t n, size_t *pos) {
  const size_t B = p->batch;
  if (p->replacement) {
    for (size_t i = 0; i < B; i++)
      w->idx[i] = (size_t)gsl_rng_uniform_int(w->rng, (unsigned long)n);
    return B;
  }
  if (*pos >= n) {
    ir_rng_permutation(w->rng, w->perm, n);
    *pos = 0;
  }
  /* The last batch of an epoch holds the n mod B samples left over, so that
   * every sample is used exactly once per epoch. */
  size_t m = n - *pos < B ? n - *pos : B;
  memcpy(w->idx, w->perm + *pos, m * sizeof(size_t));
  *pos += m;
  return m;
}

/* Mini-batches, after a non-finite loss: θ ← the iterate of the last epoch
 * end if its full loss is finite, else θ₀ (whose full loss is).  *loss gets
 * the full loss of the returned iterate. */
static int ir_optim_restore(ir_model *m, ir_optim_ws *w, gsl_vector *theta,
                            double *loss) {
  gsl_vector_memcpy(theta, w->good);
  int s = ir_model_loss_grad(m, theta, NULL, 0, loss, NULL);
  if (s == IR_OK && !isfinite(*loss)) {
    gsl_vector_memcpy(theta, w->start);
    s = ir_model_loss_grad(m, theta, NULL, 0, loss, NULL);
  }
  return s;
}

int ir_optim_run(ir_model *m, const ir_optim_params *p, gsl_vector *theta,
                 ir_optim_observer observe, void *ctx, ir_optim_result *res) {
  int s = ir_optim_params_check(p);
  if (s != IR_OK)
    return s;
  if (theta->size != m->nparams)
    return ir_error(IR_ESHAPE, "initial parameters have length %zu, model %zu",
                    theta->size, m->nparams);
  const size_t n = m->nsamples;
  const int full = p->batch == 0 || p->batch >= n;
  const size_t steps_per_epoch = full ? 1 : (n + p->batch - 1) / p->batch;
  ir_optim_ws w;
  memset(&w, 0, sizeof w);
  memset(res, 0, sizeof *res);
  w.grad = gsl_vector_alloc(m->nparams);
  if (p->momentum > 0)
    w.vel = gsl_vector_calloc(m->nparams);
  if (p->egr > 0)
    w.hg = gsl_vector_alloc(m->nparams);
  if (full) {
    w.prev = gsl_vector_alloc(m->nparams);
  } else {
    w.good = gsl_vector_alloc(m->nparams);
    w.start = gsl_vector_alloc(m->nparams);
    w.idx = malloc(p->batch * sizeof(size_t));
    w.perm = malloc(n * sizeof(size_t));
    w.rng = ir_rng_alloc(p->seed, p->stream);
  }
  if (!w.grad || (p->momentum > 0 && !w.vel) || (p->egr > 0 && !w.hg) ||
      (full && !w.prev) ||
      (!full && (!w.good || !w.start || !w.idx || !w.perm || !w.rng))) {
    ir_optim_ws_free(&w);
    return ir_error(IR_ENOMEM, "out of memory (optimizer, %zu parameters)",
                    m->nparams);
  }
  double loss = 0, limit = 0;
  s = ir_model_loss_grad(m, theta, NULL, 0, &loss, NULL);
  if (s != IR_OK)
    goto done;
  if (!isfinite(loss) || !ir_vec_finite(theta)) {
    s = ir_error(IR_EBADDATA, "the initial loss is not finite");
    goto done;
  }
  res->initial_loss = loss;
  /* |L₀| sets the scale: a loss that can be negative (a quadratic with a
   * linear term) diverges when it grows past ratio·|L₀|, not past 0. */
  limit = p->diverge_ratio * fmax(fabs(loss), DBL_MIN);
  const int goal = p->loss_goal >= 0; /* a negative goal means none */
  if (!full) {
    gsl_vector_memcpy(w.good, theta);
    gsl_vector_memcpy(w.start, theta);
  }
  if (observe && observe(ctx, 0, theta)) {
    res->reason = IR_OPTIM_STOPPED;
    goto final;
  }
  if (goal && loss <= p->loss_goal) {
    res->reason = IR_OPTIM_GOAL;
    goto final;
  }
  size_t pos = n; /* forces a shuffle before the first mini-batch */
  /* Mini-batches: the sample-weighted sum of this epoch's batch losses. */
  double epoch_sum = 0;
  size_t epoch_rows = 0;
  for (size_t t = 1; t <= p->max_steps; t++) {
    double bl = 0;
    const size_t *bidx = NULL;
    size_t nb = 0;
    if (!full) {
      nb = ir_optim_next_batch(&w, p, n, &pos);
      bidx = w.idx;
    }
    /* For GD the gradient evaluation at θ_{t−1} also gives its full loss. */
    s = ir_model_loss_grad(m, theta, bidx, nb, &bl, w.grad);
    if (s == IR_OK && p->egr > 0) {
      /* ∇(L + μ‖∇L‖²) = g + 2μ·H g: one Hessian-vector product on the same
       * batch (models cache the forward pass for it). */
      s = ir_model_hvp(m, theta, bidx, nb, w.grad, w.hg);
      if (s == IR_OK && ir_vec_finite(w.grad))
        gsl_blas_daxpy(2.0 * p->egr, w.hg, w.grad);
    }
    if (s != IR_OK)
      goto done;
    if (!isfinite(bl) || (full && bl > limit) || !ir_vec_finite(w.grad)) {
      res->diverged = 1;
      res->diverged_at = t - 1;
      res->reason = IR_OPTIM_DIVERGED;
      if (!isfinite(bl) && t > 1) {
        if (full) {
          gsl_vector_memcpy(theta, w.prev);
        } else {
          s = ir_optim_restore(m, &w, theta, &res->final_loss);
          goto done;
        }
      }
      goto final;
    }
    if (goal && full && bl <= p->loss_goal) {
      res->reason = IR_OPTIM_GOAL;
      goto final;
    }
    if (full)
      gsl_vector_memcpy(w.prev, theta);
    else {
      epoch_sum += bl * (double)nb;
      epoch_rows += nb;
    }
    if (w.vel) {
      gsl_vector_scale(w.vel, p->momentum);
      gsl_vector_add(w.vel, w.grad);
      gsl_blas_daxpy(-p->lr, w.vel, theta);
    } else {
      gsl_blas_daxpy(-p->lr, w.grad, theta);
    }
    res->steps = t;
    if (observe && observe(ctx, t, theta)) {
      res->reason = IR_OPTIM_STOPPED;
      goto final;
    }
    if (!full && t % steps_per_epoch == 0) {
      /* Once per epoch: divergence from the mean batch loss of the epoch
       * (every sample once, without replacement; n samples' worth with),
       * which costs nothing; the full loss only for the goal. */
      double el = epoch_sum / (double)epoch_rows;
      epoch_sum = 0;
      epoch_rows = 0;
      if (goal) {
        s = ir_model_loss_grad(m, theta, NULL, 0, &bl, NULL);
        if (s != IR_OK)
          goto done;
        if (!isfinite(bl)) {
          res->diverged = 1;
          res->diverged_at = t;
          res->reason = IR_OPTIM_DIVERGED;
          s = ir_optim_restore(m, &w, theta, &res->final_loss);
          goto done;
        }
        el = fmax(el, bl);
      }
      if (!isfinite(el) || el > limit) {
        res->diverged = 1;
        res->diverged_at = t;
        res->reason = IR_OPTIM_DIVERGED;
        goto final;
      }
      gsl_vector_memcpy(w.good, theta);
      if (goal && bl <= p->loss_goal) {
        res->reason = IR_OPTIM_GOAL;
        goto final;
      }
    }
  }
  res->reason = IR_OPTIM_MAX_STEPS;
final:
  s = ir_model_loss_grad(m, theta, NULL, 0, &res->final_loss, NULL);
  /* The last update is not followed by a check in the loop: check it here. */
  if (s == IR_OK && !res->diverged &&
      (!isfinite(res->final_loss) || res->final_loss > limit)) {
    res->diverged = 1;
    res->diverged_at = res->steps;
    res->reason = IR_OPTIM_DIVERGED;
  }
  if (s == IR_OK && !isfinite(res->final_loss)) {
    if (full) {
      gsl_vector_memcpy(theta, w.prev);
      s = ir_model_loss_grad(m, theta, NULL, 0, &res->final_loss, NULL);
    } else {
      s = ir_optim_restore(m, &w, theta, &res->final_loss);
    }
  }
done:
  ir_optim_ws_free(&w);
  return s;
}
