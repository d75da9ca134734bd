/* flow.c — gradient flows and modified flows with GSL odeiv2 (flow.h). */
#include "implreg/flow.h"

#include "implreg/status.h"

#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ir_flow_params_default(ir_flow_params *p) {
  memset(p, 0, sizeof *p);
  p->c = 1;
  p->stepper = IR_FLOW_AUTO;
  p->rtol = 1e-11;
  p->atol = -1;
  p->max_steps = 1000000;
  p->global_error = 1;
}

int ir_flow_params_check(const ir_flow_params *p) {
  if (!(p->c > 0) || !isfinite(p->c))
    return ir_error(IR_EINVAL, "flow time scale c = %g must be finite and > 0",
                    p->c);
  if (!isfinite(p->lambda) || !isfinite(p->kappa))
    return ir_error(IR_EINVAL,
                    "flow coefficients lambda = %g, kappa = %g must be finite",
                    p->lambda, p->kappa);
  /* Below 1e-13 the 100× tighter rerun would ask for less than rounding;
   * above 1e-7 the error of rk8pd stops following the tolerance (its
   * error control then lands by luck as often as by design), and the
   * rerun's difference no longer bounds it. */
  if (!(p->rtol >= 1e-13 && p->rtol <= 1e-7))
    return ir_error(
        IR_EINVAL, "flow tolerance rtol = %g is not in [1e-13, 1e-7]", p->rtol);
  if (isnan(p->atol) || isinf(p->atol))
    return ir_error(IR_EINVAL, "flow tolerance atol = %g is not finite",
                    p->atol);
  if (p->max_steps == 0)
    return ir_error(IR_EINVAL, "flow step budget max_steps must be >= 1");
  if (p->stepper != IR_FLOW_AUTO && p->stepper != IR_FLOW_RK8PD &&
      p->stepper != IR_FLOW_MSBDF)
    return ir_error(IR_EINVAL, "unknown flow stepper %d", (int)p->stepper);
  return IR_OK;
}

const char *ir_flow_stepper_name(ir_flow_stepper s) {
  switch (s) {
  case IR_FLOW_RK8PD: return "rk8pd";
  case IR_FLOW_MSBDF: return "msbdf";
  default: return "auto";
  }
}

int ir_flow_stepper_parse(const char *name, ir_flow_stepper *s) {
  if (strcmp(name, "auto") == 0)
    *s = IR_FLOW_AUTO;
  else if (strcmp(name, "rk8pd") == 0)
    *s = IR_FLOW_RK8PD;
  else if (strcmp(name, "msbdf") == 0)
    *s = IR_FLOW_MSBDF;
  else
    return ir_error(IR_EINVAL,
                    "unknown stepper '%s' (use auto, rk8pd or msbdf)", name);
  return IR_OK;
}

/* ---- The vector field ------------------------------------------------------
 */

typedef struct {
  ir_model *m;
  const ir_flow_params *p;
  size_t n;
  gsl_vector *g, *hg, *gi, *hgi, *acc;
  gsl_matrix *I, *H, *Hp, *Hm, *T; /* Jacobian scratch, on first use */
  gsl_vector *shift;
  int status; /* first failure inside a GSL callback */
  size_t nevals, njac;
} ir_flow_ctx;

static void ir_flow_ctx_free(ir_flow_ctx *x) {
  gsl_vector *v[] = {x->g, x->hg, x->gi, x->hgi, x->acc, x->shift};
  gsl_matrix *M[] = {x->I, x->H, x->Hp, x->Hm, x->T};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (v[i])
      gsl_vector_free(v[i]);
  for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
    if (M[i])
      gsl_matrix_free(M[i]);
}

static int ir_flow_ctx_init(ir_flow_ctx *x, ir_model *m,
                            const ir_flow_params *p) {
  memset(x, 0, sizeof *x);
  x->m = m;
  x->p = p;
  x->n = m->nparams;
  if (p->kappa != 0 && m->nsamples < 2)
    return ir_error(IR_EINVAL,
                    "the noise term kappa*Gamma needs per-sample losses, but "
                    "the model has %zu sample",
                    m->nsamples);
  x->g = gsl_vector_alloc(x->n);
  x->hg = gsl_vector_alloc(x->n);
  if (p->kappa != 0) {
    x->gi = gsl_vector_alloc(x->n);
    x->hgi = gsl_vector_alloc(x->n);
    x->acc = gsl_vector_alloc(x->n);
  }
  if (!x->g || !x->hg || (p->kappa != 0 && (!x->gi || !x->hgi || !x->acc))) {
    ir_flow_ctx_free(x);
    return ir_error(IR_ENOMEM, "out of memory (flow of %zu parameters)", x->n);
  }
  return IR_OK;
}

/* f = −c(g + 2λ H g + κ∇Γ) at y. */
static int ir_flow_eval(ir_flow_ctx *x, const double *y, double *f) {
  const ir_flow_params *p = x->p;
  gsl_vector_const_view th = gsl_vector_const_view_array(y, x->n);
  gsl_vector_view fv = gsl_vector_view_array(f, x->n);
  double loss;
  int s = ir_model_loss_grad(x->m, &th.vector, NULL, 0, &loss, x->g);
  if (s == IR_OK && (p->lambda != 0 || p->kappa != 0))
    s = ir_model_hvp(x->m, &th.vector, NULL, 0, x->g, x->hg);
  if (s != IR_OK)
    return s;
  gsl_vector_memcpy(&fv.vector, x->g);
  if (p->lambda != 0)
    gsl_blas_daxpy(2 * p->lambda, x->hg, &fv.vector);
  if (p->kappa != 0) {
    /* ∇Γ = (2/N) Σ_i H_i g_i − 2 H g, one sample at a time. */
    const size_t N = x->m->nsamples;
    gsl_vector_set_zero(x->acc);
    for (size_t i = 0; i < N && s == IR_OK; i++) {
      s = ir_model_loss_grad(x->m, &th.vector, &i, 1, &loss, x->gi);
      if (s == IR_OK)
        s = ir_model_hvp(x->m, &th.vector, &i, 1, x->gi, x->hgi);
      if (s == IR_OK)
        gsl_vector_add(x->acc, x->hgi);
    }
    if (s != IR_OK)
      return s;
    gsl_blas_daxpy(2 * p->kappa / (double)N, x->acc, &fv.vector);
    gsl_blas_daxpy(-2 * p->kappa, x->hg, &fv.vector);
  }
  gsl_vector_scale(&fv.vector, -p->c);
  x->nevals++;
  for (size_t i = 0; i < x->n; i++)
    if (!isfinite(f[i]))
      return ir_error(IR_EDIVERGE, "the flow's vector field is not finite");
  return IR_OK;
}

int ir_flow_field(ir_model *m, const ir_flow_params *p, const gsl_vector *theta,
                  gsl_vector *f) {
  int s = ir_flow_params_check(p);
  if (s != IR_OK)
    return s;
  if (theta->size != m->nparams || f->size != m->nparams ||
      theta->stride != 1 || f->stride != 1)
    return ir_error(IR_ESHAPE, "flow field: vectors must have length %zu",
                    m->nparams);
  ir_flow_ctx x;
  if ((s = ir_flow_ctx_init(&x, m, p)) != IR_OK)
    return s;
  s = ir_flow_eval(&x, theta->data, f->data);
  ir_flow_ctx_free(&x);
  return s;
}

/* ---- The Jacobian
 * ------------------------------------------------------------
 */

/* H = ∇²E at y on the batch (idx, nb), from p HVPs against the identity,
 * symmetrized. */
static int ir_flow_dense_hessian(ir_flow_ctx *x, const double *y,
                                 const size_t *idx, size_t nb, gsl_matrix *H) {
  gsl_vector_const_view th = gsl_vector_const_view_array(y, x->n);
  int s = ir_model_hvp_many(x->m, &th.vector, idx, nb, x->I, H);
  if (s != IR_OK)
    return s;
  for (size_t i = 0; i < x->n; i++)
    for (size_t j = i + 1; j < x->n; j++) {
      double a = 0.5 * (gsl_matrix_get(H, i, j) + gsl_matrix_get(H, j, i));
      gsl_matrix_set(H, i, j, a);
      gsl_matrix_set(H, j, i, a);
    }
  return IR_OK;
}

/* acc += w·(H² + D_v H) for the Hessian of the batch at y, v its gradient
 * there (v = g for the whole loss): the Jacobian of H(θ)g(θ) is
 * H·H + D_g H because d/dθ [H g] = H ∂g/∂θ + (∂H/∂θ)[·] g and the third
 * derivative is symmetric, (∂H[u]) g = (∂H[g]) u.  D_v H is a central
 * difference along v with the step cbrt(eps)·max(‖θ‖, 1)/‖v‖. */
static int ir_flow_hg_jacobian(ir_flow_ctx *x, const double *y,
                               const size_t *idx, size_t nb,
                               const gsl_vector *v, double w, gsl_matrix *acc) {
  const size_t n = x->n;
  int s = ir_flow_dense_hessian(x, y, idx, nb, x->H);
  if (s != IR_OK)
    return s;
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, w, x->H, x->H, 1.0, acc);
  const double vn = gsl_blas_dnrm2(v);
  if (vn == 0)
    return IR_OK;
  gsl_vector_const_view th = gsl_vector_const_view_array(y, n);
  const double delta =
      cbrt(DBL_EPSILON) * fmax(gsl_blas_dnrm2(&th.vector), 1.0) / vn;
  gsl_vector_memcpy(x->shift, &th.vector);
  gsl_blas_daxpy(delta, v, x->shift);
  if ((s = ir_flow_dense_hessian(x, x->shift->data, idx, nb, x->Hp)) != IR_OK)
    return s;
  gsl_vector_memcpy(x->shift, &th.vector);
  gsl_blas_daxpy(-delta, v, x->shift);
  if ((s = ir_flow_dense_hessian(x, x->shift->data, idx, nb, x->Hm)) != IR_OK)
    return s;
  gsl_matrix_sub(x->Hp, x->Hm);
  gsl_matrix_scale(x->Hp, w / (2 * delta));
  gsl_matrix_add(acc, x->Hp);
  return IR_OK;
}

static int ir_flow_jac_eval(ir_flow_ctx *x, const double *y, double *J) {
  const ir_flow_params *p = x->p;
  const size_t n = x->n;
  if (x->I == NULL) {
    x->I = gsl_matrix_alloc(n, n);
    x->H = gsl_matrix_alloc(n, n);
    x->Hp = gsl_matrix_alloc(n, n);
    x->Hm = gsl_matrix_alloc(n, n);
    x->T = gsl_matrix_alloc(n, n);
    x->shift = gsl_vector_alloc(n);
    if (!x->I || !x->H || !x->Hp || !x->Hm || !x->T || !x->shift)
      return ir_error(IR_ENOMEM, "out of memory (flow Jacobian, %zu x %zu)", n,
                      n);
    gsl_matrix_set_identity(x->I);
  }
  gsl_matrix_view Jm = gsl_matrix_view_array(J, n, n);
  gsl_vector_const_view th = gsl_vector_const_view_array(y, n);
  double loss;
  int s = ir_model_loss_grad(x->m, &th.vector, NULL, 0, &loss, x->g);
  if (s != IR_OK)
    return s;
  if (p->lambda != 0 || p->kappa != 0) {
    /* T = H² + D_g H of the whole loss (x->H is left holding H); both the
     * λ term and the −2κ H g part of κ∇Γ have this Jacobian. */
    gsl_matrix_set_zero(x->T);
    if ((s = ir_flow_hg_jacobian(x, y, NULL, 0, x->g, 1.0, x->T)) != IR_OK)
      return s;
    gsl_matrix_memcpy(&Jm.matrix, x->H);
    gsl_matrix_scale(x->T, 2 * p->lambda - 2 * p->kappa);
    gsl_matrix_add(&Jm.matrix, x->T);
  } else {
    if ((s = ir_flow_dense_hessian(x, y, NULL, 0, x->H)) != IR_OK)
      return s;
    gsl_matrix_memcpy(&Jm.matrix, x->H);
  }
  if (p->kappa != 0) {
    const size_t N = x->m->nsamples;
    gsl_matrix_set_zero(x->T);
    for (size_t i = 0; i < N && s == IR_OK; i++) {
      s = ir_model_loss_grad(x->m, &th.vector, &i, 1, &loss, x->gi);
      if (s == IR_OK)
        s = ir_flow_hg_jacobian(x, y, &i, 1, x->gi, 2 * p->kappa / (double)N,
                                x->T);
    }
    if (s != IR_OK)
      return s;
    gsl_matrix_add(&Jm.matrix, x->T);
  }
  gsl_matrix_scale(&Jm.matrix, -p->c);
  /* The Jacobian of a gradient field is symmetric; the finite difference
   * and the products leave rounding-level asymmetry. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      double a = 0.5 * (J[i * n + j] + J[j * n + i]);
      J[i * n + j] = J[j * n + i] = a;
    }
  x->njac++;
  for (size_t i = 0; i < n * n; i++)
    if (!isfinite(J[i]))
      return ir_error(IR_EDIVERGE, "the flow's Jacobian is not finite");
  return IR_OK;
}

int ir_flow_jacobian(ir_model *m, const ir_flow_params *p,
                     const gsl_vector *theta, gsl_matrix *J) {
  int s = ir_flow_params_check(p);
  if (s != IR_OK)
    return s;
  const size_t n = m->nparams;
  if (theta->size != n || theta->stride != 1 || J->size1 != n ||
      J->size2 != n || J->tda != n)
    return ir_error(IR_ESHAPE,
                    "flow Jacobian: need theta of length %zu and "
                    "a contiguous %zu x %zu matrix",
                    n, n, n);
  ir_flow_ctx x;
  if ((s = ir_flow_ctx_init(&x, m, p)) != IR_OK)
    return s;
  s = ir_flow_jac_eval(&x, theta->data, J->data);
  ir_flow_ctx_free(&x);
  return s;
}

/* ---- GSL callbacks
 * -------------------------------------------------------------
 */

static int ir_flow_gsl_f(double t, const double y[], double dydt[],
                         void *params) {
  (void)t;
  ir_flow_ctx *x = params;
  int s = ir_flow_eval(x, y, dydt);
  if (s != IR_OK) {
    if (x->status == IR_OK)
      x->status = s;
    return GSL_EBADFUNC;
  }
  return GSL_SUCCESS;
}

static int ir_flow_gsl_jac(double t, const double y[], double *dfdy,
                           double dfdt[], void *params) {
  (void)t;
  ir_flow_ctx *x = params;
  memset(dfdt, 0, x->n * sizeof(double)); /* autonomous */
  int s = ir_flow_jac_eval(x, y, dfdy);
  if (s != IR_OK) {
    if (x->status == IR_OK)
      x->status = s;
    return GSL_EBADFUNC;
  }
  return GSL_SUCCESS;
}

/* ---- Integration
 * ---------------------------------------------------------------
 */

/* One integration at tolerances (rtol, atol) with stepper type st into out.
 * *steps accumulates the stepper's steps. */
static int ir_flow_integrate(ir_flow_ctx *x, ir_flow_stepper st, double rtol,
                             double atol, int split, const gsl_vector *theta0,
                             const double *times, size_t nt, gsl_matrix *out,
                             double *y, size_t *steps, size_t *at) {
  const size_t n = x->n;
  const ir_flow_params *p = x->p;
  const double tend = times[nt - 1];
  memcpy(y, theta0->data, n * sizeof(double));
  /* Starting step: at most the whole span (the error control corrects it
   * at once). */
  double h0 = tend > 0 ? tend : 1.0;
  {
    double *f = malloc(n * sizeof(double));
    if (f == NULL)
      return ir_error(IR_ENOMEM, "out of memory (flow)");
    int s = ir_flow_eval(x, y, f);
    if (s == IR_OK) {
      double fn = 0, yn = 0;
      for (size_t i = 0; i < n; i++) {
        fn = fmax(fn, fabs(f[i]));
        yn = fmax(yn, fabs(y[i]));
      }
      /* A relative change of rtol^(1/9) per step (the accuracy an
       * order-8 method reaches at that tolerance): a tolerance-dependent
       * start keeps the loose and tight integrations (global_error) from
       * taking identical steps while the growth limit binds. */
      if (fn > 0)
        h0 = fmin(h0, pow(rtol, 1.0 / 9) * fmax(yn, 1.0) / fn);
    }
    free(f);
    if (s != IR_OK)
      return s;
  }
  gsl_odeiv2_system sys = {ir_flow_gsl_f, ir_flow_gsl_jac, n, x};
  gsl_odeiv2_driver *d = gsl_odeiv2_driver_alloc_y_new(
      &sys, st == IR_FLOW_MSBDF ? gsl_odeiv2_step_msbdf : gsl_odeiv2_step_rk8pd,
      h0, atol, rtol);
  if (d == NULL)
    return ir_error(IR_ENOMEM, "out of memory (ODE driver, %zu unknowns)", n);

  double t = 0;
  size_t used = 0;
  int s = IR_OK;
  for (size_t j = 0; j < nt && s == IR_OK; j++) {
    if (times[j] > t) {
      /* GSL reads a limit of 0 as "none": an exhausted budget fails here. */
      if (used >= p->max_steps) {
        s = ir_error(IR_ENOCONV,
                     "the %s stepper exceeded its budget of %zu steps at t = "
                     "%.6g of %.6g (%s)",
                     ir_flow_stepper_name(st), p->max_steps, t, tend,
                     st == IR_FLOW_MSBDF
                         ? "raise the budget or loosen the tolerance"
                         : "a stiff problem: use the implicit stepper msbdf "
                           "or raise the budget");
        break;
      }
      gsl_odeiv2_driver_set_nmax(d, p->max_steps - used);
      /* split: at least two steps in every output interval. */
      if (split && st == IR_FLOW_RK8PD) {
        /* The driver applies hmax only after a step: the carried step is
         * clipped here too (rk8pd keeps no history to reset). */
        const double hmax = 0.5 * (times[j] - t);
        if (d->h > hmax)
          d->h = hmax;
        gsl_odeiv2_driver_set_hmax(d, hmax);
      }
      int g = gsl_odeiv2_driver_apply(d, &t, times[j], y);
      used += d->n;
      if (g == GSL_EBADFUNC) {
        s = x->status != IR_OK ? x->status
                               : ir_error(IR_EINTERNAL, "flow callback failed");
        ir_error_context(s, "flow at t = %.6g", t);
      } else if (g == GSL_EMAXITER) {
        s = ir_error(IR_ENOCONV,
                     "the %s stepper exceeded its budget of %zu steps at t = "
                     "%.6g of %.6g (%s)",
                     ir_flow_stepper_name(st), p->max_steps, t, tend,
                     st == IR_FLOW_MSBDF
                         ? "raise the budget or loosen the tolerance"
                         : "a stiff problem: use the implicit stepper msbdf or "
                           "raise the budget");
      } else if (g != GSL_SUCCESS) {
        s = ir_error(IR_ENOCONV,
                     "the %s stepper failed at t = %.6g of %.6g (GSL: %s)",
                     ir_flow_stepper_name(st), t, tend, gsl_strerror(g));
      }
    }
    if (s == IR_OK) {
      for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]))
          s = ir_error(IR_EDIVERGE,
                       "the flow left the finite numbers at t = "
                       "%.6g",
                       t);
    }
    if (s == IR_OK) {
      gsl_vector_view row = gsl_matrix_row(out, j);
      gsl_vector_const_view yv = gsl_vector_const_view_array(y, n);
      gsl_vector_memcpy(&row.vector, &yv.vector);
      if (at)
        at[j] = used;
    }
  }
  *steps += used;
  gsl_odeiv2_driver_free(d);
  return s;
}

int ir_flow_solve(ir_model *m, const ir_flow_params *p,
                  const gsl_vector *theta0, const double *times, size_t nt,
                  gsl_matrix *out, double *err, ir_flow_result *res) {
  int s = ir_flow_params_check(p);
  if (s != IR_OK)
    return s;
  const size_t n = m->nparams;
  if (theta0->size != n || theta0->stride != 1 || out->size1 != nt ||
      out->size2 != n)
    return ir_error(IR_ESHAPE,
                    "flow: theta0 has length %zu and out is %zux%zu; need %zu "
                    "and %zux%zu",
                    theta0->size, out->size1, out->size2, n, nt, n);
  if (nt == 0)
    return ir_error(IR_EINVAL, "flow: no output times");
  for (size_t j = 0; j < nt; j++)
    if (!isfinite(times[j]) || times[j] < 0 ||
        (j > 0 && times[j] < times[j - 1]))
      return ir_error(IR_EINVAL,
                      "flow: output time %zu is %g; times must be finite, >= "
                      "0 and nondecreasing",
                      j, times[j]);
  double th_inf = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(theta0->data[i]))
      return ir_error(IR_EBADDATA, "flow: theta0[%zu] is %g", i,
                      theta0->data[i]);
    th_inf = fmax(th_inf, fabs(theta0->data[i]));
  }
  if (p->stepper == IR_FLOW_MSBDF && n > IR_FLOW_MSBDF_MAX_PARAMS)
    return ir_error(IR_EINVAL,
                    "the implicit stepper needs a dense %zu x %zu Jacobian; "
                    "it is limited to %d parameters (use rk8pd)",
                    n, n, IR_FLOW_MSBDF_MAX_PARAMS);
  const double atol = p->atol >= 0 ? p->atol : p->rtol * fmax(th_inf, 1.0);
  ir_flow_ctx x;
  if ((s = ir_flow_ctx_init(&x, m, p)) != IR_OK)
    return s;
  memset(res, 0, sizeof *res);
  res->err_max = NAN;
  double *y = malloc(n * sizeof(double));
  size_t *at = malloc(2 * nt * sizeof(size_t)); /* steps up to each output */
  gsl_matrix *tight = p->global_error ? gsl_matrix_alloc(nt, n) : NULL;
  if (y == NULL || at == NULL || (p->global_error && tight == NULL)) {
    s = ir_error(IR_ENOMEM, "out of memory (flow, %zu x %zu outputs)", nt, n);
    goto done;
  }
  ir_flow_stepper st =
      p->stepper == IR_FLOW_MSBDF ? IR_FLOW_MSBDF : IR_FLOW_RK8PD;
  s = ir_flow_integrate(&x, st, p->rtol, atol, 0, theta0, times, nt, out, y,
                        &res->nsteps, at);
  if (s == IR_ENOCONV && p->stepper == IR_FLOW_AUTO &&
      n <= IR_FLOW_MSBDF_MAX_PARAMS) {
    /* rk8pd ran out of steps: a stiff problem; the implicit stepper takes
     * steps its accuracy allows rather than its stability region. */
    ir_error_clear();
    st = IR_FLOW_MSBDF;
    s = ir_flow_integrate(&x, st, p->rtol, atol, 0, theta0, times, nt, out, y,
                          &res->nsteps, at);
  }
  if (s == IR_OK && p->global_error) {
    /* The tight run also takes at least two steps per output interval:
     * when the outputs, not the tolerance, set the loose run's steps (one
     * per interval), a tighter tolerance alone would repeat the same steps
     * and the difference would check nothing. */
    s = ir_flow_integrate(&x, st, p->rtol / 100, atol / 100, 1, theta0, times,
                          nt, tight, y, &res->nsteps, at + nt);
    if (s == IR_OK) {
      res->err_max = 0;
      /* Rounding alone leaves an error of order eps·‖θ‖·√(steps): the
       * estimate never goes below that (two runs can agree by accident). */
      for (size_t j = 0; j < nt; j++) {
        gsl_vector_view a = gsl_matrix_row(out, j);
        gsl_vector_view b = gsl_matrix_row(tight, j);
        const double bn = gsl_blas_dnrm2(&b.vector);
        const double k = (double)(at[j] > at[nt + j] ? at[j] : at[nt + j]);
        gsl_vector_sub(&a.vector, &b.vector);
        double e = fmax(gsl_blas_dnrm2(&a.vector), DBL_EPSILON * bn * sqrt(k));
        if (err)
          err[j] = e;
        res->err_max = fmax(res->err_max, e);
      }
      gsl_matrix_memcpy(out, tight);
    }
  } else if (s == IR_OK && err) {
    for (size_t j = 0; j < nt; j++)
      err[j] = NAN;
  }
  res->used = st;
done:
  res->nevals = x.nevals;
  res->njac = x.njac;
  free(y);
  free(at);
  if (tight)
    gsl_matrix_free(tight);
  ir_flow_ctx_free(&x);
  return s;
}
