/* sharpness.c — Keskar et al.'s ε-sharpness by projected gradient ascent
 * over the box C_ε (see implreg/sharpness.h for the definition). */
#include "implreg/sharpness.h"

#include "implreg/rng.h"
#include "implreg/status.h"

#include <gsl/gsl_blas.h> /* brings gsl_cblas.h (docs/stack.md trap 2) */
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Armijo's sufficient-increase constant and the most halvings of a step
 * before the ascent is declared stuck (2^-60 of a step is below rounding). */
#define IR_SHARP_ARMIJO 1e-4
#define IR_SHARP_MAX_HALVINGS 60

void ir_sharpness_params_default(ir_sharpness_params *p) {
  p->eps = 1e-3;
  p->rank = 0;
  p->max_iter = 50;
  p->seed = 1;
  p->stream = ir_rng_stream(IR_STREAM_PROBE, 90, 0);
}

/* Everything one evaluation of F(y) = f(θ + A y) and ∇F = Aᵀ∇f needs. */
typedef struct {
  ir_model *m;
  const gsl_vector *theta;
  const size_t *idx;
  size_t nb, p, r;
  const double *A; /* p×r row-major, or NULL for A = I */
  gsl_vector *x, *g;
  size_t nevals;
} sh_ctx;

static int sh_eval(sh_ctx *c, const double *y, double *f, double *gy) {
  memcpy(c->x->data, c->theta->data, c->p * sizeof(double));
  if (c->A == NULL) {
    for (size_t i = 0; i < c->p; i++)
      c->x->data[i] += y[i];
  } else {
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)c->p, (int)c->r, 1.0, c->A,
                (int)c->r, y, 1, 1.0, c->x->data, 1);
  }
  int s = ir_model_loss_grad(c->m, c->x, c->idx, c->nb, f, c->g);
  c->nevals++;
  if (s != IR_OK)
    return s;
  if (!isfinite(*f))
    return ir_error(IR_EBADDATA,
                    "ε-sharpness: the loss is not finite inside the box "
                    "(ε too large for this model?)");
  if (c->A == NULL)
    memcpy(gy, c->g->data, c->p * sizeof(double));
  else
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)c->p, (int)c->r, 1.0, c->A,
                (int)c->r, c->g->data, 1, 0.0, gy, 1);
  return IR_OK;
}

/* The box half-widths b_i = ε(|(A⁺θ)_i| + 1).  A⁺θ solves the least-squares
 * problem min ‖A z − θ‖ (dgels, QR of the p×r matrix: A has full column
 * rank with probability one). */
static int sh_bounds(const sh_ctx *c, double eps, double *b) {
  const size_t p = c->p, r = c->r;
  if (c->A == NULL) {
    for (size_t i = 0; i < p; i++)
      b[i] = eps * (fabs(c->theta->data[i]) + 1.0);
    return IR_OK;
  }
  double *Acm = malloc(p * r * sizeof(double)), *z = malloc(p * sizeof(double));
  if (Acm == NULL || z == NULL) {
    free(Acm);
    free(z);
    return ir_error(IR_ENOMEM, "ε-sharpness: out of memory (%zu×%zu)", p, r);
  }
  for (size_t i = 0; i < p; i++) /* row-major p×r into column-major */
    for (size_t j = 0; j < r; j++)
      Acm[j * p + i] = c->A[i * r + j];
  memcpy(z, c->theta->data, p * sizeof(double));
  lapack_int info = LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)p,
                                  (lapack_int)r, 1, Acm, (lapack_int)p, z,
                                  (lapack_int)p);
  int s = IR_OK;
  if (info != 0)
    s = ir_error(info < 0 ? IR_EINTERNAL : IR_ESING,
                 "ε-sharpness: dgels on the random %zu×%zu matrix failed "
                 "(info %d)",
                 p, r, (int)info);
  else
    for (size_t j = 0; j < r; j++)
      b[j] = eps * (fabs(z[j]) + 1.0);
  free(Acm);
  free(z);
  return s;
}

static int sh_check(const ir_model *m, const gsl_vector *theta,
                    const ir_sharpness_params *p, const ir_sharpness_result *o) {
  if (m == NULL || theta == NULL || p == NULL || o == NULL)
    return ir_error(IR_EINVAL, "ε-sharpness: missing model, θ, parameters or "
                               "result");
  if (theta->size != m->nparams || theta->stride != 1)
    return ir_error(IR_ESHAPE, "ε-sharpness: θ has %zu entries (stride %zu), "
                    "the model %zu",
                    theta->size, theta->stride, m->nparams);
  if (!(p->eps > 0) || !isfinite(p->eps))
    return ir_error(IR_EINVAL, "ε-sharpness: ε = %g, need a finite ε > 0",
                    p->eps);
  if (p->rank > m->nparams)
    return ir_error(IR_EINVAL, "ε-sharpness: rank %zu > p = %zu (use 0 for "
                    "A = I)",
                    p->rank, m->nparams);
  if (p->max_iter == 0)
    return ir_error(IR_EINVAL, "ε-sharpness: max_iter must be >= 1");
  if (p->seed == 0)
    return ir_error(IR_EINVAL, "ε-sharpness: seed 0 (seeds start at 1)");
  return IR_OK;
}

int ir_sharpness_eps(ir_model *m, const gsl_vector *theta, const size_t *idx,
                     size_t nb, const ir_sharpness_params *p,
                     ir_sharpness_result *out) {
  int s = sh_check(m, theta, p, out);
  if (s != IR_OK)
    return s;
  memset(out, 0, sizeof *out);
  const size_t np = m->nparams, r = p->rank ? p->rank : np;
  sh_ctx c = {m, theta, idx, nb, np, r, NULL, gsl_vector_alloc(np),
              gsl_vector_alloc(np), 0};
  double *A = p->rank ? malloc(np * r * sizeof(double)) : NULL;
  double *work = malloc(5 * r * sizeof(double));
  gsl_rng *rng = ir_rng_alloc(p->seed, p->stream);
  if (c.x == NULL || c.g == NULL || work == NULL || (p->rank && A == NULL) ||
      rng == NULL) {
    s = rng ? ir_error(IR_ENOMEM, "ε-sharpness: out of memory (p = %zu, "
                       "r = %zu)", np, r)
            : IR_ENOMEM;
    goto done;
  }
  double *b = work, *y = work + r, *gy = work + 2 * r, *yn = work + 3 * r,
         *gn = work + 4 * r;
  if (A != NULL) {
    for (size_t i = 0; i < np * r; i++)
      A[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
    c.A = A;
  }
  s = sh_bounds(&c, p->eps, b);
  if (s != IR_OK)
    goto done;

  /* f(x) itself, then the random feasible start. */
  double f0, F;
  memset(y, 0, r * sizeof(double));
  s = sh_eval(&c, y, &f0, gy);
  if (s != IR_OK)
    goto done;
  for (size_t i = 0; i < r; i++)
    y[i] = b[i] * (2.0 * gsl_rng_uniform(rng) - 1.0);
  s = sh_eval(&c, y, &F, gy);
  if (s != IR_OK)
    goto done;
  double best = fmax(F, f0);

  /* First trial step: the largest coordinate moves by its box width. */
  double t = 0;
  for (size_t i = 0; i < r; i++)
    if (gy[i] != 0)
      t = fmax(t, 2 * b[i] / fabs(gy[i]));
  int stationary = t == 0;
  size_t it = 0;
  while (!stationary && it < p->max_iter) {
    it++;
    int accepted = 0;
    for (int h = 0; h < IR_SHARP_MAX_HALVINGS && !accepted; h++, t *= 0.5) {
      double dec = 0, moved = 0;
      for (size_t i = 0; i < r; i++) {
        yn[i] = fmin(b[i], fmax(-b[i], y[i] + t * gy[i]));
        dec += gy[i] * (yn[i] - y[i]);
        moved = fmax(moved, fabs(yn[i] - y[i]));
      }
      if (moved == 0) { /* the projected gradient vanishes: a KKT point */
        stationary = 1;
        break;
      }
      double Fn;
      s = sh_eval(&c, yn, &Fn, gn);
      if (s != IR_OK)
        goto done;
      if (Fn >= F + IR_SHARP_ARMIJO * dec) {
        accepted = 1;
        memcpy(y, yn, r * sizeof(double));
        memcpy(gy, gn, r * sizeof(double));
        F = Fn;
        best = fmax(best, F);
      }
    }
    if (!accepted)
      break; /* stationary, or no increase at any step length */
    t *= 4;  /* the loop halved once after acceptance: net growth ×2 */
  }
  size_t nbound = 0;
  for (size_t i = 0; i < r; i++)
    nbound += fabs(y[i]) >= b[i] * (1 - 1e-12);
  out->f0 = f0;
  out->fmax = best;
  out->phi = 100.0 * (best - f0) / (1.0 + f0);
  out->nevals = c.nevals;
  out->iters = it;
  out->at_bound = (double)nbound / (double)r;
  out->stationary = stationary;
done:
  gsl_vector_free(c.x);
  gsl_vector_free(c.g);
  free(A);
  free(work);
  ir_rng_free(rng);
  return s;
}
